"""Facts AWS publishes in botocore's data: the regions of each partition and the EC2 instance types.

Read from the botocore installed with the program (botocore/data/partitions.json and the EC2 service model's
`InstanceType` enum), so a region or an instance type AWS added is known as soon as botocore knows it, and one
it does not know (`eu-west-9`, `t3.mega`) is refused. Loaded once, on first use, and kept per botocore
version in the user's cache directory: importing botocore's loader and reading the EC2 model cost about a
quarter of a second a run, reading the derived facts back a millisecond.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import tempfile
from functools import cache
from pathlib import Path

# The instance type naming convention (EC2 User Guide, "Amazon EC2 instance type naming conventions"):
# family letters, generation digits, then attribute letters, a dot and the size. `g` among the attributes means
# an AWS Graviton (arm64) processor; a1 is the first Graviton generation and has no `g`.
INSTANCE_TYPE_NAME = re.compile(
    r"(?P<family>[a-z]+)(?P<generation>[0-9]+)(?P<attributes>[a-z-]*)\.[a-z0-9-]+", re.ASCII
)
# p6e-gb200 pairs NVIDIA GPUs with Grace, an arm64 processor.
ARM64_FAMILIES = ("a1", "p6e-gb200")


# Where botocore.loaders.Loader() looks besides its own data: models a user installed under ~/.aws/models
# (botocore/loaders.py, CUSTOMER_DATA_PATH) take precedence, so they are part of the cache key.
_CUSTOMER_MODELS = Path.home() / ".aws" / "models"
_CACHE_FORMAT = 1


def cache_directory() -> Path:
    """$XDG_CACHE_HOME/shipshape (default ~/.cache/shipshape)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shipshape"


def _cache_key() -> str:
    """botocore's version and location, and what ~/.aws/models holds for the two models read."""
    import botocore  # the package itself is light; its loader is what costs

    material = [str(_CACHE_FORMAT), botocore.__version__, str(Path(botocore.__file__).resolve().parent)]
    for root in (_CUSTOMER_MODELS / "ec2", _CUSTOMER_MODELS):
        if root.is_dir():
            for directory, _, names in sorted(os.walk(root)):
                for name in sorted(names):
                    if name.startswith(("service-2.json", "partitions.json")):
                        info = os.stat(os.path.join(directory, name))
                        material.append(f"{directory}/{name}:{info.st_size}:{info.st_mtime_ns}")
    return hashlib.sha256("\0".join(material).encode()).hexdigest()[:24]


def _read_models() -> dict[str, list]:
    # Imported here: botocore's loader and the EC2 model take about a quarter of a second.
    from botocore.loaders import Loader

    loader = Loader()
    partitions = loader.load_data("partitions")["partitions"]
    model = loader.load_service_model("ec2", "service-2")
    return {
        "regions": sorted(
            [region, partition["id"]]
            for partition in partitions
            for region in partition.get("regions", {})
            if not region.endswith("-global")
        ),
        "instance_types": sorted(model["shapes"]["InstanceType"]["enum"]),
    }


def _valid(facts: object) -> bool:
    return (
        isinstance(facts, dict)
        and isinstance(facts.get("regions"), list)
        and all(isinstance(pair, list) and len(pair) == 2 for pair in facts["regions"])
        and isinstance(facts.get("instance_types"), list)
        and all(isinstance(name, str) for name in facts["instance_types"])
    )


@cache
def _facts() -> dict[str, list]:
    """The facts, from the cache when it was written for this botocore, else read from botocore and cached.
    A cache that cannot be read or written only costs the time of reading botocore."""
    path = cache_directory() / f"aws-facts-{_cache_key()}.json"
    with contextlib.suppress(OSError, ValueError):
        facts = json.loads(path.read_text(encoding="utf-8"))
        if _valid(facts):
            return facts
    facts = _read_models()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as handle:
            json.dump(facts, handle)
        os.replace(handle.name, path)
    except OSError as error:
        with contextlib.suppress(NameError, OSError):
            os.unlink(handle.name)
        print(f"shipshape: note: AWS facts not cached ({error})", file=sys.stderr)
    return facts


@cache
def region_partitions() -> dict[str, str]:
    """Every region botocore knows -> its partition (`aws`, `aws-cn`, `aws-us-gov`, ...); global pseudo-regions
    such as `aws-global` are left out."""
    return dict(_facts()["regions"])


@cache
def instance_types() -> frozenset[str]:
    return frozenset(_facts()["instance_types"])


def instance_architecture(instance_type: str) -> str | None:
    """`arm64` or `x86_64` for a Linux instance type; None for Mac instances, which need macOS images."""
    match = INSTANCE_TYPE_NAME.fullmatch(instance_type)
    family = instance_type.split(".", 1)[0]
    if family.startswith("mac"):
        return None
    if family in ARM64_FAMILIES or (match is not None and "g" in match["attributes"]):
        return "arm64"
    return "x86_64"
