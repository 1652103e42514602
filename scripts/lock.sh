#!/usr/bin/env bash
# Regenerate every lock (`make lock`): requirements.txt (the program and preflight), policies/requirements.txt
# (the pack), and the test environments' locks, each pinned with hashes of PyPI's files.
#
# Inputs are pyproject.toml's [project] dependencies and the *.in files; edit those, never the locks. Existing pins are kept unless an input needs
# another version; UPGRADE=1 moves every pin to the newest release the inputs allow.
#
# Reproducible from any machine: resolution uses PyPI alone, ignoring pip's and uv's configuration (extra
# or local indexes, find-links, constraints) and their environment variables, and targets Python 3.11+ on
# every platform (`--universal`), so the lock does not depend on where it was made.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.8
UV=.tools/uv/bin/uv
INDEX=https://pypi.org/simple

if ! [ -x "$UV" ] || [ "$("$UV" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    echo "installing uv $UV_VERSION into .tools/uv (locking only)" >&2
    "${PYTHON:-python3}" -m venv .tools/uv
    .tools/uv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

# Only what uv needs to run: no UV_* or PIP_* settings reach the resolver.
clean_env=(env -i "PATH=$PATH" "HOME=${HOME:-/tmp}")
for name in SSL_CERT_FILE SSL_CERT_DIR HTTPS_PROXY HTTP_PROXY NO_PROXY https_proxy http_proxy no_proxy; do
    if [ -n "${!name:-}" ]; then clean_env+=("$name=${!name}"); fi
done
upgrade=()
if [ -n "${UPGRADE:-}" ]; then upgrade=(--upgrade); fi

compile() { # OUTPUT INPUT... [uv options...]
    local output=$1
    shift
    echo "locking $output" >&2
    "${clean_env[@]}" "$UV" pip compile --quiet --no-config --universal --python-version 3.11 \
        --generate-hashes --index-url "$INDEX" --custom-compile-command "make lock" \
        "${upgrade[@]}" "$@" --output-file "$output"
}

# The pack's lock first (pulumi-policy bounds protobuf); the others agree with it wherever they share a
# package (pulumi, grpcio, protobuf), so every environment runs the same Pulumi SDK.
# The program's requirements are pyproject.toml's [project] dependencies, what `pip install .` needs too.
compile policies/requirements.txt policies/requirements.in
compile requirements.txt pyproject.toml --constraint policies/requirements.txt
compile policies/requirements-test.txt policies/requirements-test.in --constraint policies/requirements.txt
compile requirements-dev.txt pyproject.toml requirements-dev.in \
    --constraint requirements.txt --constraint policies/requirements.txt
