"""What AWS accepts for a service's own domain: DNS names, Route 53 zone ids, the certificate's source, and the
documentation values a real deployment cannot own. One rule per value, as in components.aws_limits (this is
its DNS part, kept apart to keep each module small); sources in docs/aws-limits.md.

A leaf: the standard library and components.checks only.
"""

from __future__ import annotations

import re
from typing import Any

from components.checks import Rule, matches

# A DNS name ACM can issue for and Route 53 can alias: lowercase LDH labels of 1-63 characters, at least two,
# 253 characters in all (RFC 1035 2.3.4); ACM's DomainName allows at most 253 (ACM API RequestCertificate) and
# its first label at most 64 (the certificate's subject CN).
DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
DOMAIN_NAME_LENGTH = 253
# Route 53 hosted zone ids: "Z" and up to 31 uppercase letters and digits (the API's ResourceId, 32 at most).
HOSTED_ZONE_ID = re.compile(r"Z[A-Z0-9]{1,31}", re.ASCII)
# AWS's documentation account (the AWS General Reference's examples) and the domains RFC 2606 reserves for
# documentation: fine in a preview, never something a real deployment can own.
DOCUMENTATION_ACCOUNT = "123456789012"
DOCUMENTATION_DOMAINS = ("example.com", "example.net", "example.org")


def domain_name(value: Any) -> str | None:
    text = str(value)
    labels = text.split(".")
    if len(text) > DOMAIN_NAME_LENGTH or len(labels) < 2 or not all(DOMAIN_LABEL.fullmatch(x) for x in labels):
        return (
            "must be a lowercase DNS name like app.example.org: at least two labels of letters, digits and inner "
            f"hyphens (1-63 each), {DOMAIN_NAME_LENGTH} characters at most, no wildcard"
        )
    return None


hosted_zone_id = matches(HOSTED_ZONE_ID, "a Route 53 hosted zone id (Z and up to 31 uppercase letters and digits)")


def one_certificate_source(domain: str | None) -> Rule:
    """certificateArn (bring your own) and domainName (the program issues one) are two ways: at most one."""

    def rule(value: Any) -> str | None:
        if value is not None and domain is not None:
            return "give either a certificate ARN (bring your own) or a domain name (issued here), not both"
        return None

    return rule


def together_with(other: Any, other_name: str, name: str) -> Rule:
    """A value given exactly when `other` is (a domain name and its hosted zone)."""

    def rule(value: Any) -> str | None:
        if (value is None) != (other is None):
            return f"{name} and {other_name} go together: set both or neither"
        return None

    return rule


def documentation_value(value: Any) -> str | None:
    """A value that only AWS's or the RFCs' documentation uses: a real deployment cannot own it."""
    texts = [str(item) for item in value] if isinstance(value, list | tuple) else [str(value)]
    for text in texts:
        if re.search(rf"(?<![0-9]){DOCUMENTATION_ACCOUNT}(?![0-9])", text):
            return f"account {DOCUMENTATION_ACCOUNT} is AWS's documentation account: set this stack's real value"
        host = text.lower().rstrip(".")
        if any(host == domain or host.endswith(f".{domain}") for domain in DOCUMENTATION_DOMAINS):
            return "example.com, example.net and example.org are documentation domains (RFC 2606): set a domain you own"
    return None
