"""Stack and project files read through libyaml's parser (PyYAML's C binding) read exactly as through PyYAML's
pure-Python parser: the same values, scalar texts, duplicate keys, YAML 1.1/1.2 ambiguities and refusals.
The C parser is there for speed; this is what allows it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from preflight import config_types

ROOT = Path(__file__).resolve().parents[2]
REPOSITORY_FILES = sorted(
    path
    for pattern in ("Pulumi*.yaml", "tests/**/Pulumi*.yaml", "policies/PulumiPolicy.yaml")
    for path in ROOT.glob(pattern)
    if ".venv" not in path.parts
)
SNIPPETS = {
    "plain, quoted and block scalars": (
        "config:\n  a: plain\n  b: \"double\"\n  c: 'single'\n  d: |\n    block\n  e: >\n    folded\n"
    ),
    "YAML 1.1 words and numbers": (
        "config:\n  on: on\n  yes: no\n  octal: 017\n  hex: 0x1F\n  float: 1e3\n  under: 1_000\n"
    ),
    "nulls and empties": "config:\n  a:\n  b: ~\n  c: null\n  d: ''\n",
    "anchors, aliases and merges": "base: &b {x: 1, y: two}\nconfig:\n  <<: *b\n  y: 3\n  list: [*b, *b]\n",
    "duplicate keys": "config:\n  a: 1\n  b: 2\n  a: 3\n",
    "non-string keys": "config:\n  1: one\n  true: yes\n  1.5: x\n",
    "nested sequences": "config:\n  t:\n    - team=web\n    - [a, [b, c]]\n    - {k: v}\n",
    "unicode and escapes": 'config:\n  a: "caf\\u00e9 \\t tab"\n  b: naïve\n',
    "document markers": "---\nconfig:\n  a: 1\n...\n",
    "empty document": "",
    "comment only": "# nothing here\n",
    "bad indentation": "config:\n  a: 1\n b: 2\n",
    "unclosed flow": "config: [a, b\n",
    "tab indentation": "config:\n\ta: 1\n",
    "undefined alias": "config:\n  a: *missing\n",
    "too deep": "a: " + "[" * 40 + "]" * 40 + "\n",
    "alias bomb": "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(5)),
}


def _reading(text: str) -> tuple:
    """Everything preflight takes from one file, or the refusal."""
    try:
        node, duplicates = config_types.read_yaml(text, "file.yaml")
    except config_types.YamlError as error:
        # libyaml words its syntax errors differently; that a file is refused, and why in kind, must agree.
        return ("refused", str(error).split(":")[1].strip().split(" (")[0].split(";")[0][:20])
    if node is None:
        return ("empty", duplicates)
    texts = [(key.value, config_types.scalar_text(value)) for key, value in config_types.mapping(node) or []]
    return ("read", config_types.v2_value(node), texts, duplicates, config_types.ambiguities(node))


@pytest.fixture
def pure_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config_types, "_SafeLoader", yaml.SafeLoader)
    monkeypatch.setattr(config_types, "_CoreLoader", config_types.core_loader(yaml.SafeLoader))


def test_pyyaml_here_has_libyaml() -> None:
    """The locked PyYAML wheel is built with libyaml, so the fast path is the one tested and shipped."""
    assert yaml.__with_libyaml__
    assert config_types._SafeLoader is yaml.CSafeLoader


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippet_reads_alike(name: str, request: pytest.FixtureRequest) -> None:
    fast = _reading(SNIPPETS[name])
    request.getfixturevalue("pure_python")
    assert _reading(SNIPPETS[name]) == fast


@pytest.mark.parametrize("path", REPOSITORY_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_repository_file_reads_alike(path: Path, request: pytest.FixtureRequest) -> None:
    text = path.read_text(encoding="utf-8")
    fast = _reading(text)
    assert fast[0] == "read"
    assert config_types.load_yaml(text) == yaml.safe_load(text)
    request.getfixturevalue("pure_python")
    assert _reading(text) == fast


def test_snippets_exercise_every_outcome() -> None:
    """The corpus holds files read, refused, duplicated and ambiguous, so agreement means something."""
    readings = [_reading(text) for text in SNIPPETS.values()]
    assert {reading[0] for reading in readings} == {"read", "refused", "empty"}
    assert any(reading[0] == "read" and reading[3] for reading in readings)
    assert any(reading[0] == "read" and reading[4] for reading in readings)
