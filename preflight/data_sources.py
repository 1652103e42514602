"""Answers for the data sources programs commonly read, in the shape the provider returns them.

Each answer starts from the data source's result type in the SDK (every field a plausible placeholder, see
`preflight.placeholders`), echoes the arguments (the provider returns its inputs as attributes), and sets
the fields whose values matter with what AWS would return for this stack's region and placeholder account.
A data source not listed here gets no answer: `StackMocks.call` makes its outputs unknown and notes it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

from pulumi.runtime import rpc

from preflight.placeholders import ACCOUNT, PARTITION, Placeholders, as_uuid, sha1
from preflight.policy_document import policy_document

# Elastic Load Balancing's own account per region, for access-log bucket policies (AWS documents these in
# "Enable access logs for your Application Load Balancer").
ELB_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "eu-central-1": "054676820928",
    "eu-north-1": "897822967062",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
}
AMAZON_IMAGES_OWNER = "137112412989"
"""The account Amazon Linux images belong to (the `amazon` owner alias)."""


def _seed(args: Mapping[str, Any]) -> str:
    return repr(sorted((key, repr(value)) for key, value in args.items()))


def _zones(region: str, count: int = 3) -> list[str]:
    return [f"{region}{letter}" for letter in "abcdef"[:count]]


def _ami(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    image = f"ami-0{sha1(_seed(args), 16)}"
    owners = [str(owner) for owner in args.get("owners") or []]
    owner = next((o for o in owners if o.isdigit()), AMAZON_IMAGES_OWNER)
    names = [v for f in args.get("filters") or [] if f.get("name") == "name" for v in f.get("values") or []]
    name = names[0].replace("*", "2030.01.01") if names else f"image-{sha1(image, 8)}"
    return {
        "id": image,
        "imageId": image,
        "arn": f"arn:{PARTITION}:ec2:{p.region}::image/{image}",
        "name": name,
        "ownerId": owner,
        "architecture": "arm64" if "arm64" in name else "x86_64",
        "rootDeviceName": "/dev/xvda",
        "rootDeviceType": "ebs",
        "virtualizationType": "hvm",
        "imageType": "machine",
        "state": "available",
        "public": True,
        "platformDetails": "Linux/UNIX",
        "blockDeviceMappings": [],
        "productCodes": [],
        "tags": {},
    }


def _vpc(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    vpc_id = args.get("id") or f"vpc-{sha1(_seed(args), 17)}"
    return {
        "id": vpc_id,
        "cidrBlock": args.get("cidrBlock") or "172.31.0.0/16",
        "arn": f"arn:{PARTITION}:ec2:{p.region}:{ACCOUNT}:vpc/{vpc_id}",
        "ownerId": ACCOUNT,
        "default": bool(args.get("default", False)),
        "state": "available",
        "enableDnsSupport": True,
        "enableDnsHostnames": True,
        "instanceTenancy": "default",
        "mainRouteTableId": f"rtb-{sha1(vpc_id, 17)}",
        "tags": args.get("tags") or {},
    }


def _subnets(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    seed = _seed(args)
    return {"id": p.region, "ids": [f"subnet-{sha1(f'{seed}/{i}', 17)}" for i in range(3)]}


def _subnet(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    subnet_id = args.get("id") or f"subnet-{sha1(_seed(args), 17)}"
    zone = args.get("availabilityZone") or _zones(p.region)[int(sha1(subnet_id, 2), 16) % 3]
    return {
        "id": subnet_id,
        "arn": f"arn:{PARTITION}:ec2:{p.region}:{ACCOUNT}:subnet/{subnet_id}",
        "vpcId": args.get("vpcId") or f"vpc-{sha1(subnet_id, 17)}",
        "availabilityZone": zone,
        "cidrBlock": args.get("cidrBlock") or "172.31.0.0/20",
        "ownerId": ACCOUNT,
        "state": "available",
        "mapPublicIpOnLaunch": False,
    }


def _zone(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    name = str(args.get("name") or "example.com").rstrip(".")
    zone_id = args.get("zoneId") or "Z" + sha1(name, 20).upper()
    return {
        "id": zone_id,
        "zoneId": zone_id,
        "name": name,
        "arn": f"arn:{PARTITION}:route53:::hostedzone/{zone_id}",
        "privateZone": bool(args.get("privateZone", False)),
        "nameServers": [
            f"ns-{int(sha1(f'{name}/{i}', 3), 16) % 2048}.awsdns-{i:02d}.{tld}"
            for i, tld in enumerate(("com", "net", "org", "co.uk"))
        ],
        "primaryNameServer": "ns-0.awsdns-00.com",
        "resourceRecordSetCount": 2,
        "callerReference": sha1(name, 16),
        "comment": "",
        "tags": args.get("tags") or {},
    }


def _registry_token(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    registry = str(args.get("registryId") or ACCOUNT)
    return {
        "id": p.region,
        "userName": "AWS",
        "password": "preflight-ecr-password",
        "authorizationToken": base64.b64encode(b"AWS:preflight-ecr-password").decode(),
        "proxyEndpoint": f"https://{registry}.dkr.ecr.{p.region}.amazonaws.com",
        "expiresAt": "2030-01-01T00:00:00Z",
        "registryId": registry,
    }


def _ecr_credentials(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    registry = str(args.get("registryId") or ACCOUNT)
    return {
        "id": registry,
        "registryId": registry,
        "authorizationToken": base64.b64encode(b"AWS:preflight-ecr-password").decode(),
        "expiresAt": "2030-01-01T00:00:00Z",
        "proxyEndpoint": f"https://{registry}.dkr.ecr.{p.region}.amazonaws.com",
    }


def _parameter(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    name = str(args.get("name", ""))
    # Public SSM parameters programs read most are AMI ids (/aws/service/ami-amazon-linux-latest/...).
    value = f"ami-0{sha1(name, 16)}" if "/ami" in name else f"preflight-{sha1(name, 12)}"
    return {
        "id": name,
        "name": name,
        "value": value,
        "insecureValue": value,
        "type": "String",
        "version": 1,
        "arn": f"arn:{PARTITION}:ssm:{p.region}:{ACCOUNT}:parameter/{name.lstrip('/')}",
        "withDecryption": args.get("withDecryption", True),
    }


def _caller_identity(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": ACCOUNT,
        "accountId": ACCOUNT,
        "arn": f"arn:{PARTITION}:iam::{ACCOUNT}:user/preflight",
        "userId": "AIDAPREFLIGHTPLACEHOLDER",
    }


def _region(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": p.region,
        "name": p.region,
        "region": p.region,
        "endpoint": f"ec2.{p.region}.amazonaws.com",
        "description": p.region,
    }


def _partition(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": PARTITION, "partition": PARTITION, "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"}


def _availability_zones(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    zone_ids = [f"{p.region[:2]}{p.region.split('-')[1][0]}{p.region[-1]}-az{i + 1}" for i in range(3)]
    return {
        "id": p.region,
        "names": _zones(p.region),
        "zoneIds": zone_ids,
        "groupNames": [p.region],
        "state": args.get("state"),
    }


def _service_account(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    region = str(args.get("region") or p.region)
    account = ELB_ACCOUNTS.get(region, ELB_ACCOUNTS["us-east-1"])
    return {"id": account, "arn": f"arn:{PARTITION}:iam::{account}:root", "region": region}


def _route_tables(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    seed = _seed(args)
    return {"id": p.region, "ids": [f"rtb-{sha1(f'{seed}/{i}', 17)}" for i in range(3)]}


def _security_group(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    group = args.get("id") or f"sg-{sha1(_seed(args), 17)}"
    return {
        "id": group,
        "arn": f"arn:{PARTITION}:ec2:{p.region}:{ACCOUNT}:security-group/{group}",
        "name": args.get("name") or "default",
        "vpcId": args.get("vpcId") or f"vpc-{sha1(group, 17)}",
        "description": "default VPC security group",
    }


def _certificate(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    digits = sha1(_seed(args), 32)
    certificate = as_uuid(digits)
    arn = f"arn:{PARTITION}:acm:{p.region}:{ACCOUNT}:certificate/{certificate}"
    return {"id": arn, "arn": arn, "domain": args.get("domain"), "status": "ISSUED", "keyTypes": [], "types": []}


def _role(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    name = str(args.get("name", "role"))
    return {
        "id": name,
        "name": name,
        "arn": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}",
        "uniqueId": "AROA" + sha1(name, 17).upper(),
    }


def _bucket(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    bucket = str(args.get("bucket", "bucket"))
    return {
        "id": bucket,
        "bucket": bucket,
        "arn": f"arn:{PARTITION}:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{p.region}.amazonaws.com",
        "hostedZoneId": "Z1BKCTXD74EZPE",
        "region": p.region,
    }


def _key_arn(p: Placeholders, seed: str) -> tuple[str, str]:
    digits = sha1(seed, 32)
    key = as_uuid(digits)
    return key, f"arn:{PARTITION}:kms:{p.region}:{ACCOUNT}:key/{key}"


def _kms_key(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    # key_id may be a key id, a key ARN, an alias name or an alias ARN; the answer is the key itself.
    key, arn = _key_arn(p, str(args.get("keyId", "")))
    return {"id": key, "arn": arn, "keyId": key, "enabled": True, "keyState": "Enabled", "keyManager": "CUSTOMER"}


def _kms_alias(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    name = str(args.get("name", "alias/key"))
    key, arn = _key_arn(p, name)
    return {
        "id": f"arn:{PARTITION}:kms:{p.region}:{ACCOUNT}:{name}",
        "arn": f"arn:{PARTITION}:kms:{p.region}:{ACCOUNT}:{name}",
        "targetKeyId": key,
        "targetKeyArn": arn,
    }


def _cluster(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    name = str(args.get("clusterName", "default"))
    arn = f"arn:{PARTITION}:ecs:{p.region}:{ACCOUNT}:cluster/{name}"
    return {"id": arn, "arn": arn, "clusterName": name, "status": "ACTIVE"}


def _log_group(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    name = str(args.get("name", "log-group"))
    return {"id": name, "name": name, "arn": f"arn:{PARTITION}:logs:{p.region}:{ACCOUNT}:log-group:{name}"}


def _secret(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    # Secrets Manager appends six random characters to a secret's name in its ARN.
    name = str(args.get("name") or "secret")
    arn = args.get("arn") or f"arn:{PARTITION}:secretsmanager:{p.region}:{ACCOUNT}:secret:{name}-{sha1(name, 6)}"
    return {"id": arn, "arn": arn, "name": name}


def _load_balancer(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    name = str(args.get("name") or "lb")
    suffix = f"app/{name}/{sha1(name, 16)}"
    arn = args.get("arn") or f"arn:{PARTITION}:elasticloadbalancing:{p.region}:{ACCOUNT}:loadbalancer/{suffix}"
    return {
        "id": arn,
        "arn": arn,
        "arnSuffix": suffix,
        "name": name,
        "dnsName": f"{name}-{int(sha1(name, 8), 16) % 10**9}.{p.region}.elb.amazonaws.com",
        "loadBalancerType": "application",
        "internal": False,
    }


def _security_groups(p: Placeholders, args: Mapping[str, Any]) -> dict[str, Any]:
    seed = _seed(args)
    ids = [f"sg-{sha1(f'{seed}/{i}', 17)}" for i in range(2)]
    return {"id": p.region, "ids": ids, "vpcIds": [f"vpc-{sha1(seed, 17)}"] * 2}


ANSWERS: dict[str, Callable[[Placeholders, Mapping[str, Any]], dict[str, Any]]] = {
    "aws:ec2/getAmi:getAmi": _ami,
    "aws:ec2/getVpc:getVpc": _vpc,
    "aws:ec2/getSubnets:getSubnets": _subnets,
    "aws:ec2/getSubnet:getSubnet": _subnet,
    "aws:ec2/getRouteTables:getRouteTables": _route_tables,
    "aws:ec2/getSecurityGroup:getSecurityGroup": _security_group,
    "aws:route53/getZone:getZone": _zone,
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": _registry_token,
    "aws:ecr/getCredentials:getCredentials": _ecr_credentials,
    "aws:ssm/getParameter:getParameter": _parameter,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getRegion:getRegion": _region,
    "aws:index/getPartition:getPartition": _partition,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:elb/getServiceAccount:getServiceAccount": _service_account,
    "aws:acm/getCertificate:getCertificate": _certificate,
    "aws:iam/getRole:getRole": _role,
    "aws:s3/getBucket:getBucket": _bucket,
    "aws:kms/getKey:getKey": _kms_key,
    "aws:kms/getAlias:getAlias": _kms_alias,
    "aws:ecs/getCluster:getCluster": _cluster,
    "aws:cloudwatch/getLogGroup:getLogGroup": _log_group,
    "aws:secretsmanager/getSecret:getSecret": _secret,
    "aws:lb/getLoadBalancer:getLoadBalancer": _load_balancer,
    "aws:ec2/getSecurityGroups:getSecurityGroups": _security_groups,
    "aws:iam/getPolicyDocument:getPolicyDocument": lambda _p, args: policy_document(args),
}


# Outputs pulumi-aws's schema marks secret ("This value is always marked as sensitive", the functions' docs);
# the provider returns them as secrets, and the Python SDK then marks the WHOLE result of an output-form
# invoke secret (pulumi/runtime/invoke.py: `invoke_output_secret = is_secret or inputs_contain_secrets`),
# so even `get_parameter_output(...).insecure_value` is secret; only a plain invoke's fields are not.
SENSITIVE_OUTPUTS: dict[str, frozenset[str]] = {
    "aws:ssm/getParameter:getParameter": frozenset({"value"}),
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": frozenset({"authorizationToken", "password"}),
    "aws:ecr/getCredentials:getCredentials": frozenset({"authorizationToken"}),
}


def answer(placeholders: Placeholders, token: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
    """The data source's result, or None when preflight has no answer for it."""
    compute = ANSWERS.get(token)
    if compute is None:
        return None
    result = placeholders.function_result(token)
    result.update({key: value for key, value in args.items() if value is not None})
    result.update({key: value for key, value in compute(placeholders, args).items() if value is not None})
    for key in SENSITIVE_OUTPUTS.get(token, ()) & result.keys():
        result[key] = {rpc._special_sig_key: rpc._special_secret_sig, "value": result[key]}
    return result
