"""Generated stack files: a valid one previews, an invalid one stops with exit 2 naming every bad key at once.

Each example is the dev stack file with some keys changed, each either to another value AWS accepts or to one
it refuses. Keys that are only judged together (cpu and memory, the counts, the health check timings, NAT and
endpoints, the certificate, the architecture and the host's instance type) change together, so whether a value
is valid never depends on what another group drew. The verdict is what `python -m preflight` decides before it
asks the policy pack (the pack's own 0/1 is not about the stack file): the stack file read as the CLI reads it,
then the program's settings check on the values, every problem merged into one report.
"""

from __future__ import annotations

import itertools
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preflight.recorder import ProgramError, record
from preflight.stack_config import ConfigError, ConfigValueError, load_stack_config
from tests.conftest import ROOT

NS = "shipshape"
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"

# group -> (valid choices, invalid choices with the keys they make bad); a choice sets every key of its group.
GROUPS: dict[str, tuple[list[dict], list[tuple[dict, set[str]]]]] = {
    "size": (
        [{"cpu": 256, "memory": 512}, {"cpu": 512, "memory": 1024}, {"cpu": 4096, "memory": 8192}],
        [
            ({"cpu": 300, "memory": 512}, {"cpu"}),
            ({"cpu": 256, "memory": 4096}, {"memory"}),
            ({"cpu": 1024, "memory": "lots"}, {"memory"}),
            ({"cpu": 300, "memory": True}, {"cpu", "memory"}),
        ],
    ),
    "counts": (
        [{"minCount": 1, "desiredCount": 1, "maxCount": 2}, {"minCount": 2, "desiredCount": 3, "maxCount": 6}],
        [
            ({"minCount": 2, "desiredCount": 1, "maxCount": 4}, {"desiredCount"}),
            ({"minCount": 5, "desiredCount": 5, "maxCount": 2}, {"maxCount"}),
            ({"minCount": 0, "desiredCount": 1, "maxCount": 2}, {"minCount"}),
        ],
    ),
    "health": (
        [{"healthCheckIntervalSeconds": 10, "healthCheckTimeoutSeconds": 5}, {"healthCheckIntervalSeconds": 30}],
        [
            ({"healthCheckIntervalSeconds": 5, "healthCheckTimeoutSeconds": 5}, {"healthCheckTimeoutSeconds"}),
            ({"healthCheckIntervalSeconds": 3, "healthCheckTimeoutSeconds": 2}, {"healthCheckIntervalSeconds"}),
        ],
    ),
    "nat": (
        [{"natGateways": "Single", "vpcEndpoints": False}, {"natGateways": "None", "vpcEndpoints": True}],
        [({"natGateways": "None", "vpcEndpoints": False}, {"natGateways"}), ({"natGateways": "Two"}, {"natGateways"})],
    ),
    "listener": (
        [{"certificateArn": CERT, "allowHttpWithoutCertificate": False}, {"allowHttpWithoutCertificate": True}],
        [
            ({"allowHttpWithoutCertificate": False}, {"certificateArn"}),
            ({"certificateArn": CERT.replace("eu-west-1", "us-east-1")}, {"certificateArn"}),
        ],
    ),
    "host": (
        [
            {"architecture": "x86_64", "hostInstanceType": "m7i.large"},
            {"architecture": "arm64", "hostInstanceType": "t4g.small"},
        ],
        [
            ({"architecture": "arm64", "hostInstanceType": "t3.micro"}, {"hostInstanceType"}),
            ({"hostInstanceType": "t3.mega"}, {"hostInstanceType"}),
            ({"architecture": "i386"}, {"architecture"}),
        ],
    ),
}
SINGLE_KEYS: dict[str, tuple[list, list]] = {
    "vpcCidr": (["10.20.0.0/20", "172.16.0.0/16", "100.64.0.0/16"], ["10.0.0.0/8", "169.254.0.0/16", "240.0.0.0/16"]),
    "availabilityZones": ([2, 3], [1, 4, "two"]),
    "containerPort": ([1024, 9000, 65535], [80, 70000, "http"]),
    "healthCheckPath": (["/health", "/ready/now"], ["health", "/health?x='1'", "/h\u00e9alth", "/" + "x" * 200_000]),
    "logRetentionDays": ([14, 365], [10, 0]),
    "stopTimeoutSeconds": ([30, 120], [121, 5]),
    "repositoryName": (["shipshape/web", "team/app-1"], ["Shipshape", "a"]),
    "hostEnabled": ([True, False], ["on", "yes"]),
    "environment": ([["GREETING=hi"], []], [["PORT=1"], ["DB_PASSWORD=x"], ["A=1", "A=2"]]),
    "pullPrincipals": ([["123456789012"], []], [["*"], ["arn:aws:iam::123456789012:role/r\u00f4le"]]),
    "tags": (
        [["team=platform"], ["\u00e9quipe=web"]],
        [["aws:owner=me"], ["team=<x>"], [f"k{n}=v" for n in range(47)]],
    ),
    "hostAllowedCidrs": ([["10.1.0.0/16"], []], [["8.8.8.0/24"], ["10.1.0.0/16", "10.1.0.0/16"]]),
}


@st.composite
def stack_files(draw: st.DrawFn) -> tuple[dict, set[str]]:
    """(the config mapping of a stack file, the namespaced keys it gets wrong)."""
    config = dict(yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"])
    bad: set[str] = set()
    for name in draw(st.sets(st.sampled_from(sorted(GROUPS)))):
        valid, invalid = GROUPS[name]
        if draw(st.booleans()):
            changes, wrong = draw(st.sampled_from(invalid))
            bad |= {f"{NS}:{key}" for key in wrong}
        else:
            changes = draw(st.sampled_from(valid))
        config.update({f"{NS}:{key}": value for key, value in changes.items()})
    for key in draw(st.sets(st.sampled_from(sorted(SINGLE_KEYS)))):
        valid, invalid = SINGLE_KEYS[key]
        if draw(st.booleans()):
            config[f"{NS}:{key}"] = draw(st.sampled_from(invalid))
            bad.add(f"{NS}:{key}")
        else:
            config[f"{NS}:{key}"] = draw(st.sampled_from(valid))
    if draw(st.booleans()):
        config[f"{NS}:desiredCont"] = 1
        bad.add(f"{NS}:desiredCont")
    return config, bad


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project directory with this repository's Pulumi.yaml; the program is the repository's own."""
    directory = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "Pulumi.yaml", directory)
    return directory


def verdict(project_dir: Path, stack: str) -> tuple[int, str]:
    """What `python -m preflight` decides before asking the pack (preflight/cli.py): 2 with the message for a
    config or program error, 0 when the program records."""
    program = ROOT / "__main__.py"
    try:
        config = load_stack_config(project_dir, stack)
    except ConfigValueError as error:
        try:
            record(project_dir, stack, program=program, config=error.config)
        except ProgramError as program_error:
            return 2, error.merged_with(program_error.message)
        return 2, str(error)
    except ConfigError as error:
        return 2, str(error)
    try:
        record(project_dir, stack, program=program, config=config)
    except ProgramError as error:
        return 2, error.message
    return 0, ""


NAMES = (f"g{n}" for n in itertools.count())


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=timedelta(seconds=10),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=stack_files())
def test_generated_stack_files_are_judged_in_one_run(project: Path, case: tuple[dict, set[str]]) -> None:
    config, bad = case
    stack = next(NAMES)
    (project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}, allow_unicode=True))
    code, message = verdict(project, stack)
    assert "Traceback" not in message
    if not bad:
        assert code == 0, message
    else:
        assert code == 2
        missing = sorted(key for key in bad if key not in message)
        assert missing == [], f"not named: {missing}\n{message[:2000]}"
        assert all(len(line) < 600 for line in message.splitlines()), "a value echoed whole"


def test_the_generator_knows_every_group_and_key_the_stack_declares() -> None:
    declared = set(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"])
    generated = set(SINGLE_KEYS) | {key for valid, _ in GROUPS.values() for choice in valid for key in choice}
    assert generated <= declared, sorted(generated - declared)
