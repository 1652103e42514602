"""The service's own domain: an ACM certificate validated through DNS and the alias record pointing the name at
the load balancer (AWS Copilot's path for an environment's domain). Children of the web service."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.web_service_args import WebServiceArgs


def issued_certificate(
    name: str,
    args: WebServiceArgs,
    load_balancer: aws.lb.LoadBalancer,
    child: pulumi.ResourceOptions,
    tags: dict[str, pulumi.Input[str]] | None,
) -> pulumi.Output[str]:
    """An ACM certificate for domain_name validated through DNS in hosted_zone_id, and the alias A record
    pointing the name at the load balancer (AWS Copilot's path for an environment's domain). Returns the
    validated certificate's ARN: the HTTPS listener waits until ACM has issued it."""
    domain = args.domain_name
    certificate = aws.acm.Certificate(
        f"{name}-certificate",
        domain_name=domain,
        validation_method="DNS",
        tags=tags,
        opts=child,
    )
    # ACM answers one validation option per name on the certificate (here the one domain name): a CNAME
    # the ACM docs call "DNS validation" records; Route 53 must hold each for the certificate to issue.
    records = []
    for index, validated in enumerate([domain]):
        option = certificate.domain_validation_options.apply(
            lambda options, validated=validated: _validation_option(options, validated)
        )
        records.append(
            aws.route53.Record(
                f"{name}-validation-{index}",
                zone_id=args.hosted_zone_id,
                name=option.apply(lambda o: o.resource_record_name),
                type=option.apply(lambda o: o.resource_record_type),
                records=[option.apply(lambda o: o.resource_record_value)],
                ttl=300,
                # A certificate re-issued for the same name gets the same record: take it over.
                allow_overwrite=True,
                opts=child,
            )
        )
    validation = aws.acm.CertificateValidation(
        f"{name}-certificate-validation",
        certificate_arn=certificate.arn,
        validation_record_fqdns=[record.fqdn for record in records],
        opts=child,
    )
    aws.route53.Record(
        f"{name}-alias",
        zone_id=args.hosted_zone_id,
        name=domain,
        type="A",
        aliases=[
            aws.route53.RecordAliasArgs(
                name=load_balancer.dns_name, zone_id=load_balancer.zone_id, evaluate_target_health=True
            )
        ],
        opts=child,
    )
    return validation.certificate_arn


def _validation_option(
    options: list[aws.acm.outputs.CertificateDomainValidationOption], domain: str
) -> aws.acm.outputs.CertificateDomainValidationOption:
    for option in options:
        if option.domain_name == domain:
            return option
    raise ValueError(f"ACM gave no DNS validation option for {domain!r} (it gave {len(options)})")
