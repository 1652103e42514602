"""This stack's configuration -> each component's Args: the adapter between Pulumi.yaml's keys and the library.

The keys, their types and defaults are declared once, in Pulumi.yaml. `parse_settings` converts every value
to its declared type (preflight.config_types, the rules the Pulumi CLI applies) and checks it with the same
rules the components' Args use (components.aws_limits), in one pass: every bad key of a run is reported
together in one `SettingsError`, each line naming the key, the bad value and what is allowed. The
`to_*_args` methods then map the values onto each component's Args; an Args check that still fails names
the config key it came from. `SettingsError` is a `pulumi.RunError`, so the CLI prints it without a traceback.

Only this module reads `pulumi.Config`.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

import components.aws_limits as aws_limits
import components.checks as checks
import components.domain_limits as domain_limits
from components.container_host import ContainerHostArgs
from components.counter_table import CounterTableArgs
from components.network import HTTP, HTTPS, NetworkArgs
from components.registry import ImageArgs, RepositoryArgs
from components.stack_keys import ARGS_KEYS, COMBINED, RULES
from components.web_service_args import WebServiceArgs
from preflight.config_types import SECRET_PLACEHOLDER, ConfigTypeError, from_cli_string, load_yaml

PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"
NAMESPACE = "shipshape"
# The longest physical name built from the stack prefix is the load balancer's `<prefix>-alb` (32 at most).
MAX_PREFIX = aws_limits.LOAD_BALANCER_NAME_LENGTH - len("-alb")
OPTIONAL_STRINGS = (
    "existingVpcId",
    "repositoryName",
    "repositoryKmsKeyArn",
    "logKmsKeyArn",
    "certificateArn",
    "domainName",
    "hostedZoneId",
)
REGION_KEY = "aws:region"


class SettingsError(pulumi.RunError):
    """The stack configuration has one or more invalid keys; `problems` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        header = f"invalid stack configuration ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n".join([header, *(f"  - {p}" for p in self.problems)]))


@cache
def declarations(project_file: Path = PROJECT_FILE) -> dict[str, dict[str, Any]]:
    """The `config:` declarations of Pulumi.yaml: key -> {type, description, default}."""
    document = load_yaml(project_file.read_text(encoding="utf-8"))
    declared = document.get("config") or {}
    return {key: spec for key, spec in declared.items() if ":" not in key and isinstance(spec, dict)}


@dataclass(frozen=True)
class Settings:
    """The stack's typed, checked configuration, and the Args each component gets from it."""

    project: str
    stack: str
    region: str
    partition: str
    values: Mapping[str, Any]
    """Config key -> typed value (Pulumi.yaml's default where the stack sets none)."""
    secret_keys: frozenset[str] = frozenset()
    """Keys set with `pulumi config set --secret`: their values reach the Args as secret Outputs."""

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def prefix(self) -> str:
        """Short name prefix for physical names that AWS limits (the load balancer)."""
        return f"{self.project}-{self.stack}"

    @property
    def default_tags(self) -> dict[str, str]:
        return {"project": self.project, "stack": self.stack, "managed-by": "pulumi", **self["tags"]}

    @property
    def https(self) -> bool:
        return self["certificateArn"] is not None or self["domainName"] is not None

    @property
    def counter_table_enabled(self) -> bool:
        return bool(self["counterTable"])

    @property
    def host_enabled(self) -> bool:
        return bool(self["hostEnabled"])

    def _build(self, args_type: type, **wiring: Any) -> Any:
        keys = ARGS_KEYS[args_type]
        inputs = _input_fields(args_type)
        # A secret reaches a field that takes an Output as a secret Output, so it stays secret in the state.
        fields = {
            field: pulumi.Output.secret(self[key]) if key in self.secret_keys and field in inputs else self[key]
            for field, key in keys.items()
            if key in self.values and field not in wiring
        }
        try:
            return args_type(**fields, **wiring)
        except checks.ArgsError as error:
            key = keys.get(error.field)
            where = f"{NAMESPACE}:{key}" if key else f"{error.owner}.{error.field}"
            shown = "[secret]" if key in self.secret_keys else _show(error.value)
            raise SettingsError([f"{where} = {shown}: {error.reason}"]) from None

    @property
    def log_group_name(self) -> str:
        return f"/{self.project}/{self.stack}/web"

    def to_network_args(self, **wiring: Any) -> NetworkArgs:
        """The network's Args; `wiring` names what the endpoints' policies allow (repository_arn, log_group_arn,
        counter_table_arn)."""
        ports = (HTTPS, HTTP) if self.https else (HTTP,)
        secrets = self["secrets"] if isinstance(self["secrets"], Mapping) else {}
        hidden = "secrets" in self.secret_keys
        arns = [pulumi.Output.secret(arn) if hidden else arn for arn in secrets.values()]
        return self._build(NetworkArgs, region=self.region, listener_ports=ports, secret_arns=arns, **wiring)

    def to_repository_args(self) -> RepositoryArgs:
        # Physical names carry the stack: dev and prod in one account must not share a repository (a
        # replacement, e.g. a new KMS key, would otherwise collide with the other stack's).
        return self._build(RepositoryArgs, name=self["repositoryName"] or f"{self.prefix.lower()}/web")

    def to_image_args(
        self, *, repository_url: pulumi.Input[str], registry_id: pulumi.Input[str], context: str | os.PathLike[str]
    ) -> ImageArgs:
        return self._build(ImageArgs, repository_url=repository_url, registry_id=registry_id, context=context)

    def to_counter_table_args(self) -> CounterTableArgs:
        return self._build(CounterTableArgs)

    def to_web_service_args(self, **wiring: Any) -> WebServiceArgs:
        """The service's Args from this stack's keys; `wiring` gives the other components' outputs
        (vpc_id, subnets, security groups, image, repository_arn, app_version, counter table, account_id)."""
        return self._build(
            WebServiceArgs,
            region=self.region,
            load_balancer_name=f"{self.prefix}-alb",
            log_group_name=self.log_group_name,
            task_family=f"{self.prefix}-web",
            **wiring,
        )

    def to_container_host_args(self, **wiring: Any) -> ContainerHostArgs:
        """The host's Args from this stack's keys; `wiring` gives the other components' outputs (with VPC
        endpoints, the network's endpoint_security_group_id and endpoint_prefix_list_ids)."""
        return self._build(ContainerHostArgs, region=self.region, **wiring)


def load_settings() -> Settings:
    """Read the running stack's configuration; raises SettingsError listing every bad key."""
    config = pulumi.Config(NAMESPACE)
    raw = {key: config.get(key) for key in [*declarations(), *_keys_set()]}
    secret = {key for key in raw if pulumi.runtime.is_config_secret(f"{NAMESPACE}:{key}")}
    region = pulumi.Config("aws").get("region")
    settings = parse_settings(
        raw, project=pulumi.get_project(), stack=pulumi.get_stack(), region=region, secret_keys=secret
    )
    if not pulumi.runtime.is_dry_run():
        refuse_documentation_values(settings)
    return settings


def refuse_documentation_values(settings: Settings) -> None:
    """A real deployment (`pulumi up`, not a preview) cannot use AWS's documentation account or the RFC 2606
    documentation domains: previews and preflight accept them, so stack files can show a complete shape."""
    problems = []
    for key, value in settings.values.items():
        if key in settings.secret_keys:
            continue
        texts = list(value.values()) if isinstance(value, Mapping) else value
        if value is not None and (reason := domain_limits.documentation_value(texts)) is not None:
            problems.append(f"{NAMESPACE}:{key} = {_show(value)}: {reason} before `pulumi up`")
    if problems:
        raise SettingsError(problems)


def _keys_set() -> list[str]:
    """Every key of this project's namespace the stack sets, declared or not: the CLI passes undeclared keys on
    unchecked, so a misspelt key is reported here. The CLI hands the program its config in PULUMI_CONFIG
    (pulumi-language-python); preflight and the SDK's test mocks set it in-process (set_all_config)."""
    present = {**pulumi.runtime.get_config_env(), **runtime_config.CONFIG.get()}
    names = (key.split(":")[-1] for key in present if key.startswith(f"{NAMESPACE}:"))
    return sorted(set(names))


def parse_settings(
    raw: Mapping[str, str | None],
    *,
    project: str,
    stack: str,
    region: str | None,
    secret_keys: Collection[str] = (),
) -> Settings:
    """Turn CLI-style config strings (absent keys take Pulumi.yaml's defaults) into checked Settings.

    One pass collects every problem: types, each key's rule, the rules across keys, and what the components'
    Args would still refuse. A secret's value is never shown; preflight's stand-in for a secret it cannot
    decrypt is accepted unjudged where the Args take an Output, and explained where they cannot."""
    problems: list[str] = []
    declared = declarations()
    problems.extend(
        f"{NAMESPACE}:{key}: unknown key{_did_you_mean(key, declared)}" for key in raw if key not in declared
    )
    if not region:
        problems.append(f"{REGION_KEY}: not set; set it with `pulumi config set aws:region <region>`")
    elif (reason := aws_limits.region(region)) is not None:
        problems.append(f"{REGION_KEY} = {_show(region)}: {reason}")
    partition = aws_limits.partition_of(region or "")

    typed: dict[str, Any] = {}
    bad: set[str] = set() if region and aws_limits.region(region) is None else {REGION_KEY}
    unjudged = {key for key in secret_keys if raw.get(key) == SECRET_PLACEHOLDER}

    def fail(key: str, reason: str, value: Any = None) -> None:
        bad.add(key)
        shown = "[secret]" if key in secret_keys else _show(typed[key] if value is None else value)
        problems.append(f"{NAMESPACE}:{key} = {shown}: {reason}")

    for key, spec in declared.items():
        text = raw.get(key)
        typed[key] = _from_yaml_default(spec)
        if key in unjudged:
            if key not in _OUTPUT_KEYS:
                fail(key, "a secret here cannot be checked offline nor passed on as a secret: set it in plain")
            elif spec["type"] == "string":
                typed[key] = text
            continue
        if text is not None:
            try:
                typed[key] = from_cli_string(spec["type"], spec.get("items"), text)
            except ConfigTypeError as error:
                fail(key, str(error), text)
    values = {**_conversions(typed, partition, bad, fail), REGION_KEY: region}
    skip = bad | unjudged
    for key, rule in RULES.items():
        if key not in skip and (reason := rule(values[key])) is not None:
            fail(key, reason)
    for key, needs, make_rule in COMBINED:
        if key in bad or key in unjudged or (bad | unjudged).intersection(needs):
            continue
        if (reason := make_rule(*(values[need] for need in needs))(values[key])) is not None:
            fail(key, reason)

    prefix = f"{project}-{stack}"
    if len(prefix) > MAX_PREFIX:
        problems.append(
            f"stack name {stack!r}: '{prefix}' is {len(prefix)} characters; load balancer names allow "
            f"{MAX_PREFIX} for the prefix: use a stack name of at most {MAX_PREFIX - len(project) - 1} characters"
        )
    del values[REGION_KEY]
    settings = Settings(
        project=project,
        stack=stack,
        region=region or "",
        partition=partition,
        values=values,
        secret_keys=frozenset(secret_keys) & set(declared),
    )
    if not problems:
        problems.extend(_args_problems(settings))
    if problems:
        raise SettingsError(problems)
    return settings


class _Later:
    """Stands for another component's output while the Args are tried: not a plain value, so not judged."""


def _args_problems(settings: Settings) -> list[str]:
    """What the components' Args would still refuse, found now so it arrives in the same report."""
    later = _Later()
    trial = Settings(
        project=settings.project,
        stack=settings.stack,
        region=settings.region,
        partition=settings.partition,
        values={key: later if key in settings.secret_keys else value for key, value in settings.values.items()},
    )
    wiring = {
        "vpc_id": later,
        "public_subnet_ids": later,
        "private_subnet_ids": later,
        "load_balancer_security_group_id": later,
        "app_security_group_id": later,
        "image": later,
    }
    builds: list[Callable[[], object]] = [
        trial.to_network_args,
        trial.to_repository_args,
        trial.to_counter_table_args,
        lambda: trial.to_web_service_args(**wiring),
        lambda: trial.to_container_host_args(
            vpc_id=later, subnet_id=later, repository_arn=later, repository_url=later, image_reference=later
        ),
    ]
    problems: list[str] = []
    for build in builds:
        try:
            build()
        except SettingsError as error:
            problems.extend(error.problems)
    return problems


def _input_fields(args_type: type) -> frozenset[str]:
    """The fields of an Args class that take a `pulumi.Input` (an Output may stand in for the value)."""
    return frozenset(field.name for field in dataclasses.fields(args_type) if "Input" in str(field.type))


def _input_keys() -> frozenset[str]:
    """Config keys every Args field of which takes a `pulumi.Input`, so a secret Output can stand in for them."""
    fed: dict[str, set[bool]] = {}
    for args_type, fields in ARGS_KEYS.items():
        inputs = _input_fields(args_type)
        for field, key in fields.items():
            fed.setdefault(key, set()).add(field in inputs)
    return frozenset(key for key, takes in fed.items() if takes == {True})


_OUTPUT_KEYS = _input_keys()


def _did_you_mean(key: str, declared: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(declared), n=1, cutoff=0.75)
    return f"; did you mean {NAMESPACE}:{close[0]}?" if close else "; declared keys are listed in Pulumi.yaml"


def _from_yaml_default(spec: Mapping[str, Any]) -> Any:
    default = spec.get("default")
    return list(default) if isinstance(default, list) else default


def _conversions(
    values: dict[str, Any], partition: str, bad: set[str], fail: Callable[[str, str], None]
) -> dict[str, Any]:
    """Config shapes -> Args shapes: "" -> None, NAME=value lists -> mappings, account ids -> root ARNs."""
    converted = dict(values)
    for key in OPTIONAL_STRINGS:
        converted[key] = (values[key] or "").strip() or None
    for key in ("environment", "secrets", "tags"):
        if key in bad:
            converted[key] = {}
            continue
        pairs, reason = checks.pairs(values[key])
        if reason is not None:
            fail(key, reason)
            converted[key] = {}
        else:
            converted[key] = pairs
    if "pullPrincipals" not in bad:
        converted["pullPrincipals"] = [
            f"arn:{partition}:iam::{item}:root" if aws_limits.ACCOUNT_ID.fullmatch(str(item)) else item
            for item in values["pullPrincipals"]
        ]
    return converted


def _show(value: Any) -> str:
    """A value as the stack file would hold it, shortened so a huge value is not echoed whole."""
    text = json.dumps(value) if isinstance(value, str | list | tuple | dict) else str(value)
    return text if len(text) <= 120 else f"{text[:100]}... ({len(text)} characters)"
