"""The analyzer client: the pack started as the CLI starts it, spoken to over gRPC as the engine does."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi.runtime.proto import analyzer_pb2

from preflight import policy_config
from preflight.analysis import is_cannot_judge
from preflight.analyzer import AnalyzerError, PolicyPack
from preflight.model import ADVISORY, DISABLED, MANDATORY, Diagnostic
from preflight.policy_config import PolicyConfigError, policies_of, resolve_policy_config
from preflight.recorder import Recording, record
from tests.conftest import ROOT

HERE = Path(__file__).parent
TINY_PACK = HERE / "packs" / "tiny"
PROJECT = HERE / "project"


def info_with(*policies: analyzer_pb2.PolicyInfo, initial: dict | None = None) -> analyzer_pb2.AnalyzerInfo:
    info = analyzer_pb2.AnalyzerInfo(name="demo-pack", policies=list(policies))
    for name, config in (initial or {}).items():
        info.initialConfig[name].CopyFrom(config)
    return info


def rule(name: str, level: int = analyzer_pb2.ADVISORY, schema: dict | None = None) -> analyzer_pb2.PolicyInfo:
    policy = analyzer_pb2.PolicyInfo(name=name, description=f"{name}.", enforcementLevel=level)
    if schema is not None:
        policy.configSchema.properties.update(schema)
    return policy


PORTS = {"ports": {"type": "array", "items": {"type": "integer"}, "default": [443]}}


class TestPolicyConfig:
    @pytest.fixture(autouse=True)
    def cache(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        monkeypatch.setattr(policy_config, "_VALID", set())
        return tmp_path / "shipshape-preflight"

    def test_valid_options_are_validated_once_then_remembered(
        self, cache: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        info = info_with(rule("open-ports", schema=PORTS))
        assert resolve_policy_config(info, {"open-ports": {"ports": [80]}})[1] == {"open-ports": {"ports": [80]}}
        assert len(list(cache.glob("config-valid-*"))) == 1
        monkeypatch.setattr(policy_config, "_VALID", set())  # a later run: only the marker file remembers
        monkeypatch.setitem(sys.modules, "jsonschema", None)  # importing jsonschema now fails
        assert resolve_policy_config(info, {"open-ports": {"ports": [80]}})[1] == {"open-ports": {"ports": [80]}}
        with pytest.raises(ImportError):  # other options are validated afresh
            resolve_policy_config(info, {"open-ports": {"ports": [81]}})

    def test_invalid_options_are_never_remembered(self, cache: Path) -> None:
        info = info_with(rule("open-ports", schema=PORTS))
        for _ in range(2):
            with pytest.raises(PolicyConfigError, match="'x' is not of type 'integer'"):
                resolve_policy_config(info, {"open-ports": {"ports": ["x"]}})
        assert not list(cache.glob("config-valid-*"))

    def test_rule_levels_then_all_then_each_rule(self) -> None:
        info = info_with(rule("a", analyzer_pb2.MANDATORY), rule("b"), rule("c"))
        assert resolve_policy_config(info, {})[0] == {"a": MANDATORY, "b": ADVISORY, "c": ADVISORY}
        levels, _ = resolve_policy_config(
            info, {"all": "disabled", "b": "mandatory", "c": {"enforcementLevel": "advisory"}}
        )
        assert levels == {"a": DISABLED, "b": MANDATORY, "c": ADVISORY}

    def test_schema_defaults_fill_options_and_given_options_win(self) -> None:
        info = info_with(rule("open-ports", schema=PORTS))
        assert resolve_policy_config(info, {})[1] == {"open-ports": {"ports": [443]}}
        levels, options = resolve_policy_config(info, {"open-ports": {"ports": [80, 443]}})
        assert options == {"open-ports": {"ports": [80, 443]}}
        assert levels == {"open-ports": ADVISORY}, "an object without enforcementLevel keeps the level"

    def test_the_packs_initial_config_applies_before_the_file(self) -> None:
        initial = analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.MANDATORY)
        initial.properties.update({"ports": [22]})
        info = info_with(rule("open-ports", schema=PORTS), initial={"open-ports": initial})
        assert resolve_policy_config(info, {}) == ({"open-ports": MANDATORY}, {"open-ports": {"ports": [22]}})

    def test_every_problem_is_named_together(self) -> None:
        info = info_with(rule("open-ports", schema=PORTS), rule("plain"))
        document = {
            "no-such-rule": "mandatory",
            "open-ports": {"ports": ["http"], "enforcementLevel": "blocking"},
            "plain": {"color": "red"},
        }
        with pytest.raises(PolicyConfigError) as caught:
            resolve_policy_config(info, document)
        message = str(caught.value)
        assert message.startswith("policy config problems:\n")
        assert "no-such-rule: no such rule in policy pack demo-pack" in message
        assert "open-ports: enforcement level 'blocking' is not one of advisory, mandatory, disabled, remediate" in (
            message
        )
        assert "open-ports: ports.0: 'http' is not of type 'integer'" in message
        assert "plain: takes no options, got color" in message


@pytest.mark.parametrize(
    ("message", "description", "expected"),
    [
        ("can't run policy 'x' from policy pack 'p@v1' during preview: string value at .a can't be known", "", True),
        ("Checks x.\ncannot judge yet: policy unknown during preview", "Checks x.", True),
        ("Checks x.\nthe policy allows *", "Checks x.", False),
        ("Checks x.\nsee 'cannot judge yet' in the docs", "Checks x.", False),
    ],
)
def test_cannot_judge_is_detected_from_either_wording(message: str, description: str, expected: bool) -> None:
    assert is_cannot_judge(message, description) is expected


# --- over gRPC against real pack processes -------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_recording() -> Recording:
    return record(PROJECT, "test")


@pytest.fixture(scope="module")
def tiny_pack(tiny_recording: Recording) -> Iterator[PolicyPack]:
    with PolicyPack(
        TINY_PACK, project=tiny_recording.project, stack=tiny_recording.stack, config=tiny_recording.config
    ) as pack:
        yield pack


def seen(diagnostics: list[Diagnostic], name: str) -> dict:
    (found,) = [d for d in diagnostics if d.policy == "tiny-what-the-engine-sent" and d.urn.endswith(f"::{name}")]
    return json.loads(found.message.split("seen ", 1)[1])


@pytest.mark.slow
class TestTinyPack:
    def test_info_lists_rules_with_their_kind_and_schema(self, tiny_pack: PolicyPack) -> None:
        policies = {p.name: p for p in policies_of(tiny_pack.info())}
        assert tiny_pack.info().name == "tiny-pack"
        assert set(policies) == {
            "tiny-required-tags",
            "tiny-no-wildcard-policy",
            "tiny-protected-tables",
            "tiny-what-the-engine-sent",
            "tiny-stack-shape",
        }
        assert policies["tiny-stack-shape"].kind == "stack"
        assert policies["tiny-required-tags"].level == MANDATORY
        assert policies["tiny-required-tags"].config_schema["properties"]["tags"]["default"] == ["team"]

    def test_options_reach_the_pack_and_the_stack_resource_is_judged(
        self, tiny_pack: PolicyPack, tiny_recording: Recording
    ) -> None:
        levels = tiny_pack.configure(
            {"tiny-required-tags": {"tags": ["team", "owner"]}, "tiny-stack-shape": "mandatory"}
        )
        assert levels["tiny-stack-shape"] == MANDATORY
        diagnostics = tiny_pack.analyze(tiny_recording.resources)
        missing = [d for d in diagnostics if d.policy == "tiny-required-tags"]
        assert {d.urn.rsplit("::", 1)[1] for d in missing} == {"store-0", "store-1"}
        assert all(d.level == MANDATORY and d.message.endswith("missing tags: owner") for d in missing)

    def test_the_pack_sees_parents_options_and_the_default_provider(
        self, tiny_pack: PolicyPack, tiny_recording: Recording
    ) -> None:
        tiny_pack.configure({})
        diagnostics = tiny_pack.analyze(tiny_recording.resources)
        table = seen(diagnostics, "store-table")
        assert table["parent"] == "urn:pulumi:test::tiny::tiny:storage:Storage::store"
        assert (table["protect"], table["ignoreChanges"]) == (True, ["tags"])
        assert table["provider"] == "urn:pulumi:test::tiny::pulumi:providers:aws::default"
        assert table["providerRegion"] == "eu-west-1"
        assert not [d for d in diagnostics if d.policy == "tiny-protected-tables"], "the table is protected"

    def test_analyze_stack_gets_parents_and_dependencies(
        self, tiny_pack: PolicyPack, tiny_recording: Recording
    ) -> None:
        tiny_pack.configure({"tiny-stack-shape": {"maxResources": 3}})
        (found,) = [d for d in tiny_pack.analyze(tiny_recording.resources) if d.policy == "tiny-stack-shape"]
        assert found.urn == ""
        reported = json.loads(found.message.split("too many resources ", 1)[1])
        assert reported["parents"] == ["store-0<store", "store-1<store", "store-table<store"]
        assert "reader>store-0" in reported["dependencies"] and "reader>reader" in reported["dependencies"]
        assert "pulumi:pulumi:Stack::tiny-test" in reported["resources"]

    def test_unknown_values_give_cannot_judge_not_an_error(self) -> None:
        recording = record(PROJECT, "test", unknowns=True)
        with PolicyPack(TINY_PACK, project="tiny", stack="test", config=recording.config) as pack:
            pack.configure({})
            diagnostics = pack.analyze(recording.resources)
        (wildcard,) = [d for d in diagnostics if d.policy == "tiny-no-wildcard-policy"]
        assert wildcard.cannot_judge and wildcard.level == ADVISORY
        assert wildcard.urn.endswith("aws:iam/rolePolicy:RolePolicy::reader")

    def test_progress_counts_every_resource(self, tiny_pack: PolicyPack, tiny_recording: Recording) -> None:
        tiny_pack.configure({})
        calls: list[tuple[int, int]] = []
        tiny_pack.analyze(tiny_recording.resources, progress=lambda done, total: calls.append((done, total)))
        total = len(tiny_recording.resources)
        assert calls == [(done, total) for done in range(1, total + 1)]


@pytest.mark.slow
def test_a_pack_that_fails_to_start_shows_its_stderr(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text("raise SystemExit('the pack cannot load its rules')\n")
    with pytest.raises(AnalyzerError, match=r"failed to start:\nthe pack cannot load its rules"):
        PolicyPack(tmp_path, project="p", stack="s", config={}).start(timeout=20)


def test_a_directory_without_a_pack_is_named(tmp_path: Path) -> None:
    with pytest.raises(AnalyzerError, match=r"no __main__.py in "):
        PolicyPack(tmp_path, project="p", stack="s", config={}).start()


@pytest.mark.slow
def test_the_repository_pack_lists_the_registry_rules() -> None:
    with PolicyPack(ROOT / "policies", project="shipshape", stack="dev", config={"aws:region": "eu-west-1"}) as pack:
        names = {policy.name for policy in policies_of(pack.info())}
        pack.configure(json.loads((ROOT / "policies" / "config" / "dev.json").read_text()))
        empty = pack.analyze([])
    assert {"aws-ecr-repository-scan-on-push", "aws-ecr-no-public-repositories"} <= names
    assert not [d for d in empty if d.level == MANDATORY], "an empty stack violates no mandatory rule"
