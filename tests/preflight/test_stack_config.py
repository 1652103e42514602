"""Stack config as the Pulumi CLI loads it: declarations, defaults, stack values, secrets, type errors."""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path

import pytest

from preflight import config_types
from preflight.cli import choose_stack, stacks_in
from preflight.stack_config import SECRET_PLACEHOLDER, ConfigError, load_stack_config, stack_files, type_matches
from preflight.watch import Watcher

PROJECT = """
name: demo
runtime: python
config:
  aws:region:
    value: us-west-2
  size:
    type: integer
    default: 2
  mode:
    type: string
    default: Single
  enabled:
    type: boolean
    default: false
  names:
    type: array
    items:
      type: string
    default: [a, b]
  token:
    type: string
    secret: true
    default: ""
"""


def project(tmp_path: Path, stack: str | None = None, *, definition: str = PROJECT) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(textwrap.dedent(definition))
    if stack is not None:
        (tmp_path / "Pulumi.dev.yaml").write_text(textwrap.dedent(stack))
    return tmp_path


def test_defaults_become_the_strings_the_cli_passes(tmp_path: Path) -> None:
    config = load_stack_config(project(tmp_path, "config: {}\n"), "dev")
    assert config.project == "demo"
    assert config.values == {
        "aws:region": "us-west-2",
        "demo:size": "2",
        "demo:mode": "Single",
        "demo:enabled": "false",
        "demo:names": '["a","b"]',
        "demo:token": "",
    }
    assert config.region == "us-west-2"
    assert config.secret_keys == frozenset()


def test_stack_values_override_defaults(tmp_path: Path) -> None:
    stack = """
    config:
      aws:region: eu-west-1
      demo:size: 5
      demo:enabled: true
      demo:names: [x]
      demo:mode: "OnePerAz"
    """
    config = load_stack_config(project(tmp_path, stack), "dev")
    assert config.values["aws:region"] == "eu-west-1"
    assert config.values["demo:size"] == "5"
    assert config.values["demo:enabled"] == "true"
    assert json.loads(config.values["demo:names"]) == ["x"]
    assert config.values["demo:mode"] == "OnePerAz"


def test_secure_values_become_a_placeholder_marked_secret(tmp_path: Path) -> None:
    stack = """
    config:
      demo:token:
        secure: AAABAHkXvVjEVWzwzkkq2jHHSRPGE0Tv0Kx1cJeLNnhqIvPEj+Y=
    """
    config = load_stack_config(project(tmp_path, stack), "dev")
    assert config.values["demo:token"] == SECRET_PLACEHOLDER
    assert config.secret_keys == frozenset({"demo:token"})


def test_every_type_mismatch_is_listed_together(tmp_path: Path) -> None:
    stack = """
    config:
      demo:size: many
      demo:enabled: "yes"
      demo:names: just-one
      demo:mode: [a, b]
    """
    with pytest.raises(ConfigError) as caught:
        load_stack_config(project(tmp_path, stack), "dev")
    message = str(caught.value)
    assert message.startswith("Pulumi.dev.yaml: 4 config problem(s):")
    assert 'demo:size = "many": expected integer' in message
    assert 'demo:enabled = "yes": expected boolean' in message
    assert 'demo:names = "just-one": expected array<string>' in message
    assert 'demo:mode = ["a", "b"]: expected string' in message


def test_a_secret_declared_key_set_in_plain_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"demo:token: declared secret"):
        load_stack_config(project(tmp_path, "config:\n  demo:token: hunter2\n"), "dev")


def test_undeclared_keys_reach_the_program_as_the_cli_passes_them(tmp_path: Path) -> None:
    """Scalars as their text (config.Value unmarshals them as strings), lists and maps as Go's JSON of what
    yaml.v2 read, secrets inside them replaced and the key marked secret; no check, as under the CLI."""
    stack = """
    config:
      demo:label: hello
      demo:count: 3
      demo:ratio: 3.0
      demo:flag: True
      demo:hex: 0x1F
      demo:when: 2024-01-02
      demo:switch: on
      demo:empty:
      demo:list: [a, 1, 2.50, yes, null, "on", 017]
      demo:map: {b: 1, a: {c: "<x>"}, 1: on}
      demo:login: {user: u, password: {secure: AAABAHkX}}
      demo:config:legacy: x
      other:thing: off
    """
    config = load_stack_config(project(tmp_path, stack), "dev")
    assert {key: value for key, value in config.values.items() if key not in PROJECT_DEFAULTS} == {
        "demo:label": "hello",
        "demo:count": "3",
        "demo:ratio": "3.0",
        "demo:flag": "True",
        "demo:hex": "0x1F",
        "demo:when": "2024-01-02",
        "demo:switch": "on",
        "demo:empty": "",
        "demo:list": '["a",1,2.5,true,null,"on",15]',
        "demo:map": '{"1":true,"a":{"c":"\\u003cx\\u003e"},"b":1}',
        "demo:login": f'{{"password":"{SECRET_PLACEHOLDER}","user":"u"}}',
        "demo:legacy": "x",
        "other:thing": "off",
    }
    assert config.secret_keys == frozenset({"demo:login"})


PROJECT_DEFAULTS = {"aws:region", "demo:size", "demo:mode", "demo:enabled", "demo:names", "demo:token"}

SHORT_HAND = """
name: demo
runtime: python
config:
  replicas: 2
  enabled: yes
  names: [a, b]
  team:
    default: payments
    description: An untyped declaration with a default.
  ratio:
    default: 0.5
  owner:
    description: Untyped, no default, so the stack must set it.
  demo:zone: eu
  aws:region: eu-west-1
  aws:defaultTags:
    value:
      tags: {owner: me}
"""


def test_short_hand_and_untyped_declarations_give_defaults_and_check_nothing(tmp_path: Path) -> None:
    directory = project(tmp_path, "config:\n  demo:owner: 42\n  demo:team: [x]\n", definition=SHORT_HAND)
    assert load_stack_config(directory, "dev").values == {
        "demo:replicas": "2",
        "demo:enabled": "true",
        "demo:names": '["a","b"]',
        "demo:team": '["x"]',
        "demo:ratio": "0.5",
        "demo:owner": "42",
        "demo:zone": "eu",
        "aws:region": "eu-west-1",
        "aws:defaultTags": '{"tags":{"owner":"me"}}',
    }
    (problem,) = problems_of(tmp_path, "config: {}\n", definition=SHORT_HAND)
    assert problem.strip() == "demo:owner: required (no default in Pulumi.yaml) but not set"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("3.0", "3.0"),
        ("0x10", "0x10"),
        ('"12 "', '"12 "'),
        ("[1]", "[1]"),
        ("9223372036854775808", "9223372036854775808"),
    ],
)
def test_a_typed_key_is_refused_as_the_cli_refuses_it(tmp_path: Path, value: str, shown: str) -> None:
    (problem,) = problems_of(tmp_path, f"config:\n  demo:size: {value}\n")
    assert problem.strip() == f"demo:size = {shown}: expected integer"


def test_typed_lists_hold_their_item_type_as_yaml_read_it(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, "config:\n  demo:names: [a, 1]\n")
    assert problem.strip() == 'demo:names = ["a", 1]: expected array<string>'
    assert (
        load_stack_config(project(tmp_path, 'config:\n  demo:names: [a, "1"]\n'), "dev").values["demo:names"]
        == '["a","1"]'
    )


def test_anchors_and_merge_keys_are_read_as_yaml_v2_reads_them(tmp_path: Path) -> None:
    stack = """
    base: &base {region: eu, size: 2}
    config:
      demo:network:
        <<: *base
        size: 3
    """
    assert load_stack_config(project(tmp_path, stack), "dev").values["demo:network"] == '{"region":"eu","size":3}'


def test_stack_files_live_where_stack_config_dir_says(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(textwrap.dedent(PROJECT) + "stackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text("config:\n  demo:size: 9\n")
    assert load_stack_config(tmp_path, "dev").values["demo:size"] == "9"


@pytest.mark.parametrize("spelling", ["stackConfigDir: stacks", "config: stacks"])
def test_stacks_are_listed_and_watched_where_stack_config_dir_says(tmp_path: Path, spelling: str) -> None:
    """Listing (the default stack, `--stack nosuch`) and `--watch` (a changed stack file restarts the pack)
    look in the stack directory, under either spelling of it."""
    (tmp_path / "Pulumi.yaml").write_text(textwrap.dedent(PROJECT).replace("config:\n", "x-config:\n") + spelling)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.staging.yaml").write_text("config:\n  demo:size: 9\n")
    (tmp_path / "stacks" / "Pulumi.prod.yml").write_text("config: {}\n")
    (tmp_path / "Pulumi.stale.yaml").write_text("config: {}\n")  # beside Pulumi.yaml: not a stack here
    assert stack_files(tmp_path) == [
        tmp_path / "stacks" / "Pulumi.prod.yml",
        tmp_path / "stacks" / "Pulumi.staging.yaml",
    ]
    assert stacks_in(tmp_path) == ["prod", "staging"]
    with pytest.raises(ConfigError, match="several stacks; choose one with --stack: prod, staging"):
        choose_stack(tmp_path, None)
    args = argparse.Namespace(project_dir=tmp_path, policy_pack=None, output_dir=None, policy_config=None, program=None)
    watched = Watcher(args, "staging").pack_files()
    assert str(tmp_path / "stacks" / "Pulumi.staging.yaml") in watched
    assert str(tmp_path / "Pulumi.yaml") in watched


def test_stack_files_are_beside_pulumi_yaml_without_a_stack_config_dir(tmp_path: Path) -> None:
    project(tmp_path, "config: {}\n")
    assert stack_files(tmp_path) == [tmp_path / "Pulumi.dev.yaml"]
    assert choose_stack(tmp_path, None) == "dev"


def test_keys_of_other_namespaces_pass_through_untyped(tmp_path: Path) -> None:
    config = load_stack_config(project(tmp_path, "config:\n  aws:skipMetadataApiCheck: false\n"), "dev")
    assert config.values["aws:skipMetadataApiCheck"] == "false"


def test_a_stack_key_without_namespace_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"size: stack config keys need a namespace, e.g. demo:size"):
        load_stack_config(project(tmp_path, "config:\n  size: 3\n"), "dev")


def test_a_declared_key_without_default_must_be_set(tmp_path: Path) -> None:
    definition = PROJECT + "  owner:\n    type: string\n"
    with pytest.raises(ConfigError, match=r"demo:owner: required \(no default in Pulumi.yaml\) but not set"):
        load_stack_config(project(tmp_path, "config: {}\n", definition=definition), "dev")


def test_overrides_merge_over_the_stack_file_like_stack_values(tmp_path: Path) -> None:
    directory = project(tmp_path, "config:\n  demo:size: 5\n")
    config = load_stack_config(directory, "dev", {"demo:size": "7", "enabled": True, "aws:region": "eu-north-1"})
    assert config.values["demo:size"] == "7"
    assert config.values["demo:enabled"] == "true"
    assert config.region == "eu-north-1"
    with pytest.raises(ConfigError, match=r"demo:size = 7.5: expected integer"):
        load_stack_config(directory, "dev", {"demo:size": 7.5})


def test_missing_stack_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^Pulumi.staging.yaml: no such file in "):
        load_stack_config(project(tmp_path), "staging")


def test_bad_yaml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^Pulumi.dev.yaml: not valid YAML: "):
        load_stack_config(project(tmp_path, "config:\n  demo:size: [1,\n"), "dev")


def test_declarations_the_cli_refuses_are_listed(tmp_path: Path) -> None:
    definition = """
    name: demo
    config:
      size:
        type: integer
        default: lots
      names:
        type: array
      label:
        type: string
        default: 5
      mode:
        type: text
      count:
        tpye: integer
      both:
        default: a
        value: b
      ratio: 0.5
      nothing:
      aws:region:
        default: eu-west-1
      aws:profile:
        type: string
        value: x
      gcp:project:
        description: no value
    """
    with pytest.raises(ConfigError) as caught:
        load_stack_config(project(tmp_path, "config: {}\n", definition=definition), "dev")
    assert str(caught.value).splitlines() == [
        "Pulumi.yaml: invalid config:",
        '  demo:size: default "lots" is not of type integer',
        "  demo:names: an array's `items` needs a `type` (one of string, integer, boolean, array)",
        "  demo:label: default 5 is not of type string",
        '  demo:mode: type "text" is not one of string, integer, boolean, array',
        "  demo:count: `tpye` is not allowed in a declaration; did you mean `type`?",
        "  demo:both: give `default` or `value`, not both",
        "  ratio: expected a string, integer, boolean or list, or a declaration; got 0.5",
        "  nothing: expected a string, integer, boolean or list, or a declaration; got null",
        "  aws:region: a key of another namespace takes only `value` (no type or default)",
        "  aws:profile: a key of another namespace takes only `value` (no type or default)",
        "  gcp:project: a key of another namespace must give a `value`",
    ]


@pytest.mark.parametrize(
    ("kind", "value", "ok"),
    [
        ("integer", 3, True),
        ("integer", "3", True),
        ("integer", 3.0, True),
        ("integer", 3.5, False),
        ("integer", True, False),
        ("integer", " 3", False),
        ("boolean", True, True),
        ("boolean", "false", True),
        ("boolean", "no", False),
        ("string", 5, True),
        ("string", {"a": 1}, False),
    ],
)
def test_type_rules_follow_the_cli(kind: str, value: object, ok: bool) -> None:
    assert type_matches(kind, None, value) is ok


def test_repository_stacks_load() -> None:
    root = Path(__file__).resolve().parents[2]
    for stack in ("dev", "prod"):
        config = load_stack_config(root, stack)
        assert config.project == "shipshape"
        assert config.values["aws:region"]


# --- the config-type rules shared with the program's settings (preflight/config_types.py) ----------------


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("integer", 512),
        ("integer", "512"),
        ("integer", "-3"),
        ("integer", " 512"),
        ("integer", "5_12"),
        ("integer", "\uff15\uff11\uff12"),  # full-width digits
        ("integer", True),
        ("integer", 2.0),
        ("boolean", True),
        ("boolean", "false"),
        ("boolean", "yes"),
        ("boolean", "True"),
        ("string", "x"),
        ("string", 3),
        ("array", ["a", "b"]),
        ("array", ["a", 1]),
        ("array", "a"),
    ],
)
def test_what_the_stack_file_check_accepts_the_program_can_read(kind: str, value: object) -> None:
    """One rule per type: a value passes preflight's check exactly when settings can convert what the CLI
    hands the program for it."""
    items = {"type": "string"} if kind == "array" else None
    accepted = config_types.type_matches(kind, items, value)
    try:
        config_types.from_cli_string(kind, items, config_types.to_cli_string(value))
    except config_types.ConfigTypeError:
        readable = False
    else:
        readable = True
    assert accepted == readable


# --- reading the files safely and as every YAML reader would (preflight/config_types.read_yaml) -------------


def problems_of(tmp_path: Path, stack: str, *, definition: str = PROJECT) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_stack_config(project(tmp_path, stack, definition=definition), "dev")
    return str(caught.value).splitlines()[1:]


@pytest.mark.parametrize("scalar", ["on", "yes", "Off", "n", "017", "1_000", "0o17", "12:30"])
def test_a_plain_value_yaml_readers_disagree_on_is_refused_with_advice(tmp_path: Path, scalar: str) -> None:
    (problem,) = problems_of(tmp_path, f"config:\n  demo:mode: {scalar}\n")
    assert problem.strip().startswith("demo:mode (line 2): ")
    assert "reads differently in YAML 1.1 and YAML 1.2" in problem


def test_the_same_values_quoted_are_text(tmp_path: Path) -> None:
    config = load_stack_config(project(tmp_path, 'config:\n  demo:mode: "on"\n  demo:enabled: "true"\n'), "dev")
    assert config.values["demo:mode"] == "on"
    assert config.values["demo:enabled"] == "true"


def test_a_boolean_is_read_as_written_as_the_cli_reads_it(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, "config:\n  demo:enabled: True\n")
    assert problem.strip() == (
        "demo:enabled = True: expected boolean (the CLI reads the text as written: true or false, in lower case)"
    )


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, "config:\n  demo:size: 3\n  demo:size: 4\n")
    assert problem.strip() == "key demo:size (line 3) is given twice; keep one"


def test_every_problem_arrives_in_one_report(tmp_path: Path) -> None:
    stack = "config:\n  demo:size: big\n  demo:enabled: on\n  demo:token: plain\n  demo:mode: [x]\n  demo:sise: 3\n"
    found = problems_of(tmp_path, stack)
    keys = sorted(problem.strip().split(" ")[0].rstrip(":") for problem in found)
    assert keys == ["demo:enabled", "demo:mode", "demo:size", "demo:token"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("config:\n  demo:mode: " + "[" * 200 + "]" * 200 + "\n", "nested more than 32 levels deep"),
        (
            "a: &a [x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
                for p, n in zip("abcdefgh", "bcdefghi", strict=True)
            )
            + "config:\n  demo:names: *i\n",
            "expands to more than 20000 values",
        ),
        ("config:\n  demo:names: &x [a, *x]\n", "refers to the value that contains it"),
        ("config: {" + "demo:mode: x, " * 30000 + "}\n", "a config file may have at most 262144"),
    ],
    ids=["deep", "alias-bomb", "recursive-alias", "huge-file"],
)
def test_files_that_would_exhaust_memory_or_recursion_are_refused_quickly(
    tmp_path: Path, document: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_stack_config(project(tmp_path, document), "dev")


def test_a_value_too_large_for_the_environment_is_refused_not_echoed(tmp_path: Path) -> None:
    found = problems_of(tmp_path, f"config:\n  demo:mode: {'x' * 200_000}\n")
    assert "  demo:mode: the value is 200000 characters; at most 16384 are accepted" in found
    assert all(len(problem) < 200 for problem in found)


def test_a_byte_order_mark_is_ignored_as_the_cli_does(tmp_path: Path) -> None:
    path = project(tmp_path, "config: {}\n")
    (path / "Pulumi.dev.yaml").write_bytes(b"\xef\xbb\xbfconfig:\n  demo:size: 5\n")
    assert load_stack_config(path, "dev").values["demo:size"] == "5"


@pytest.mark.slow
def test_the_cli_reports_type_and_range_problems_of_the_program_in_one_run(tmp_path: Path) -> None:
    """`cpu: 300` with `memory: true`: the stack file check names memory, the program's settings name cpu."""
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    shutil.copy(root / "Pulumi.yaml", tmp_path)
    dev = (root / "Pulumi.dev.yaml").read_text()
    (tmp_path / "Pulumi.dev.yaml").write_text(dev + "  shipshape:cpu: 300\n  shipshape:memory: true\n")
    options = [
        "--project-dir",
        str(tmp_path),
        "--program",
        str(root / "__main__.py"),
        "--policy-pack",
        str(root / "policies"),
    ]
    run = subprocess.run(
        [sys.executable, "-m", "preflight", "--stack", "dev", "--quiet", *options],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 2, run.stderr
    assert "shipshape:memory = true: expected integer" in run.stderr
    assert "shipshape:cpu = 300: must be one of 256, 512" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ("environment:\n  - aws-creds\n  - team/shared\n", ("aws-creds", "team/shared")),
        ("environment:\n  imports:\n    - aws-creds\n", ("aws-creds",)),
        (
            "environment:\n  imports: [aws-creds]\n  values:\n    pulumiConfig:\n      demo:size: 4\n",
            ("aws-creds", "its inline definition"),
        ),
        ("", ()),
    ],
)
def test_esc_environments_the_stack_imports_are_named(tmp_path: Path, environment: str, expected: tuple) -> None:
    """Their values come from Pulumi Cloud when the CLI runs; offline they are missing, so the run says so."""
    config = load_stack_config(project(tmp_path, environment + "config:\n  demo:size: 3\n"), "dev")
    assert config.environments == expected


def test_a_malformed_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"`environment` must list ESC environment names"):
        load_stack_config(project(tmp_path, "environment: 7\nconfig: {}\n"), "dev")
