"""Facts AWS publishes in botocore's data: the regions of each partition and the EC2 instance types.

Read from the botocore installed with the program (botocore/data/partitions.json and the EC2 service model's
`InstanceType` enum), so a region or an instance type AWS added is known as soon as botocore knows it, and one
it does not know (`eu-west-9`, `t3.mega`) is refused. Loaded once, on first use: importing botocore and the EC2
model takes about a second, which only a program that checks these values pays.
"""

from __future__ import annotations

import re
from functools import cache

# The instance type naming convention (EC2 User Guide, "Amazon EC2 instance type naming conventions"):
# family letters, generation digits, then attribute letters, a dot and the size. `g` among the attributes means
# an AWS Graviton (arm64) processor; a1 is the first Graviton generation and has no `g`.
INSTANCE_TYPE_NAME = re.compile(
    r"(?P<family>[a-z]+)(?P<generation>[0-9]+)(?P<attributes>[a-z-]*)\.[a-z0-9-]+", re.ASCII
)
# p6e-gb200 pairs NVIDIA GPUs with Grace, an arm64 processor.
ARM64_FAMILIES = ("a1", "p6e-gb200")


@cache
def _partitions() -> list[dict]:
    # Imported here: a second of start-up, paid only when a region or an instance type is checked.
    from botocore.loaders import Loader

    return list(Loader().load_data("partitions")["partitions"])


@cache
def region_partitions() -> dict[str, str]:
    """Every region botocore knows -> its partition (`aws`, `aws-cn`, `aws-us-gov`, ...); global pseudo-regions
    such as `aws-global` are left out."""
    return {
        region: partition["id"]
        for partition in _partitions()
        for region in partition.get("regions", {})
        if not region.endswith("-global")
    }


@cache
def instance_types() -> frozenset[str]:
    from botocore.loaders import Loader

    model = Loader().load_service_model("ec2", "service-2")
    return frozenset(model["shapes"]["InstanceType"]["enum"])


def instance_architecture(instance_type: str) -> str | None:
    """`arm64` or `x86_64` for a Linux instance type; None for Mac instances, which need macOS images."""
    match = INSTANCE_TYPE_NAME.fullmatch(instance_type)
    family = instance_type.split(".", 1)[0]
    if family.startswith("mac"):
        return None
    if family in ARM64_FAMILIES or (match is not None and "g" in match["attributes"]):
        return "arm64"
    return "x86_64"
