#!/usr/bin/env bash
# Prepare a virtualenv from a lock: `scripts/venv.sh VENV LOCK`, e.g.
#   scripts/venv.sh policies/.venv policies/requirements.txt   # the policy pack, where PulumiPolicy.yaml says
#   scripts/venv.sh .venv requirements.txt                     # the program, where Pulumi.yaml says
# The one way every environment is made (make, CI, both workflows): the venv is created when missing and
# the lock installed in pip's hash-checking mode, so each file installed is the one the lock names, whatever
# index pip is configured with. Nothing makes these for you: the Pulumi CLI runs a local pack with the
# interpreter its PulumiPolicy.yaml names and installs nothing for it. Progress goes to stderr only.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 VENV LOCK (e.g. $0 policies/.venv policies/requirements.txt)" >&2
    exit 2
fi
venv=$1
lock=$2
python=${PYTHON:-python3}

if ! [ -f "$lock" ]; then
    echo "$0: no lock file $lock" >&2
    exit 2
fi
if ! [ -x "$venv/bin/python" ]; then
    "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "shipshape needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
    echo "creating $venv" >&2
    "$python" -m venv "$venv"
fi
echo "installing $lock into $venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes --requirement "$lock" >&2
