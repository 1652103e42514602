"""HTTPS for a domain: the stack issues a DNS-validated certificate and aliases the name to the load balancer;
a real `pulumi up` refuses the documentation values the committed stack files show."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import pulumi
import pytest

from components.settings import SettingsError, load_settings, parse_settings
from preflight.recorder import Recording, record
from preflight.stack_config import load_stack_config
from tests.conftest import ROOT

ZONE = "Z0123456789ABCDEFGHIJ"
CERTIFICATE = "arn:aws:acm:eu-west-1:210987654321:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"


@cache
def prod() -> Recording:
    return record(ROOT, "prod")


def test_prod_issues_a_dns_validated_certificate_for_its_domain() -> None:
    recording = prod()
    (certificate,) = recording.by_type("aws:acm/certificate:Certificate")
    assert certificate.inputs["domainName"] == "app.example.com"
    assert certificate.inputs["validationMethod"] == "DNS"
    records = recording.by_type("aws:route53/record:Record")
    validation_records = [r for r in records if r.inputs["type"] == "CNAME"]
    # One record per validation option ACM answers, holding exactly that option's CNAME.
    assert len(validation_records) == 1
    (record_,) = validation_records
    assert record_.inputs["zoneId"] == ZONE
    assert record_.inputs["name"].endswith(".app.example.com.")
    assert record_.inputs["records"][0].endswith(".acm-validations.aws.")
    (validation,) = recording.by_type("aws:acm/certificateValidation:CertificateValidation")
    assert validation.inputs["validationRecordFqdns"] == [record_.inputs["name"].rstrip(".")]
    assert record_.urn in validation.dependencies


def test_the_https_listener_waits_for_the_validated_certificate() -> None:
    recording = prod()
    (validation,) = recording.by_type("aws:acm/certificateValidation:CertificateValidation")
    (https,) = [r for r in recording.by_type("aws:lb/listener:Listener") if r.inputs["protocol"] == "HTTPS"]
    assert https.inputs["certificateArn"] == validation.inputs["certificateArn"]
    assert validation.urn in https.dependencies


def test_the_domain_is_an_alias_of_the_load_balancer() -> None:
    recording = prod()
    (alb,) = recording.by_type("aws:lb/loadBalancer:LoadBalancer")
    (alias,) = [r for r in recording.by_type("aws:route53/record:Record") if r.inputs["type"] == "A"]
    assert alias.inputs["name"] == "app.example.com"
    assert alias.inputs["zoneId"] == ZONE
    (target,) = alias.inputs["aliases"]
    assert target["name"] == alb.outputs["dnsName"]
    assert target["zoneId"] == alb.outputs["zoneId"]
    assert recording.outputs["url"] == "https://app.example.com"


def test_a_certificate_arn_brings_its_own_and_issues_nothing() -> None:
    recording = record(ROOT, "prod", config_overrides={"shipshape:domainName": "", "shipshape:hostedZoneId": "", **BYO})
    assert recording.by_type("aws:acm/certificate:Certificate") == []
    assert recording.by_type("aws:route53/record:Record") == []
    (https,) = [r for r in recording.by_type("aws:lb/listener:Listener") if r.inputs["protocol"] == "HTTPS"]
    assert https.inputs["certificateArn"] == CERTIFICATE


BYO = {"shipshape:certificateArn": CERTIFICATE}


def parse(raw: dict[str, str]):
    return parse_settings(raw, project="shipshape", stack="prod", region="eu-west-1")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"domainName": "app.example.org", "hostedZoneId": ZONE, "certificateArn": CERTIFICATE},
            f'shipshape:certificateArn = "{CERTIFICATE}": give either a certificate ARN (bring your own) or a '
            "domain name (issued here), not both",
        ),
        (
            {"domainName": "app.example.org"},
            'shipshape:hostedZoneId = "": hostedZoneId and domainName go together: set both or neither',
        ),
        (
            {"domainName": "*.example.org", "hostedZoneId": ZONE},
            'shipshape:domainName = "*.example.org": must be a lowercase DNS name like app.example.org: at least '
            "two labels of letters, digits and inner hyphens (1-63 each), 253 characters at most, no wildcard",
        ),
        (
            {"domainName": "app.example.org", "hostedZoneId": "zone-1"},
            'shipshape:hostedZoneId = "zone-1": not a Route 53 hosted zone id (Z and up to 31 uppercase letters '
            "and digits)",
        ),
    ],
)
def test_bad_domain_settings_name_their_key(raw: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse(raw)
    assert caught.value.problems == [message]


def test_a_domain_alone_is_enough_for_https() -> None:
    settings = parse({"domainName": "app.example.org", "hostedZoneId": ZONE})
    assert settings.https
    assert settings.to_network_args().listener_ports == (443, 80)


@pytest.fixture
def prod_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    config = load_stack_config(ROOT, "prod")
    monkeypatch.setattr(pulumi, "get_project", lambda: config.project)
    monkeypatch.setattr(pulumi, "get_stack", lambda: config.stack)
    pulumi.runtime.set_all_config(dict(config.values), [])
    yield
    pulumi.runtime.set_all_config({}, [])


def test_a_preview_accepts_the_documentation_values(prod_config: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: True)
    assert load_settings()["domainName"] == "app.example.com"


def test_a_real_up_refuses_documentation_values_naming_each_key(
    prod_config: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: False)
    pulumi.runtime.set_config("shipshape:pullPrincipals", '["123456789012"]')
    with pytest.raises(SettingsError) as caught:
        load_settings()
    keys = [problem.split(" = ", 1)[0] for problem in caught.value.problems]
    assert keys == ["shipshape:pullPrincipals", "shipshape:domainName"]
    assert "RFC 2606" in caught.value.problems[1]
    assert "AWS's documentation account" in caught.value.problems[0]


def test_a_real_up_accepts_real_values(prod_config: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: False)
    pulumi.runtime.set_config("shipshape:domainName", "shop.acme-widgets.io")
    assert load_settings()["domainName"] == "shop.acme-widgets.io"
