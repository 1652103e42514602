"""The architecture picture: a Mermaid flowchart derived from the recording, never drawn by hand.

Nodes are the resources on the main paths (the request path internet -> load balancer -> listener ->
target group -> service, and what runs it: task definition -> image -> repository, roles, the host's
instance profile). Which paths count is a table of resource-type pairs below; whether an edge exists
comes only from the recorded dependencies and property dependencies. Components are subgraphs; a
component with nothing on a main path is one node that says how many resources it holds, so the
picture stays small without hiding that they exist.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from preflight.model import RecordedResource, Report
from preflight.reports.common import ResourceIndex, diagnostic_kind, is_component, is_managed, is_stack, short_type
from preflight.reports.values import resource_inputs

LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
REPOSITORY = "aws:ecr/repository:Repository"
ROLE = "aws:iam/role:Role"
INSTANCE = "aws:ec2/instance:Instance"
INSTANCE_PROFILE = "aws:iam/instanceProfile:InstanceProfile"
IMAGES = ("docker:index/image:Image", "docker-build:index:Image")

TRAFFIC = "-->"
USES = "-.->"

# (dependent type, dependency type) -> (arrow, traffic flows from the dependency to the dependent).
# A listener depends on its load balancer, yet requests flow from the balancer into the listener.
_MAIN_PATHS: dict[tuple[str, str], tuple[str, bool]] = {
    (LISTENER, LOAD_BALANCER): (TRAFFIC, True),
    (LISTENER, TARGET_GROUP): (TRAFFIC, False),
    (LISTENER_RULE, LISTENER): (TRAFFIC, True),
    (LISTENER_RULE, TARGET_GROUP): (TRAFFIC, False),
    (SERVICE, TARGET_GROUP): (TRAFFIC, True),
    (SERVICE, TASK_DEFINITION): (USES, False),
    (TASK_DEFINITION, ROLE): (USES, False),
    (TASK_DEFINITION, REPOSITORY): (USES, False),
    **{(TASK_DEFINITION, image): (USES, False) for image in IMAGES},
    **{(image, REPOSITORY): (USES, False) for image in IMAGES},
    (INSTANCE, INSTANCE_PROFILE): (USES, False),
    (INSTANCE_PROFILE, ROLE): (USES, False),
}
# The classic ELBv2 module names the same resources; edges must not depend on which one the program used.
_TYPE_ALIASES = ("aws:alb/", "aws:applicationloadbalancing/", "aws:elasticloadbalancingv2/")
INTERNET_ID = "internet"
_CLASS_STYLES = {
    "mandatory": "stroke:#d1242f,stroke-width:3px",
    "advisory": "stroke:#bf8700,stroke-width:2px",
}


def canonical_type(resource_type: str) -> str:
    for alias in _TYPE_ALIASES:
        if resource_type.startswith(alias):
            return "aws:lb/" + resource_type.removeprefix(alias)
    return resource_type


def node_id(prefix: str, resource: RecordedResource) -> str:
    """Letters, digits and underscores only (no Mermaid keyword like `end` can come out), unique by URN."""
    slug = re.sub(r"[^A-Za-z0-9]+", "_", resource.name).strip("_")[:40]
    digest = hashlib.sha256(resource.urn.encode()).hexdigest()[:6]
    return f"{prefix}_{slug}_{digest}" if slug else f"{prefix}_{digest}"


def label(text: str) -> str:
    """Text inside a quoted Mermaid label: quotes and angle brackets as Mermaid entity codes."""
    return text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    arrow: str

    def line(self) -> str:
        return f"  {self.source} {self.arrow} {self.target}"


def _internet_facing(resource: RecordedResource) -> bool:
    resource_type = canonical_type(resource.type)
    inputs = resource_inputs(resource.inputs_struct, resource.inputs)
    if resource_type == LOAD_BALANCER:
        return inputs.get("internal") is not True and inputs.get("loadBalancerType", "application") != "gateway"
    if resource_type == INSTANCE:
        return inputs.get("associatePublicIpAddress") is True
    return False


def _edges(report: Report, index: ResourceIndex) -> tuple[set[str], list[Edge]]:
    """URNs on a main path and the edges between them (with internet edges)."""
    on_path: set[str] = set()
    edges: set[Edge] = set()
    resources = [resource for resource in report.resources if is_managed(resource)]
    ids = {resource.urn: node_id("r", resource) for resource in resources}
    for resource in resources:
        depends_on = set(resource.dependencies)
        for urns in resource.property_dependencies.values():
            depends_on.update(urns)
        for urn in depends_on:
            dependency = index.by_urn.get(urn)
            if dependency is None or urn == resource.urn or urn not in ids:
                continue
            path = _MAIN_PATHS.get((canonical_type(resource.type), canonical_type(dependency.type)))
            if path is None:
                continue
            arrow, from_dependency = path
            source, target = (urn, resource.urn) if from_dependency else (resource.urn, urn)
            edges.add(Edge(ids[source], ids[target], arrow))
            on_path.update((source, target))
        if _internet_facing(resource):
            edges.add(Edge(INTERNET_ID, ids[resource.urn], TRAFFIC))
            on_path.add(resource.urn)
    return on_path, sorted(edges, key=lambda edge: (edge.source != INTERNET_ID, edge.source, edge.target))


def render_mermaid(report: Report) -> str:
    index = ResourceIndex(report)
    children = index.children()
    on_path, edges = _edges(report, index)

    holds_path: dict[str, bool] = {}
    managed_count: dict[str, int] = {}

    def survey(resource: RecordedResource) -> tuple[bool, int]:
        found = resource.urn in on_path
        count = 1 if is_managed(resource) else 0
        for child in children.get(resource.urn, []):
            child_found, child_count = survey(child)
            found = found or child_found
            count += child_count
        holds_path[resource.urn] = found
        managed_count[resource.urn] = count
        return found, count

    for root in children.get("", []):
        survey(root)

    verdicts: dict[str, str] = {}
    for diagnostic in report.diagnostics:
        kind = diagnostic_kind(diagnostic)
        if kind == "mandatory" or (kind == "advisory" and verdicts.get(diagnostic.urn) != "mandatory"):
            verdicts[diagnostic.urn] = kind

    def worst_verdict(resource: RecordedResource) -> str | None:
        found = verdicts.get(resource.urn)
        for child in children.get(resource.urn, []):
            below = worst_verdict(child)
            if below == "mandatory" or (below and not found):
                found = below
        return found

    lines = [
        f"%% {report.project}/{report.stack}: derived from the recorded resources by preflight.",
        "%% Solid arrows carry requests; dotted arrows mean 'uses'. Red: mandatory violation; amber: advisory.",
        "flowchart LR",
    ]
    classes: dict[str, list[str]] = {"mandatory": [], "advisory": []}
    if any(edge.source == INTERNET_ID for edge in edges):
        lines.append(f'  {INTERNET_ID}(("Internet"))')

    def draw(resource: RecordedResource, indent: str) -> None:
        if is_managed(resource) and resource.urn in on_path:
            identifier = node_id("r", resource)
            lines.append(f'{indent}{identifier}["{label(resource.name)}<br/>{label(short_type(resource.type))}"]')
            if resource.urn in verdicts:
                classes[verdicts[resource.urn]].append(identifier)
            return
        if not is_component(resource) or managed_count.get(resource.urn, 0) == 0:
            return
        kind = resource.type.split(":")[-1]
        count = managed_count[resource.urn]
        title = f"{label(resource.name)} · {label(kind)} · {count} resource{'s' if count != 1 else ''}"
        if not holds_path[resource.urn]:
            identifier = node_id("c", resource)
            lines.append(f'{indent}{identifier}["{title}"]')
            verdict = worst_verdict(resource)
            if verdict:
                classes[verdict].append(identifier)
            return
        lines.append(f'{indent}subgraph {node_id("c", resource)}["{title}"]')
        for child in children.get(resource.urn, []):
            draw(child, indent + "  ")
        lines.append(f"{indent}end")

    for root in children.get("", []):
        # The stack itself is the canvas, not a box.
        for top in children.get(root.urn, []) if is_stack(root) else [root]:
            draw(top, "  ")
    lines += [edge.line() for edge in edges]
    for name, style in _CLASS_STYLES.items():
        if classes[name]:
            lines.append(f"  classDef {name} {style}")
            lines.append(f"  class {','.join(sorted(classes[name]))} {name}")
    return "\n".join(lines) + "\n"
