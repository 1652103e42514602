"""Security groups: no world-open ports but the allowed ones, and the app port reachable only from the load balancer.

Ingress arrives in three shapes (inline `ingress` on aws.ec2.SecurityGroup, aws.ec2.SecurityGroupRule, and
aws.vpc.SecurityGroupIngressRule); each is normalised into IngressRule before it is judged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pulumi_policy import Severity

from guardrails.framework import Findings, Resource, RuleInfo, Stack, port_list_option, resource_rule, stack_rule
from guardrails.values import as_int, as_list, dig

INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ECS_SERVICE = "aws:ecs/service:Service"
AWSX_FARGATE_SERVICE = "awsx:ecs:FargateService"
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
TARGET_GROUPS = ("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup")
HOSTS = (INSTANCE, LAUNCH_TEMPLATE)


# --- security group rules, in all three shapes -------------------------------------------------------

PORT_PROTOCOLS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp"}
ALL_PROTOCOLS = ("-1", "all")


@dataclass(frozen=True)
class IngressRule:
    """One ingress permission normalised from any of the three shapes."""

    where: str
    protocol: str
    from_port: int | None
    to_port: int | None
    cidrs: tuple[str, ...]
    source_groups: tuple[Any, ...]

    def ports(self) -> range | None:
        """The TCP/UDP ports opened; None means every port (protocol -1, fromPort -1, or no ports at all)."""
        if self.protocol in ALL_PROTOCOLS or self.protocol not in PORT_PROTOCOLS:
            return None
        if self.from_port is None or self.to_port is None or self.from_port < 0 or self.to_port < 0:
            return None
        return range(self.from_port, self.to_port + 1)

    def covers(self, port: int) -> bool:
        ports = self.ports()
        return ports is None or port in ports


def _protocol(value: Any) -> str:
    """ "tcp", "6", 6 and 6.0 all name TCP; protocol numbers arrive as strings or floats."""
    number = as_int(value)
    return str(number) if number is not None else str(value or "").strip().lower()


def _strings(value: Any, findings: Findings, urn: str | None = None) -> tuple[str, ...]:
    items = as_list(value)
    for item in items:
        findings.unknown(item, urn)
    return tuple(item for item in items if isinstance(item, str))


def _ingress(
    where: str, fields: dict[str, Any], cidrs: tuple[str, ...], sources: Any, findings: Findings, urn: str | None
) -> list[IngressRule]:
    """One normalised rule, or none when its protocol or ports are not known yet."""
    if any(findings.unknown(value, urn) for value in fields.values()):
        return []
    return [
        IngressRule(
            where=where,
            protocol=_protocol(fields["protocol"]),
            from_port=as_int(fields["fromPort"]),
            to_port=as_int(fields["toPort"]),
            cidrs=cidrs,
            source_groups=tuple(as_list(sources)),
        )
    ]


def ingress_rules(resource: Resource, findings: Findings, urn: str | None = None) -> list[IngressRule]:
    """Ingress permissions of a security group, a security group rule, or a vpc ingress rule."""
    props = resource.props
    if resource.type == SECURITY_GROUP:
        ingress = props.get("ingress")
        if findings.unknown(ingress, urn):
            return []
        rules: list[IngressRule] = []
        for index, entry in enumerate(as_list(ingress)):
            if not isinstance(entry, dict):
                continue
            cidrs = _strings(entry.get("cidrBlocks"), findings, urn) + _strings(
                entry.get("ipv6CidrBlocks"), findings, urn
            )
            fields = {key: entry.get(key) for key in ("protocol", "fromPort", "toPort")}
            rules += _ingress(f"ingress[{index}]", fields, cidrs, entry.get("securityGroups"), findings, urn)
        return rules
    if resource.type == SECURITY_GROUP_RULE:
        kind = props.get("type")
        if findings.unknown(kind, urn) or kind != "ingress":
            return []
        cidrs = _strings(props.get("cidrBlocks"), findings, urn) + _strings(props.get("ipv6CidrBlocks"), findings, urn)
        fields = {key: props.get(key) for key in ("protocol", "fromPort", "toPort")}
        return _ingress("rule", fields, cidrs, props.get("sourceSecurityGroupId"), findings, urn)
    if resource.type == INGRESS_RULE:
        cidrs = _strings(props.get("cidrIpv4"), findings, urn) + _strings(props.get("cidrIpv6"), findings, urn)
        fields = {"protocol": props.get("ipProtocol"), "fromPort": props.get("fromPort"), "toPort": props.get("toPort")}
        return _ingress("rule", fields, cidrs, props.get("referencedSecurityGroupId"), findings, urn)
    return []


def is_world(cidr: str) -> bool:
    """0.0.0.0/0, ::/0 or any other spelling of "every address"."""
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def _describe_ports(rule: IngressRule) -> str:
    ports = rule.ports()
    if ports is None:
        return f"all ports (protocol {rule.protocol or 'unset'})"
    return f"port {ports.start}" if len(ports) == 1 else f"ports {ports.start}-{ports.stop - 1}"


# --- aws-ec2-security-group-no-world-ingress -----------------------------------------------------------


def _check_world_ingress(resource: Resource, findings: Findings) -> None:
    allowed = set(resource.options.get("allowedPorts", ()))
    for rule in ingress_rules(resource, findings):
        world = [cidr for cidr in rule.cidrs if is_world(cidr)]
        if not world:
            continue
        ports = rule.ports()
        # A range is fine only when every port in it is allowed (in practice: a single allowed port).
        if ports is not None and len(ports) <= len(allowed) and all(port in allowed for port in ports):
            continue
        findings.violation(
            f"{rule.where} opens {_describe_ports(rule)} to {', '.join(world)}; only ports "
            f"{', '.join(str(port) for port in sorted(allowed)) or '(none)'} may be open to the world."
        )


def _check_awsx_default_group(resource: Resource, findings: Findings) -> None:
    """pulumi-awsx awsx/ecs/fargateService.ts: without networkConfiguration, the service gets a new security
    group accepting every port (protocol -1) from 0.0.0.0/0 and ::/0."""
    configuration = resource.props.get("networkConfiguration")
    if findings.unknown(configuration) or configuration is not None:
        return
    findings.violation(
        "networkConfiguration is not set, so awsx creates a security group that accepts every port from "
        "0.0.0.0/0 and ::/0; pass networkConfiguration with a security group of your own."
    )


NO_WORLD_INGRESS = resource_rule(
    RuleInfo(
        name="aws-ec2-security-group-no-world-ingress",
        description="Security groups accept traffic from 0.0.0.0/0 or ::/0 only on allowed ports.",
        severity=Severity.HIGH,
        remediation_steps=(
            "Open the port only to the load balancer's security group or a known CIDR; list deliberate "
            "public ports in allowedPorts."
        ),
        frameworks=("checkov:CKV_AWS_24", "checkov:CKV_AWS_25", "checkov:CKV_AWS_277", "fsbp:EC2.18", "fsbp:EC2.19"),
        limits="Prefix lists and the default security group's rules are not judged.",
        options=(port_list_option("allowedPorts", [80, 443], "TCP/UDP ports that may be open to the world."),),
    ),
    {
        SECURITY_GROUP: _check_world_ingress,
        SECURITY_GROUP_RULE: _check_world_ingress,
        INGRESS_RULE: _check_world_ingress,
        AWSX_FARGATE_SERVICE: _check_awsx_default_group,
    },
)


# --- aws-ec2-app-ingress-from-load-balancer-only (stack) ----------------------------------------------


def _group_keys(resource: Resource) -> set[str]:
    """How other resources may name this security group: its URN, and its id or ARN when known."""
    keys = {resource.urn}
    for key in ("id", "arn"):
        value = resource.props.get(key)
        if isinstance(value, str) and value:
            keys.add(value)
    return keys


def _references(resource: Resource, prop: str, values: Iterable[Any], findings: Findings | None = None) -> set[str]:
    """Security groups a property names: literal ids plus the URNs it depends on.

    During a first preview the ids are unknown, but the engine still sends which resources the
    property depends on; only when neither is known is the reference reported as not judged yet.
    """
    values = list(values)
    named = {value for value in values if isinstance(value, str)}
    dependencies = set(resource.property_dependencies.get(prop, ()))
    if findings is not None and not dependencies:
        findings.unknown_any(*values, urn=resource.urn)
    return named | dependencies


def _rule_targets(rule_resource: Resource, groups: list[Resource]) -> list[Resource]:
    """The security groups a standalone rule belongs to (by securityGroupId or dependency)."""
    target = _references(rule_resource, "securityGroupId", [rule_resource.props.get("securityGroupId")])
    return [group for group in groups if _group_keys(group) & target]


def _check_app_ingress(stack: Stack, findings: Findings) -> None:
    groups = stack.of_type(SECURITY_GROUP)
    load_balancers = stack.of_type(*LOAD_BALANCERS)
    if not load_balancers:
        return
    lb_refs: set[str] = set()
    for balancer in load_balancers:
        listed = balancer.props.get("securityGroups")
        lb_refs |= _references(balancer, "securityGroups", as_list(listed), findings)
    lb_groups = [group for group in groups if _group_keys(group) & lb_refs]
    lb_keys = lb_refs | {key for group in lb_groups for key in _group_keys(group)}

    app_ports: set[int] = set(stack.options.get("appPorts", ()))
    for service in stack.of_type(ECS_SERVICE):
        for entry in as_list(service.props.get("loadBalancers")):
            port = as_int(dig(entry, "containerPort"))
            if port is not None:
                app_ports.add(port)
    for target_group in stack.of_type(*TARGET_GROUPS):
        port = as_int(target_group.props.get("port"))
        if port is not None:
            app_ports.add(port)
    if not app_ports:
        return

    workload_refs: set[str] = set()
    for service in stack.of_type(ECS_SERVICE):
        listed = dig(service.props, "networkConfiguration", "securityGroups")
        workload_refs |= _references(service, "networkConfiguration", as_list(listed), findings)
    for host in stack.of_type(*HOSTS):
        listed = host.props.get("vpcSecurityGroupIds")
        workload_refs |= _references(host, "vpcSecurityGroupIds", as_list(listed), findings)
    workload_groups = [
        group for group in groups if _group_keys(group) & workload_refs and not _group_keys(group) & lb_keys
    ]
    workload_urns = {group.urn for group in workload_groups}

    def judge(owner: Resource, rule: IngressRule, source_dependencies: set[str]) -> None:
        opened = sorted(port for port in app_ports if rule.covers(port))
        if not opened:
            return
        sources = {value for value in rule.source_groups if isinstance(value, str)} | source_dependencies
        if not source_dependencies and findings.unknown_any(*rule.source_groups, urn=owner.urn):
            return
        if rule.cidrs or not sources or not sources <= lb_keys:
            origin = ", ".join(rule.cidrs) or ", ".join(sorted(sources - lb_keys)) or "an unnamed source"
            findings.violation(
                f"{owner.name!r} {rule.where} lets {origin} reach app port(s) "
                f"{', '.join(map(str, opened))}; only the load balancer's security group may.",
                owner.urn,
            )

    for group in workload_groups:
        for rule in ingress_rules(group, findings, group.urn):
            judge(group, rule, set())
    for rule_resource in stack.of_type(SECURITY_GROUP_RULE, INGRESS_RULE):
        targets = _rule_targets(rule_resource, groups)
        if not any(target.urn in workload_urns for target in targets):
            continue
        source_prop = "referencedSecurityGroupId" if rule_resource.type == INGRESS_RULE else "sourceSecurityGroupId"
        dependencies = set(rule_resource.property_dependencies.get(source_prop, ()))
        for rule in ingress_rules(rule_resource, findings, rule_resource.urn):
            judge(rule_resource, rule, dependencies)


APP_INGRESS_FROM_LOAD_BALANCER = stack_rule(
    RuleInfo(
        name="aws-ec2-app-ingress-from-load-balancer-only",
        description=(
            "Security groups of ECS tasks and EC2 hosts accept the app port only from the load balancer's "
            "security group."
        ),
        severity=Severity.HIGH,
        remediation_steps=(
            "Replace CIDR or other sources on the app port with an ingress rule whose "
            "referenced_security_group_id is the ALB's security group."
        ),
        frameworks=("shipshape",),
        limits=(
            "App ports come from target groups, ECS services' load balancers and the appPorts option; groups are "
            "matched by id, ARN or the engine's property dependencies."
        ),
        options=(
            port_list_option(
                "appPorts",
                [],
                "App ports to guard besides those the stack's target groups and ECS services name.",
            ),
        ),
    ),
    _check_app_ingress,
    reads=(SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE, ECS_SERVICE, *HOSTS, *LOAD_BALANCERS, *TARGET_GROUPS),
)
