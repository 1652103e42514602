"""shipshape's components: a library any Pulumi Python program can use.

    from components import WebService, WebServiceArgs
    WebService("web", WebServiceArgs(vpc_id=..., public_subnet_ids=..., ..., certificate_arn=cert.arn))

Each component takes one frozen Args dataclass whose fields are documented with their defaults (the secure
posture) and checked against AWS's limits (components.aws_limits) when they are plain values. This
project's own stack maps its config onto these Args in components.settings, which programs using the
library do not need.
"""

from components.checks import ArgsError
from components.container_host import ContainerHost, ContainerHostArgs
from components.counter_table import CounterTable, CounterTableArgs
from components.network import Network, NetworkArgs
from components.registry import Image, ImageArgs, Repository, RepositoryArgs
from components.web_service import WebService, WebServiceArgs

__all__ = [
    "ArgsError",
    "ContainerHost",
    "ContainerHostArgs",
    "CounterTable",
    "CounterTableArgs",
    "Image",
    "ImageArgs",
    "Network",
    "NetworkArgs",
    "Repository",
    "RepositoryArgs",
    "WebService",
    "WebServiceArgs",
]
