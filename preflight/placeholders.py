"""Plausible placeholder values for outputs only a provider computes, for any type its SDK declares.

The names and types come from the SDK (`preflight.sdk_types`); the value follows the output's declared
type and, for strings, what its name says it holds (an ARN, an id, a host name, a URL, a time). Every
value derives from the resource's URN, so two runs agree byte for byte.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from preflight import sdk_types

ACCOUNT = "123456789012"
PARTITION = "aws"
FIXED_TIME = "2030-01-01T00:00:00Z"
# Type-token module -> the service in ARNs and endpoints, where the two differ.
ARN_SERVICES = {
    "lb": "elasticloadbalancing",
    "alb": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "appautoscaling": "application-autoscaling",
    "vpc": "ec2",
    "ec2transitgateway": "ec2",
    "cognito": "cognito-idp",
    "sfn": "states",
    "cloudwatch": "cloudwatch",
    "apigateway": "apigateway",
    "apigatewayv2": "apigateway",
    "elasticache": "elasticache",
}
# Services whose ARNs carry no region (and for s3, no account either).
GLOBAL_SERVICES = {"iam", "route53", "cloudfront", "s3", "organizations"}
_MAX_DEPTH = 3


def sha1(seed: str, length: int) -> str:
    return hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()[:length]


def as_uuid(hex32: str) -> str:
    """32 hex digits in the 8-4-4-4-12 form AWS uses for key, certificate and provider ids."""
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:32]}"


def kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def service_of(typ: str) -> str:
    module = typ.split(":")[1].split("/")[0] if typ.count(":") == 2 else "resource"
    return ARN_SERVICES.get(module, module)


class Placeholders:
    """Placeholder outputs for one stack's region and the placeholder account."""

    def __init__(self, region: str) -> None:
        self.region = region

    def arn(self, typ: str, physical: str) -> str:
        """A plausible ARN for any `aws:<module>/<resource>:<Type>` token."""
        service = service_of(typ)
        kind = kebab(typ.rsplit(":", 1)[-1])
        if service == "s3":
            return f"arn:{PARTITION}:s3:::{physical}"
        region = "" if service in GLOBAL_SERVICES else self.region
        return f"arn:{PARTITION}:{service}:{region}:{ACCOUNT}:{kind}/{physical}"

    def resource_outputs(self, typ: str, physical: str, urn: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Every output the SDK says only the provider computes for `typ`, as a placeholder."""
        values: dict[str, Any] = {}
        for field in sdk_types.computed_outputs(typ):
            if field.name == "tagsAll":
                # The provider's merge of the provider's default tags and the resource's own.
                tags = inputs.get("tags")
                values[field.name] = dict(tags) if isinstance(tags, Mapping) else {}
                continue
            values[field.name] = self._value(field, typ, physical, f"{urn}/{field.name}", 0)
        return values

    def function_result(self, token: str) -> dict[str, Any]:
        """Every field of a data source's result type, as a placeholder."""
        fields = sdk_types.result_fields(token) or ()
        name = token.rsplit(":", 1)[-1]
        return {field.name: self._value(field, token, name, f"{token}/{field.name}", 0) for field in fields}

    def _value(self, field: sdk_types.Field, typ: str, physical: str, seed: str, depth: int) -> Any:
        kind, detail = sdk_types.shape(field.annotation)
        if kind == "str" or kind == "any":
            return self._string(field.name, typ, physical, seed)
        if kind == "int":
            return 443 if field.name.lower().endswith("port") else 1
        if kind == "float":
            return 1.0
        if kind == "bool":
            return False
        if kind == "map":
            return {}
        if kind == "list":
            inner_kind, _ = sdk_types.shape(detail)
            if inner_kind == "object" and depth < _MAX_DEPTH:
                # One element, so that programs indexing `[0]` (a certificate's validation option) work.
                element = sdk_types.Field(field.name, detail, field.module)
                return [self._value(element, typ, physical, f"{seed}/0", depth + 1)]
            if inner_kind == "str":
                return [self._string(field.name.rstrip("s"), typ, physical, f"{seed}/0")]
            return []
        if kind == "object" and depth < _MAX_DEPTH:
            return {
                nested.name: self._value(nested, typ, physical, f"{seed}/{nested.name}", depth + 1)
                for nested in sdk_types.object_fields(detail, field.module)
            }
        return None

    def _string(self, name: str, typ: str, physical: str, seed: str) -> str:
        lower = name.lower()
        service = service_of(typ)
        host = f"{physical}.{sha1(seed, 12)}.{self.region}.{service}.amazonaws.com"
        if lower == "arn" or lower.endswith("arn"):
            return self.arn(typ, f"{physical}/{kebab(name)}" if lower != "arn" else physical)
        if lower in ("ownerid", "accountid", "registryid") or lower.endswith("accountid"):
            return ACCOUNT
        if lower == "region":
            return self.region
        if lower.endswith(("url", "uri")):
            return f"https://{host}/"
        if lower.endswith(("address", "endpoint", "dnsname", "hostname", "domainname", "fqdn")):
            return host
        if lower.endswith(("date", "time", "timestamp")) or lower.startswith(("created", "lastmodified")):
            return FIXED_TIME
        if lower.endswith("id"):
            return f"{kebab(name[:-2]) or 'id'}-{sha1(seed, 17)}"
        return f"{physical}-{kebab(name)}"
