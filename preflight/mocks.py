"""Type-aware mock outputs: deterministic ARNs, URLs and ids in the stack's region, so the documents and
container definitions built from outputs resolve and the pack can judge them fully."""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi
from pulumi.runtime import rpc

ACCOUNT = "123456789012"
UNKNOWN = rpc.UNKNOWN
ELB_ACCOUNTS = {"eu-west-1": "156460612806", "us-east-1": "127311923021", "eu-central-1": "054676820928"}


def _hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


class UnknownInvokeError(Exception):
    pass


class StackMocks(pulumi.runtime.Mocks):
    """Outputs = inputs + what the provider would compute; `unknowns` leaves the computed part unknown."""

    def __init__(self, region: str, *, unknowns: bool = False) -> None:
        self.region = region
        self.unknowns = unknowns

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        seed = f"{args.typ}::{args.name}"
        computed = self._computed(args.typ, args.name, dict(args.inputs), seed)
        if args.typ == "awsx:ec2:Vpc":
            outputs: dict[str, Any] = {}
        else:
            outputs = dict(args.inputs)
        if self.unknowns:
            outputs.update({key: UNKNOWN for key in computed if key not in args.inputs})
            return "", outputs
        for key, value in computed.items():
            outputs.setdefault(key, value) if key not in ("arn",) else outputs.__setitem__(key, value)
        return computed.get("id", f"{args.name}-{_hex(seed, 8)}"), outputs

    def _computed(self, typ: str, name: str, inputs: dict[str, Any], seed: str) -> dict[str, Any]:
        region, hex8 = self.region, _hex(seed, 8)
        physical = inputs.get("name") or (
            inputs["namePrefix"] + _hex(seed, 7) if inputs.get("namePrefix") else f"{name}-{_hex(seed, 7)}"
        )
        module = typ.split(":")[1].split("/")[0] if typ.count(":") == 2 else "resource"
        out: dict[str, Any] = {"name": physical, "arn": f"arn:aws:{module}:{region}:{ACCOUNT}:{name}/{physical}"}
        if typ == "aws:ecr/repository:Repository":
            out.update(
                arn=f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{physical}",
                repositoryUrl=f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{physical}",
                registryId=ACCOUNT,
            )
        elif typ == "docker:index/image:Image":
            image = str(inputs.get("imageName", name))
            repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
            out = {"repoDigest": f"{repo}@sha256:{hashlib.sha256(image.encode()).hexdigest()}", "baseImageName": image}
        elif typ == "awsx:ec2:Vpc":
            zones = int(inputs.get("numberOfAvailabilityZones") or 2)
            out = {
                "vpcId": f"vpc-{_hex(seed, 17)}",
                "publicSubnetIds": [f"subnet-{_hex(seed + 'public' + str(i), 17)}" for i in range(zones)],
                "privateSubnetIds": [f"subnet-{_hex(seed + 'private' + str(i), 17)}" for i in range(zones)],
                "isolatedSubnetIds": [],
                "subnets": [],
                "publicSubnets": [],
                "privateSubnets": [],
                "isolatedSubnets": [],
                "natGateways": [],
                "routeTables": [],
                "routeTableAssociations": [],
                "routes": [],
                "vpcEndpoints": [],
                "eips": [],
            }
        elif typ == "aws:ec2/securityGroup:SecurityGroup":
            out.update(
                id=f"sg-{_hex(seed, 17)}", arn=f"arn:aws:ec2:{region}:{ACCOUNT}:security-group/sg-{_hex(seed, 17)}"
            )
        elif typ == "aws:ec2/instance:Instance":
            out.update(
                id=f"i-{_hex(seed, 17)}",
                privateIp="10.0.128.10",
                arn=f"arn:aws:ec2:{region}:{ACCOUNT}:instance/i-{_hex(seed, 17)}",
            )
        elif typ == "aws:iam/role:Role":
            out.update(
                arn=f"arn:aws:iam::{ACCOUNT}:role/{physical}", id=physical, uniqueId=f"AROA{_hex(seed, 16).upper()}"
            )
        elif typ == "aws:iam/instanceProfile:InstanceProfile":
            out.update(arn=f"arn:aws:iam::{ACCOUNT}:instance-profile/{physical}", id=physical)
        elif typ == "aws:iam/policy:Policy":
            out.update(arn=f"arn:aws:iam::{ACCOUNT}:policy/{physical}", id=f"arn:aws:iam::{ACCOUNT}:policy/{physical}")
        elif typ == "aws:cloudwatch/logGroup:LogGroup":
            out.update(arn=f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{physical}", id=physical)
        elif typ == "aws:dynamodb/table:Table":
            out.update(arn=f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{physical}", id=physical)
        elif typ == "aws:s3/bucket:Bucket":
            bucket = inputs.get("bucket") or f"{name}-{_hex(seed, 7)}"
            out = {
                "bucket": bucket,
                "id": bucket,
                "arn": f"arn:aws:s3:::{bucket}",
                "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
            }
        elif typ == "aws:lb/loadBalancer:LoadBalancer":
            out.update(
                arn=f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:loadbalancer/app/{physical}/{_hex(seed, 16)}",
                arnSuffix=f"app/{physical}/{_hex(seed, 16)}",
                dnsName=f"{physical}-{_hex(seed, 9)}.{region}.elb.amazonaws.com",
                zoneId="Z32O12XQLNTSW2",
            )
        elif typ == "aws:lb/targetGroup:TargetGroup":
            out.update(
                arn=f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:targetgroup/{physical}/{_hex(seed, 16)}",
                arnSuffix=f"targetgroup/{physical}/{_hex(seed, 16)}",
            )
        elif typ == "aws:ecs/cluster:Cluster":
            out.update(arn=f"arn:aws:ecs:{region}:{ACCOUNT}:cluster/{physical}")
        elif typ == "aws:ecs/service:Service":
            out.update(arn=f"arn:aws:ecs:{region}:{ACCOUNT}:service/{physical}")
        elif typ == "aws:ecs/taskDefinition:TaskDefinition":
            family = inputs.get("family", physical)
            out.update(arn=f"arn:aws:ecs:{region}:{ACCOUNT}:task-definition/{family}:1", revision=1)
        elif typ == "aws:kms/key:Key":
            digits = _hex(seed, 32)
            key = f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
            out.update(arn=f"arn:aws:kms:{region}:{ACCOUNT}:key/{key}", keyId=key, id=key)
        out.setdefault("id", f"{name}-{hex8}")
        return out

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        region = self.region
        token = args.token
        if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {
                "userName": "AWS",
                "password": "preflight-ecr-password",
                "authorizationToken": "QVdTOnByZWZsaWdodA==",
                "proxyEndpoint": f"https://{ACCOUNT}.dkr.ecr.{region}.amazonaws.com",
                "expiresAt": "2030-01-01T00:00:00Z",
                "id": region,
            }
        if token == "aws:ssm/getParameter:getParameter":
            return {
                "name": args.args.get("name"),
                "value": "ami-0abcdef1234567890",
                "type": "String",
                "id": args.args.get("name"),
            }
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/preflight",
                "userId": "AIDAPREFLIGHT",
                "id": ACCOUNT,
            }
        if token == "aws:index/getRegion:getRegion":
            return {"name": region, "region": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com"}
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return {"names": [f"{region}{z}" for z in "abc"], "zoneIds": [f"az{i}" for i in range(3)], "id": region}
        if token == "aws:elb/getServiceAccount:getServiceAccount":
            account = ELB_ACCOUNTS.get(region, "127311923021")
            return {"arn": f"arn:aws:iam::{account}:root", "id": account}
        if token == "aws:ec2/getRouteTables:getRouteTables":
            return {"ids": [f"rtb-{_hex(str(args.args) + str(i), 17)}" for i in range(3)], "id": "route-tables"}
        if token == "aws:ec2/getVpc:getVpc":
            return {
                "id": args.args.get("id"),
                "cidrBlock": "10.0.0.0/16",
                "arn": f"arn:aws:ec2:{region}:{ACCOUNT}:vpc/{args.args.get('id')}",
            }
        raise UnknownInvokeError(f"preflight has no mock answer for the invoke {token}; add one in preflight/mocks.py")
