"""Remote (multi-language) components: awsx, eks, aws-apigateway, synced-folder and the like.

Their providers create the children inside `Construct`, which never runs offline, so preflight judges
such a component by its own inputs only, reports it as "not judged offline" and answers only the plain
outputs whose values follow from the inputs and the provider's documented defaults. Resource-typed
outputs (`vpc.subnets`, `service.service`, `alb.load_balancer`) get no answer: the Python SDK resolves an
output the engine did not return as unknown during a preview (pulumi/runtime/rpc.py `resolve_outputs`),
which is what they are in a real first preview too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.runtime import rpc

from preflight.placeholders import ACCOUNT, sha1

REMOTE_PACKAGES = ("awsx", "eks", "aws-apigateway", "synced-folder", "aws-static-website", "aws-quickstart-")
"""Packages whose components are remote, for callers without the registration's `remote` flag."""
AWSX_DEFAULT_ZONES = 3
"""awsx/ec2/vpc.ts `getDefaultAzs`: `azCount ?? 3`."""
AWSX_DEFAULT_SUBNETS = ("Private", "Public")
"""awsx/ec2/subnetDistributorNew.ts `defaultSubnetInputsBare`: without `subnetSpecs`, one private and one
public subnet per zone (no isolated ones)."""


def is_remote(typ: str) -> bool:
    return typ.split(":", 1)[0].startswith(REMOTE_PACKAGES)


def _known(value: Any) -> bool:
    return value is not None and value != rpc.UNKNOWN


def _awsx_vpc(name: str, urn: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    """awsx/ec2/vpc.ts: zones are `availabilityZoneNames`, else the first `numberOfAvailabilityZones`
    (default 3) of the region; each zone gets one subnet per `subnetSpecs` entry that is not Unused."""
    names = inputs.get("availabilityZoneNames")
    count = inputs.get("numberOfAvailabilityZones")
    if isinstance(names, list) and names:
        zones = len(names)
    elif isinstance(count, int | float) and _known(count):
        zones = int(count)
    else:
        zones = AWSX_DEFAULT_ZONES
    specs = inputs.get("subnetSpecs")
    kinds = (
        [str(spec.get("type", "")).lower() for spec in specs if isinstance(spec, Mapping)]
        if isinstance(specs, list) and specs
        else [kind.lower() for kind in AWSX_DEFAULT_SUBNETS]
    )
    vpc_id = f"vpc-{sha1(urn, 17)}"
    ids: dict[str, list[str]] = {"public": [], "private": [], "isolated": []}
    for zone in range(zones):
        for index, kind in enumerate(kinds):
            if kind in ids:
                ids[kind].append(f"subnet-{sha1(f'{urn}/{kind}/{zone}/{index}', 17)}")
    return {
        "vpcId": vpc_id,
        "publicSubnetIds": ids["public"],
        "privateSubnetIds": ids["private"],
        "isolatedSubnetIds": ids["isolated"],
    }


def _awsx_repository(name: str, urn: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    """awsx/ecr/repository.ts names the repository from `name`, else the lower-cased resource name."""
    given = inputs.get("name")
    repository = given if isinstance(given, str) and _known(given) else f"{name.lower()}-{sha1(urn, 7)}"
    return {"url": f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{repository}"}


ANSWERS = {
    "awsx:ec2:Vpc": _awsx_vpc,
    "awsx:ecr:Repository": _awsx_repository,
}


def outputs(typ: str, name: str, urn: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    """The plain outputs preflight can answer for a remote component (often none)."""
    answer = ANSWERS.get(typ)
    return answer(name, urn, inputs, region) if answer else {}
