"""A real container engine and registry for the image tests, started and stopped by PID.

- Debian's packages: docker.io (dockerd 20.10 with BuildKit), docker-registry (the CNCF distribution
  registry), debootstrap, apache2-utils (htpasswd); installed with apt-get when missing.
- dockerd runs as root with its own data root, exec root, pidfile and socket in a scratch directory. It
  runs in a private mount namespace whose /etc/hosts names the registry after an ECR host and sends
  Docker Hub's names to a closed address (nothing may pull from it), and whose /etc/docker holds the
  registry's CA (dockerd reads registry CAs from /etc/docker/certs.d/<host>/, a fixed path:
  moby registry/config_unix.go defaultCertsDir), so TLS to the registry is verified as against ECR.
- The registry serves TLS on port 443 of a loopback address of its own, with htpasswd auth and one
  user whose password is made for this run (it stands in for ECR's 12-hour token).
- The base image is made offline from Debian's packages with debootstrap (bookworm: Python 3.11),
  cached as a tarball under a content key, and imported with `docker import`.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import random
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_DIR = ROOT / "app"

# The commands the suite needs and the Debian package of each.
PACKAGES = {
    "dockerd": "docker.io",
    "docker": "docker.io",
    "docker-registry": "docker-registry",
    "debootstrap": "debootstrap",
    "htpasswd": "apache2-utils",
    "openssl": "openssl",
    "unshare": "util-linux",
    "curl": "curl",
}
# Where root's commands live, whatever PATH the tests run with (dockerd is in /usr/sbin on Debian, in
# /usr/bin from Docker's own packages).
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
# Debian's docker CLI, never another one earlier on PATH: it matches the engine's API version.
DOCKER = "/usr/bin/docker"
# The registry answers to an ECR host name, so the host's user data runs with a real-looking reference.
REGISTRY_HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
REPOSITORY = "shipshape/web"
# Docker Hub's names, pointed at an address where nothing listens: a pull from it fails at once.
DOCKER_HUB_NAMES = (
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "auth.docker.io",
    "production.cloudflare.docker.com",
)
HUB_SINKHOLE = "127.255.255.254"

# The test base: what debootstrap installs. python3-venv brings ensurepip, which the Dockerfile uses.
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = os.environ.get("SHIPSHAPE_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BASE_PACKAGES = ("python3", "python3-venv")
# The host's CA bundle: this network re-signs TLS, so pip inside the build must trust the host's CAs.
# It goes into the test base only; the shipped Dockerfile never names it.
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# Bump when the recipe below changes in a way the key does not see.
BASE_RECIPE_VERSION = 1


class EngineUnavailable(RuntimeError):
    """The engine cannot run on this machine; the message says why and what would fix it."""


def cache_dir() -> Path:
    """Where the base tarball is kept between runs (CI can cache this directory)."""
    explicit = os.environ.get("SHIPSHAPE_IMAGE_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "shipshape" / "image"


def run(args: Sequence[str], *, timeout: float = 600, env: dict[str, str] | None = None, **kwargs):
    """subprocess.run that raises with the command's own output when it fails."""
    completed = subprocess.run(
        list(args), capture_output=True, text=True, timeout=timeout, env=env, check=False, **kwargs
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} exited with {completed.returncode}:\n{completed.stdout}\n{completed.stderr}"
        )
    return completed


def ensure_packages() -> float:
    """Install the engine's Debian packages when any is missing; returns the seconds it took (0 if none)."""
    if os.geteuid() != 0:
        raise EngineUnavailable("the image tests run dockerd, mount namespaces and apt-get, which need root")
    missing = sorted({package for name, package in PACKAGES.items() if shutil.which(name, path=SYSTEM_PATH) is None})
    if not missing:
        return 0.0
    if shutil.which("apt-get") is None:
        raise EngineUnavailable(f"no apt-get on this machine to install {', '.join(missing)}")
    started = time.monotonic()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-q"], env=env, timeout=900)
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env=env, timeout=1800)
    return time.monotonic() - started


def system_command(name: str) -> str:
    found = shutil.which(name, path=SYSTEM_PATH)
    if found is None:
        raise EngineUnavailable(f"{name} is not installed (Debian package {PACKAGES[name]})")
    return found


def _free_loopback_address(port: int) -> str:
    """A 127.x.y.z address whose `port` is free, so parallel runs and other services never collide."""
    for _ in range(50):
        address = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(2, 254)}"  # noqa: S311
        with socket.socket() as probe:
            try:
                probe.bind((address, port))
            except OSError:
                continue
            return address
    raise EngineUnavailable(f"no loopback address with port {port} free")


# prctl(2) option: a signal the kernel sends the child when the process that started it dies.
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """preexec_fn: when the test process is killed before its teardown runs, the kernel sends SIGTERM to
    the server too (the setting survives exec, so it reaches dockerd through unshare and sh)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def stop_pid(process: subprocess.Popen, name: str, timeout: float = 30.0) -> None:
    """SIGTERM, then SIGKILL after `timeout`: the process this suite started, by its PID only."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
        raise RuntimeError(f"{name} (pid {process.pid}) ignored SIGTERM for {timeout} s and was killed") from None


@dataclass
class Registry:
    """Debian's docker-registry with TLS and htpasswd auth on <address>:443, named REGISTRY_HOST."""

    workdir: Path
    address: str = ""
    username: str = ""
    password: str = ""
    ca_certificate: Path = field(default_factory=Path)
    process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return REGISTRY_HOST

    def prepare(self) -> None:
        """Address, certificate and the run's user; before dockerd starts, which must know them."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.address = _free_loopback_address(443)
        key, self.ca_certificate = self.workdir / "registry.key", self.workdir / "registry.crt"
        run(
            [
                "openssl", "req", "-x509", "-nodes", "-days", "1",
                "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-subj", f"/CN={REGISTRY_HOST}", "-addext", f"subjectAltName=DNS:{REGISTRY_HOST}",
                "-keyout", str(key), "-out", str(self.ca_certificate),
            ]
        )  # fmt: skip
        # The htpasswd file and its one user are made for this run. ECR's user name is always AWS (the
        # host's bootstrap logs in as AWS); its password is a 12-hour token, here a fresh random one.
        self.username = "AWS"
        self.password = secrets.token_urlsafe(24)
        htpasswd = run(["htpasswd", "-Bbn", self.username, self.password]).stdout
        (self.workdir / "htpasswd").write_text(htpasswd)
        config = {
            "version": 0.1,
            "log": {"level": "info", "fields": {"service": "registry"}},
            "storage": {"filesystem": {"rootdirectory": str(self.workdir / "data")}, "delete": {"enabled": True}},
            "http": {
                "addr": f"{self.address}:443",
                "tls": {"certificate": str(self.ca_certificate), "key": str(key)},
            },
            "auth": {"htpasswd": {"realm": "shipshape-test", "path": str(self.workdir / "htpasswd")}},
        }
        # The registry reads YAML; JSON is YAML.
        (self.workdir / "config.yml").write_text(json.dumps(config))

    def start(self) -> None:
        log = (self.workdir / "registry.log").open("wb")
        self.process = subprocess.Popen(
            [system_command("docker-registry"), "serve", str(self.workdir / "config.yml")],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"docker-registry exited with {self.process.returncode}:\n{self.log()}")
            if self.status_of_v2() == 401:
                return
            time.sleep(0.2)
        raise RuntimeError(f"docker-registry did not answer on {self.address}:443 within 30 s:\n{self.log()}")

    def status_of_v2(self) -> int | None:
        """GET /v2/ without credentials over verified TLS: 401 once the registry is up."""
        context = ssl.create_default_context(cafile=str(self.ca_certificate))
        try:
            with (
                socket.create_connection((self.address, 443), timeout=2) as raw,
                context.wrap_socket(raw, server_hostname=REGISTRY_HOST) as tls,
            ):
                tls.sendall(f"GET /v2/ HTTP/1.1\r\nHost: {REGISTRY_HOST}\r\nConnection: close\r\n\r\n".encode())
                status_line = tls.recv(64).decode("latin-1")
        except OSError:
            return None
        return int(status_line.split()[1])

    def log(self) -> str:
        path = self.workdir / "registry.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            stop_pid(self.process, "docker-registry")


@dataclass
class Engine:
    """dockerd in a scratch directory; `docker(...)` runs Debian's CLI against it."""

    workdir: Path
    registry: Registry
    process: subprocess.Popen | None = None

    @property
    def socket(self) -> Path:
        return self.workdir / "docker.sock"

    @property
    def env(self) -> dict[str, str]:
        """The environment for docker commands: this engine, BuildKit, and a client config of its own
        (registry logins land here, never in root's ~/.docker)."""
        return {
            **os.environ,
            "DOCKER_HOST": f"unix://{self.socket}",
            "DOCKER_BUILDKIT": "1",
            "DOCKER_CONFIG": str(self.workdir / "client"),
        }

    def start(self) -> None:
        etc_docker = self.workdir / "etc-docker"
        certs = etc_docker / "certs.d" / REGISTRY_HOST
        certs.mkdir(parents=True)
        shutil.copy(self.registry.ca_certificate, certs / "ca.crt")
        hosts = self.workdir / "hosts"
        lines = ["127.0.0.1 localhost", f"{self.registry.address} {REGISTRY_HOST}"]
        lines += [f"{HUB_SINKHOLE} {name}" for name in DOCKER_HUB_NAMES]
        hosts.write_text("\n".join(lines) + "\n")
        (self.workdir / "client").mkdir()
        state = self.workdir / "state"
        state.mkdir()
        daemon = [
            system_command("dockerd"),
            "--data-root", str(state / "data"),
            "--exec-root", str(state / "exec"),
            "--pidfile", str(self.workdir / "dockerd.pid"),
            "--host", f"unix://{self.socket}",
            "--config-file", str(self._daemon_json()),
        ]  # fmt: skip
        # Images, layers and containers live on a tmpfs only this namespace sees: fast on a busy disk,
        # and gone with dockerd (deleting a data root from disk took minutes on a loaded machine).
        # unshare and sh exec in turn, so the PID we hold is dockerd's own.
        script = (
            'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/docker && mount -t tmpfs tmpfs "$3" '
            '&& shift 3 && exec "$@"'
        )
        namespace = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"]
        log = (self.workdir / "dockerd.log").open("wb")
        self.process = subprocess.Popen(
            [*namespace, str(hosts), str(etc_docker), str(state), *daemon],
            # dockerd finds containerd, runc and docker-proxy (/usr/sbin on Debian) on PATH.
            env={**os.environ, "PATH": SYSTEM_PATH},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EngineUnavailable(f"dockerd exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            if self.socket.exists() and self.docker("version", check=False).returncode == 0:
                return
            time.sleep(0.3)
        raise EngineUnavailable(f"dockerd did not answer within 60 s:\n{self.log()[-4000:]}")

    def _daemon_json(self) -> Path:
        path = self.workdir / "daemon.json"
        # BuildKit for every build, as current engines default to; no daemon.json of the host's applies.
        path.write_text(json.dumps({"features": {"buildkit": True}}))
        return path

    def docker(self, *args: str, check: bool = True, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
        completed = subprocess.run(
            [DOCKER, *args], capture_output=True, text=True, timeout=timeout, env=self.env, check=False, **kwargs
        )
        if check and completed.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)} exited with {completed.returncode}:\n{completed.stderr}")
        return completed

    def log(self) -> str:
        path = self.workdir / "dockerd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        containers = self.docker("ps", "--all", "--quiet", check=False).stdout.split()
        if containers:
            self.docker("rm", "--force", *containers, check=False)
        stop_pid(self.process, "dockerd")


def base_key() -> str:
    """The content key of the test base: the recipe's inputs, the host CA bundle included."""
    recipe = {
        "suite": DEBIAN_SUITE,
        "mirror": DEBIAN_MIRROR,
        "packages": BASE_PACKAGES,
        "ca": hashlib.sha256(HOST_CA_BUNDLE.read_bytes()).hexdigest() if HOST_CA_BUNDLE.exists() else None,
        "recipe": BASE_RECIPE_VERSION,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


# Runs in a private mount namespace: debootstrap's many small writes go to a tmpfs that vanishes with
# the namespace, and only the finished tarball reaches the disk. The host's CA bundle and a pip.conf
# naming it go into this test base only.
BASE_SCRIPT = r"""
set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
scratch=$1 partial=$2 suite=$3 mirror=$4 include=$5 bundle=$6
mount -t tmpfs tmpfs "$scratch"
debootstrap --variant=minbase --include="$include" "$suite" "$scratch/rootfs" "$mirror"
rm -f "$scratch"/rootfs/var/cache/apt/archives/*.deb "$scratch"/rootfs/var/lib/apt/lists/*_*
if [ -f "$bundle" ]; then
  mkdir -p "$scratch/rootfs/etc/ssl/certs"
  cp "$bundle" "$scratch/rootfs/etc/ssl/certs/ca-certificates.crt"
  printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$scratch/rootfs/etc/pip.conf"
fi
tar --numeric-owner -C "$scratch/rootfs" -cf "$partial" .
"""


def base_tarball() -> tuple[Path, float]:
    """The cached root filesystem of the test base, made with debootstrap on a miss; (path, seconds spent)."""
    target = cache_dir() / f"debian-{DEBIAN_SUITE}-python-{base_key()}.tar"
    if target.exists():
        return target, 0.0
    started = time.monotonic()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with tempfile.TemporaryDirectory(prefix="shipshape-base-") as scratch:
        run(
            [
                "unshare", "--mount", "--propagation", "private", "sh", "-c", BASE_SCRIPT, "sh",
                scratch, str(partial), DEBIAN_SUITE, DEBIAN_MIRROR, ",".join(BASE_PACKAGES), str(HOST_CA_BUNDLE),
            ],
            timeout=1800,
        )  # fmt: skip
    partial.rename(target)  # atomic: a failed run never leaves a half-written base under the key
    return target, time.monotonic() - started


def import_base(engine: Engine, tarball: Path) -> str:
    """`docker import` the cached root filesystem; returns the image name the build uses as BASE_IMAGE."""
    name = f"shipshape-test/debian-python:{tarball.stem.rsplit('-', 1)[-1]}"
    with tarball.open("rb") as stream:
        engine.docker("import", "--change", 'CMD ["python3"]', "-", name, stdin=stream, timeout=600)
    return name


@contextlib.contextmanager
def started(workdir: Path):
    """Registry and engine up for the duration of the block, both stopped by PID afterwards."""
    registry = Registry(workdir / "registry")
    registry.prepare()
    engine = Engine(workdir / "engine", registry)
    engine.workdir.mkdir(parents=True)
    try:
        registry.start()
        engine.start()
        yield engine
    finally:
        try:
            engine.stop()
        finally:
            registry.stop()
