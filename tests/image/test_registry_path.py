"""The image's way through a registry: short-lived login, push, digest, pull by digest, run again.

The registry is Debian's docker-registry with htpasswd auth and a user made for this run, standing in
for ECR's 12-hour token; it answers to an ECR host name over verified TLS (tests/image/engine.py).
"""

from __future__ import annotations

import pytest

from tests.image.conftest import get
from tests.image.engine import REGISTRY_HOST, REPOSITORY

pytestmark = [pytest.mark.image, pytest.mark.slow, pytest.mark.timeout(3600)]


def test_docker_hub_is_out_of_reach_so_no_base_can_come_from_it(engine):
    pulled = engine.docker("pull", "python:3.11-slim", check=False)

    assert pulled.returncode != 0
    assert "registry-1.docker.io" in pulled.stderr and "connection refused" in pulled.stderr, pulled.stderr


def test_the_registry_refuses_a_wrong_password_and_anonymous_pulls(engine, pushed):
    wrong = engine.docker(
        "login", "--username", engine.registry.username, "--password-stdin", REGISTRY_HOST,
        input="not-the-password", check=False,
    )  # fmt: skip
    anonymous = engine.docker("pull", pushed.reference, check=False)

    assert wrong.returncode != 0 and "unauthorized" in wrong.stderr.lower(), wrong.stderr
    assert anonymous.returncode != 0 and "no basic auth credentials" in anonymous.stderr, anonymous.stderr


def test_pushed_image_comes_back_by_digest_into_an_empty_engine_and_runs(engine, app_image, pushed, run_container):
    registry = engine.registry
    everything = engine.docker("images", "--all", "--quiet").stdout.split()
    engine.docker("image", "rm", "--force", *sorted(set(everything)))
    assert engine.docker("images", "--all", "--quiet").stdout.split() == []

    engine.docker("login", "--username", registry.username, "--password-stdin", REGISTRY_HOST, input=registry.password)
    try:
        engine.docker("pull", pushed.reference, timeout=600)
    finally:
        engine.docker("logout", REGISTRY_HOST)
    pulled = engine.docker("image", "inspect", "--format", "{{.Id}} {{json .RepoDigests}}", pushed.reference)
    container = run_container(pushed.reference, APP_VERSION="pulled")

    image_id, repo_digests = pulled.stdout.split(" ", 1)
    assert image_id == app_image  # the same content, addressed by the same config digest
    assert f"{REGISTRY_HOST}/{REPOSITORY}@{pushed.digest}" in repo_digests
    assert get(container.port, "/")[1]["version"] == "pulled"
    assert get(container.port, "/health") == (200, {"status": "ok"})
