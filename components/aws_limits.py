"""What AWS accepts, one rule per value, shared by the settings adapter, the components' Args and user data.

A rule is a small pure function `rule(value) -> str | None`: None when AWS would accept the value, otherwise
what is allowed, worded to follow "<name> = <value>: ". Callers name the value: the settings adapter with the
config key, an Args class with its field (components.checks.check), user data with its parameter. Every limit
here is listed with its AWS source in docs/aws-limits.md.

A leaf: the standard library and components.checks only, so anything may import it cheaply.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import components.aws_models as aws_models
from components.checks import Rule, between, is_int, matches, one_of

# --- ECS on Fargate -------------------------------------------------------------------------------

# Fargate (Linux) task sizes: cpu -> (lowest memory, highest memory, step), MiB.
FARGATE_MEMORY: dict[int, tuple[int, int, int]] = {
    256: (512, 2048, 512),
    512: (1024, 4096, 1024),
    1024: (2048, 8192, 1024),
    2048: (4096, 16384, 1024),
    4096: (8192, 30720, 1024),
    8192: (16384, 61440, 4096),
    16384: (32768, 122880, 8192),
}
# cpu 256 takes 512, 1024 or 2048 only: not a 512 step from 512 to 2048.
FARGATE_256_MEMORY = (512, 1024, 2048)
# ECS's runtimePlatform.cpuArchitecture and docker's platform for each architecture this project builds.
ARCHITECTURES = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}
RUNTIME_ARCHITECTURES = {"x86_64": "X86_64", "arm64": "ARM64"}
CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
# Fargate stops a task at most 120 s after SIGTERM; the app server drains 5 s inside that, so at least 10.
STOP_TIMEOUT_SECONDS = (10, 120)
# Below 1024 a non-root process needs CAP_NET_BIND_SERVICE, and the container drops every capability.
PORTS = (1024, 65535)

# --- load balancing -------------------------------------------------------------------------------

HEALTH_CHECK_INTERVAL_SECONDS = (5, 300)
HEALTH_CHECK_TIMEOUT_SECONDS = (2, 120)
HEALTH_CHECK_THRESHOLD = (2, 10)
DEREGISTRATION_DELAY_SECONDS = (0, 3600)
LOAD_BALANCER_NAME_LENGTH = 32
# The URL path characters a health check may request: unreserved and sub-delimiters without quotes,
# so the path is safe in the target group, the container's health command and the host's script.
HEALTH_PATH = re.compile(r"/[A-Za-z0-9/_.~-]{0,1023}", re.ASCII)

# --- CloudWatch Logs ------------------------------------------------------------------------------

LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# --- names, ids and ARNs (ASCII only: `\d` and `\w` would take any script's digits and letters) -----

REPOSITORY_NAME = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*", re.ASCII)
REPOSITORY_NAME_LENGTH = (2, 256)
REPOSITORY_POLICY_CHARS = 10_240
TASK_DEFINITION_BYTES = 64 * 1024
REGION = re.compile(r"[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-[0-9]", re.ASCII)
ACCOUNT_ID = re.compile(r"[0-9]{12}", re.ASCII)
ACM_ARN = re.compile(r"arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]{36}", re.ASCII)
KMS_KEY_ARN = re.compile(
    r"arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(?:key/[0-9a-f-]{36}|alias/[A-Za-z0-9/_-]+)", re.ASCII
)
SECRET_ARN = re.compile(
    r"arn:aws[a-z-]*:(?:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+"
    r"|ssm:[a-z0-9-]+:[0-9]{12}:parameter/[A-Za-z0-9/_.-]+)",
    re.ASCII,
)
# IAM names: [\w+=,.@-] in IAM's own pattern means ASCII letters, digits and _ (IAM API reference).
PRINCIPAL_ARN = re.compile(
    r"arn:aws[a-z-]*:iam::[0-9]{12}:(?:root|(?:role|user)/(?:[A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{1,64})",
    re.ASCII,
)
# Tags (Resource Groups Tagging API): at most 50 per resource; keys 1-128, values 0-256 characters.
TAG_KEY_LENGTH, TAG_VALUE_LENGTH = 128, 256
TAG_PUNCTUATION = frozenset("_.:/=+-@")
MAX_TAGS = 50
# The provider's default tags (project, stack, managed-by) and the host's Name tag come first.
MAX_EXTRA_TAGS = MAX_TAGS - 4
INSTANCE_TYPE = re.compile(r"([a-z]+)([0-9]+)([a-z-]*)\.([a-z0-9]+)", re.ASCII)
SUBNET_ID = re.compile(r"subnet-[0-9a-f]{8,17}", re.ASCII)
VPC_ID = re.compile(r"vpc-[0-9a-f]{8,17}", re.ASCII)
VPC_PREFIX_LENGTHS = (16, 24)
# RFC 1918 and the shared address space AWS accepts for VPCs; never loopback, link-local, 0/8 or 240/4.
PRIVATE_VPC_BLOCKS = tuple(
    ipaddress.IPv4Network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
SECURITY_GROUP_INGRESS_RULES = 60
# Availability Zones a new account can use; regions not listed have three (docs/aws-limits.md).
DEFAULT_AVAILABILITY_ZONES = 3
REGION_AVAILABILITY_ZONES = {"us-east-1": 6, "us-west-2": 4, "ap-northeast-2": 4, "us-west-1": 2}
# EC2 refuses user data above 16 KB (before base64).
MAX_USER_DATA_BYTES = 16 * 1024
ROOT_VOLUME_GIB = (8, 16384)
NAT_STRATEGIES = ("OnePerAz", "Single", "None")
AVAILABILITY_ZONES = (2, 6)


port = between(*PORTS, " (the container runs without root and without capabilities)")
architecture = one_of(ARCHITECTURES)
capacity_provider = one_of(CAPACITY_PROVIDERS)
nat_strategy = one_of(NAT_STRATEGIES)
availability_zones = between(*AVAILABILITY_ZONES, " (an ALB needs two)")
stop_timeout = between(*STOP_TIMEOUT_SECONDS, " (Fargate allows 120; the server drains 5 s inside it)")
health_check_interval = between(*HEALTH_CHECK_INTERVAL_SECONDS)
health_check_timeout = between(*HEALTH_CHECK_TIMEOUT_SECONDS)
health_check_threshold = between(*HEALTH_CHECK_THRESHOLD)
deregistration_delay = between(*DEREGISTRATION_DELAY_SECONDS)
root_volume = between(*ROOT_VOLUME_GIB)
# ECR lifecycle rules take any positive countNumber; these bounds keep a typo (days vs images) visible.
expiry_days = between(1, 3650)
images_to_keep = between(1, 10000)
vpc_id = matches(VPC_ID, "a VPC id such as vpc-0123456789abcdef0")
subnet_id = matches(SUBNET_ID, "a subnet id such as subnet-0123456789abcdef0")
acm_certificate_arn = matches(ACM_ARN, "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>)")
kms_key_arn = matches(KMS_KEY_ARN, "a KMS key or alias ARN")
secret_arn = matches(SECRET_ARN, "a Secrets Manager secret ARN or an SSM parameter ARN")
principal_arn = matches(
    PRINCIPAL_ARN, "an IAM root, role or user ARN (names of at most 64 of A-Z a-z 0-9 _ + = , . @ -)"
)
health_path = matches(HEALTH_PATH, "a URL path such as /health (at most 1024 of A-Z a-z 0-9 / _ . ~ -)")


task_count = between(1, 1000)
cpu_target_percent = between(10, 90)
requests_per_target = between(1, 1_000_000)
grace_period = between(0, 3600)
LISTENER_PORTS = (1, 65535)
LOAD_BALANCER_NAME = re.compile(r"(?!internal-)[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?", re.ASCII)
load_balancer_name = matches(
    LOAD_BALANCER_NAME, "a load balancer name (at most 32 letters, digits and hyphens, no hyphen at either end)"
)


def count_between(low: int, high: int) -> Rule:
    """The desired count: from the lower to the upper autoscaling bound."""

    def rule(value: Any) -> str | None:
        if low > high:
            return None  # the bounds themselves are wrong, and reported there
        if not is_int(value) or not low <= value <= high:
            return f"must be from the minimum ({low}) to the maximum ({high}) count"
        return None

    return rule


def health_check_timeout_below(interval: int) -> Rule:
    def rule(value: Any) -> str | None:
        reason = health_check_timeout(value)
        if reason is None and is_int(interval) and value >= interval:
            return f"must be less than the health check interval ({interval} s)"
        return reason

    return rule


def listener_ports(value: Any) -> str | None:
    low, high = LISTENER_PORTS
    if not value or not all(is_int(port) and low <= port <= high for port in value):
        return f"must be one or more ports from {low} to {high}"
    if len(set(value)) != len(value):
        return "lists a port twice"
    return None


def subnet_ids(value: Any) -> str | None:
    if len(value) < 2:
        return "needs at least two subnets in different Availability Zones"
    bad = [item for item in value if subnet_id(item) is not None]
    return f"not subnet ids such as subnet-0123456789abcdef0: {', '.join(map(str, bad))}" if bad else None


def region(value: Any) -> str | None:
    """A region botocore knows (its partitions data), e.g. eu-west-1."""
    if isinstance(value, str) and REGION.fullmatch(value) and value in aws_models.region_partitions():
        return None
    return "not an AWS region name such as eu-west-1 (botocore lists no such region)"


def partition_of(region_name: str) -> str:
    """The partition a region belongs to (botocore's partitions data); `aws` for a region it does not know."""
    return aws_models.region_partitions().get(region_name, "aws")


def availability_zones_in(region_name: str) -> Rule:
    """No more Availability Zones than the region has (docs/aws-limits.md: most regions have three)."""
    count = REGION_AVAILABILITY_ZONES.get(region_name, DEFAULT_AVAILABILITY_ZONES)

    def rule(value: Any) -> str | None:
        return f"{region_name} has {count} Availability Zones" if is_int(value) and value > count else None

    return rule


def arn_in(region_name: str, what: str) -> Rule:
    """An ARN in the stack's own partition and region (a listener, a repository or a log group cannot use a
    certificate or key from elsewhere)."""
    partition = partition_of(region_name)

    def rule(value: Any) -> str | None:
        parts = str(value).split(":")
        if len(parts) < 6 or (parts[1], parts[3]) != (partition, region_name):
            return f"{what} must be in the stack's partition and region ({partition}, {region_name})"
        return None

    return rule


def principals_in(region_name: str) -> Rule:
    """Principal ARNs of the stack's partition (an account id becomes `arn:<partition>:iam::<id>:root`)."""
    partition = partition_of(region_name)

    def rule(value: Any) -> str | None:
        other = [arn for arn in value if str(arn).split(":")[1:2] != [partition]]
        return f"{', '.join(map(str, other))}: not in the stack's partition ({partition})" if other else None

    return rule


def principal_or_account(value: Any) -> str | None:
    """A 12-digit account id (its root) or an IAM principal ARN; never a public principal."""
    if isinstance(value, str) and ACCOUNT_ID.fullmatch(value):
        return None
    if principal_arn(value) is None:
        return None
    return "must be a 12-digit account id or an IAM root/role/user ARN; public principals are not allowed"


def tags(reserved: Iterable[str] = ()) -> Rule:
    """Extra tags: AWS's count, lengths and characters, no `aws:` keys, none of the keys the program sets."""
    owned = tuple(reserved)

    def rule(value: Mapping[str, Any]) -> str | None:
        if len(value) > MAX_EXTRA_TAGS:
            program = MAX_TAGS - MAX_EXTRA_TAGS
            return f"{len(value)} tags; AWS allows {MAX_TAGS} per resource and the program sets {program}"
        for key, text in value.items():
            if not 1 <= len(key) <= TAG_KEY_LENGTH or len(str(text)) > TAG_VALUE_LENGTH:
                return (
                    f"{key}: expected key=value with a key of 1-{TAG_KEY_LENGTH} and a value of at most "
                    f"{TAG_VALUE_LENGTH} characters"
                )
            if not _tag_text(key) or not _tag_text(str(text)):
                return f"{key}: tags take letters, digits, spaces and _ . : / = + - @ only"
            if key.lower().startswith("aws:"):
                return f"{key}: keys starting with aws: are reserved by AWS"
            if key in owned:
                return f"{key}: set for every resource by the program"
        return None

    return rule


def _tag_text(text: str) -> bool:
    """AWS's tag pattern `[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`: Unicode letters, separators and numbers are AWS's own
    rule here (unlike the ASCII-only identifiers above)."""
    return all(unicodedata.category(char)[0] in "LZN" or char in TAG_PUNCTUATION for char in text)


def nat_needs_endpoints(vpc_endpoints: bool) -> Rule:
    """Private subnets without NAT reach ECR and CloudWatch Logs only through VPC endpoints."""

    def rule(value: Any) -> str | None:
        if value == "None" and not vpc_endpoints:
            return "private subnets without NAT need VPC endpoints to pull images and ship logs"
        return None

    return rule


def subnets_of_vpc(existing_vpc: str | None) -> Rule:
    """Subnets are given with an existing VPC (two or more in different AZs), and only then."""

    def rule(value: Any) -> str | None:
        if existing_vpc is None:
            return "subnets are only used with an existing VPC id" if value else None
        return None if len(value) >= 2 else "needs at least two subnets in different AZs with an existing VPC"

    return rule


def certificate_or_http(allow_http: bool, domain: str | None = None) -> Rule:
    """An HTTPS listener needs a certificate (given, or issued for `domain`); plain HTTP only when explicitly
    allowed (dev)."""

    def rule(value: Any) -> str | None:
        if value is None and domain is None and not allow_http:
            return (
                "an HTTPS listener needs a certificate; give one, or a domain name and hosted zone to issue one, "
                "or allow HTTP without a certificate (dev only)"
            )
        return None

    return rule


def repository_name(value: Any) -> str | None:
    low, high = REPOSITORY_NAME_LENGTH
    if isinstance(value, str) and low <= len(value) <= high and REPOSITORY_NAME.fullmatch(value):
        return None
    return f"must be {low}-{high} lowercase letters, digits and . _ - separated segments, e.g. shipshape/web"


def log_retention(value: Any) -> str | None:
    return None if value in LOG_RETENTION_DAYS else f"must be one of {', '.join(map(str, LOG_RETENTION_DAYS))}"


def fargate_cpu(value: Any) -> str | None:
    return None if is_int(value) and value in FARGATE_MEMORY else one_of(FARGATE_MEMORY)(value)


def fargate_memory(cpu: int) -> Rule:
    """Memory (MiB) Fargate accepts with `cpu` units; None when cpu itself is invalid (reported there)."""

    def rule(value: Any) -> str | None:
        if cpu not in FARGATE_MEMORY:
            return None
        if cpu == 256:
            ok = value in FARGATE_256_MEMORY
            return None if ok else "with cpu 256 must be 512, 1024 or 2048"
        low, high, step = FARGATE_MEMORY[cpu]
        if is_int(value) and low <= value <= high and (value - low) % step == 0:
            return None
        return f"with cpu {cpu} must be {low} to {high} in steps of {step}"

    return rule


def vpc_cidr(value: Any) -> str | None:
    low, high = VPC_PREFIX_LENGTHS
    try:
        network = ipaddress.IPv4Network(value)
    except (ValueError, TypeError):
        return "not an IPv4 CIDR block such as 10.0.0.0/16"
    if not any(network.subnet_of(block) for block in PRIVATE_VPC_BLOCKS) or not low <= network.prefixlen <= high:
        ranges = ", ".join(map(str, PRIVATE_VPC_BLOCKS))
        return f"must be a private IPv4 range ({ranges}) from /{low} to /{high}, e.g. 10.0.0.0/16"
    return None


def private_cidr(value: Any) -> str | None:
    """A private IPv4 or IPv6 range that may reach the app (the internet comes through the ALB)."""
    try:
        network = ipaddress.ip_network(value)
    except (ValueError, TypeError):
        return "not a CIDR block such as 10.20.0.0/16"
    if network.prefixlen == 0 or not network.is_private:
        return "only private ranges may reach the host; the internet goes through the ALB"
    return None


def ingress_cidrs(value: Any) -> str | None:
    """Private ranges, each once, within a security group's inbound rules per address family (one rule is the
    load balancer's group)."""
    reasons = [f"{item!r}: {reason}" for item in value if (reason := private_cidr(item)) is not None]
    if reasons:
        return "; ".join(reasons)
    networks = [ipaddress.ip_network(item) for item in value]
    twice = sorted({str(n) for n in networks if networks.count(n) > 1})
    if twice:
        return f"{', '.join(twice)} given twice (one rule each: a second would be a second resource of one name)"
    for version in (4, 6):
        count = sum(1 for n in networks if n.version == version)
        if count > SECURITY_GROUP_INGRESS_RULES - 1:
            return (
                f"{count} IPv{version} ranges; a security group takes {SECURITY_GROUP_INGRESS_RULES} inbound rules "
                "per address family and one is the load balancer's"
            )
    return None


def instance_type(architecture_name: str) -> Rule:
    """An EC2 instance type botocore's EC2 model lists, of `architecture_name`."""

    def rule(value: Any) -> str | None:
        if not isinstance(value, str) or value not in aws_models.instance_types():
            return "not an EC2 instance type botocore's EC2 model lists, such as t3.micro"
        found = aws_models.instance_architecture(value)
        if found is None:
            return "a Mac instance needs a macOS image; use a Linux type such as t3.micro"
        if found != architecture_name:
            wanted = (
                "a Graviton type such as t4g.micro"
                if architecture_name == "arm64"
                else "an x86_64 type such as t3.micro"
            )
            return f"architecture is {architecture_name}: use {wanted}"
        return None

    return rule


def one_log_key_source(create: bool) -> Rule:
    """The log group's key is brought (an ARN) or created by the stack, not both."""

    def rule(value: Any) -> str | None:
        if value is not None and create:
            return "give either a KMS key ARN (bring your own) or createLogKmsKey, not both"
        return None

    return rule
