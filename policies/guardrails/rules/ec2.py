"""EC2 hosts (instances, launch templates): IMDSv2 only, no key pair, public IP or user-data secret, encrypted disks."""

from __future__ import annotations

import copy
from typing import Any

from pulumi_policy import Severity

from guardrails.checks import Expect, Expectations, is_blank, is_not_true
from guardrails.framework import (
    Findings,
    Resource,
    RuleInfo,
    resource_rule,
)
from guardrails.secrets import decoded_user_data, secrets_in_script
from guardrails.values import Unknown, as_bool, as_int, as_list, dig, raw

INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
HOSTS = (INSTANCE, LAUNCH_TEMPLATE)
MAX_HOP_LIMIT = 2


# --- aws-ec2-instance-imdsv2 ------------------------------------------------------------------------


def _check_imdsv2(resource: Resource, findings: Findings) -> None:
    options = resource.props.get("metadataOptions")
    if findings.unknown(options):
        return
    endpoint = dig(options, "httpEndpoint")
    tokens = dig(options, "httpTokens")
    hop_limit = dig(options, "httpPutResponseHopLimit")
    if findings.unknown(endpoint):
        return
    if endpoint == "disabled":
        return
    if not findings.unknown(tokens) and tokens != "required":
        findings.violation(
            f"metadataOptions.httpTokens is {tokens or 'not set (optional)'}; IMDSv1 lets any SSRF read the "
            "instance credentials."
        )
    if not findings.unknown(hop_limit):
        hops = as_int(hop_limit)
        if hops is not None and hops > MAX_HOP_LIMIT:
            findings.violation(
                f"metadataOptions.httpPutResponseHopLimit is {hops}; at most {MAX_HOP_LIMIT} keeps "
                "credentials inside the host and its containers."
            )


def _remediate_imdsv2(resource: Resource) -> dict[str, Any] | None:
    options = resource.props.get("metadataOptions")
    if isinstance(options, Unknown) or dig(options, "httpTokens") == "required":
        return None
    if dig(options, "httpEndpoint") == "disabled" or isinstance(dig(options, "httpTokens"), Unknown):
        return None
    props = copy.deepcopy(resource.props)
    props["metadataOptions"] = {**(options if isinstance(options, dict) else {}), "httpTokens": "required"}
    return raw(props)


IMDSV2 = resource_rule(
    RuleInfo(
        name="aws-ec2-instance-imdsv2",
        description="Instances and launch templates require IMDSv2 tokens with a hop limit of at most 2.",
        severity=Severity.HIGH,
        remediation_steps=(
            'Set metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 2} '
            "(2 lets containers on the host reach the metadata service)."
        ),
        frameworks=("fsbp:EC2.8", "checkov:CKV_AWS_79"),
    ),
    {INSTANCE: _check_imdsv2, LAUNCH_TEMPLATE: _check_imdsv2},
    {INSTANCE: _remediate_imdsv2, LAUNCH_TEMPLATE: _remediate_imdsv2},
)


# --- aws-ec2-instance-no-secrets-in-user-data --------------------------------------------------------


def _check_user_data(resource: Resource, findings: Findings) -> None:
    for key in ("userData", "userDataBase64"):
        value = resource.props.get(key)
        if findings.unknown(value) or not isinstance(value, str):
            continue
        texts = [value]
        decoded = decoded_user_data(value)
        if decoded is not None:
            texts.append(decoded)
        found = sorted({kind for text in texts for kind in secrets_in_script(text)})
        if found:
            findings.violation(
                f"{key} holds {', '.join(found)}; user data is readable by anyone who can describe the "
                "instance. Fetch secrets at boot from Secrets Manager or SSM Parameter Store."
            )


NO_SECRETS_IN_USER_DATA = resource_rule(
    RuleInfo(
        name="aws-ec2-instance-no-secrets-in-user-data",
        description="Instance and launch template user data, plain or base64, holds no AWS keys or literal secrets.",
        severity=Severity.HIGH,
        remediation_steps=(
            "Remove the secret from user data; read it at boot with the instance role "
            "(aws secretsmanager get-secret-value / aws ssm get-parameter --with-decryption)."
        ),
        frameworks=("checkov:CKV_AWS_46",),
        limits=(
            "Secrets are recognised by patterns (AWS keys, private keys, credentials in URLs, secret-named "
            "assignments); an unnamed random string is not."
        ),
    ),
    {INSTANCE: _check_user_data, LAUNCH_TEMPLATE: _check_user_data},
)


# --- aws-ec2-instance-encrypted-root-volume -----------------------------------------------------------


def _check_volume(volume: Any, where: str, findings: Findings) -> None:
    encrypted = dig(volume, "encrypted")
    if findings.unknown(encrypted):
        return
    if as_bool(encrypted) is not True:
        findings.violation(f"{where}.encrypted is {encrypted if encrypted is not None else 'not set'}; encrypt it.")


def _check_encrypted_volumes(resource: Resource, findings: Findings) -> None:
    if resource.type == INSTANCE:
        root = resource.props.get("rootBlockDevice")
        if findings.unknown(root):
            return
        _check_volume(root, "rootBlockDevice", findings)
        devices = resource.props.get("ebsBlockDevices")
        if findings.unknown(devices):
            return
        for index, device in enumerate(as_list(devices)):
            _check_volume(device, f"ebsBlockDevices[{index}]", findings)
        return
    mappings = resource.props.get("blockDeviceMappings")
    if findings.unknown(mappings):
        return
    for index, mapping in enumerate(as_list(mappings)):
        ebs = dig(mapping, "ebs")
        if ebs is None or findings.unknown(ebs):
            continue
        _check_volume(ebs, f"blockDeviceMappings[{index}].ebs", findings)


ENCRYPTED_VOLUMES = resource_rule(
    RuleInfo(
        name="aws-ec2-instance-encrypted-root-volume",
        description="Instance root and EBS volumes, and launch template EBS mappings, are encrypted.",
        severity=Severity.MEDIUM,
        remediation_steps='Set root_block_device={"encrypted": True} (and encrypted=True on every EBS volume).',
        frameworks=("checkov:CKV_AWS_8",),
        limits=(
            "A launch template without blockDeviceMappings uses the AMI's volumes and the account's EBS "
            "encryption default, which are not seen."
        ),
    ),
    {INSTANCE: _check_encrypted_volumes, LAUNCH_TEMPLATE: _check_encrypted_volumes},
)


# --- aws-ec2-instance-no-key-pair --------------------------------------------------------------------


NO_KEY_PAIR_SETTING = Expectations(
    Expect("keyName", is_blank, "reach hosts through SSM Session Manager instead of SSH keys")
)


NO_KEY_PAIR = resource_rule(
    RuleInfo(
        name="aws-ec2-instance-no-key-pair",
        description="Instances and launch templates name no SSH key pair, because hosts are reached through SSM.",
        severity=Severity.MEDIUM,
        remediation_steps="Remove key_name and attach AmazonSSMManagedInstanceCore (or its scoped equivalent).",
        frameworks=("shipshape",),
    ),
    dict.fromkeys(HOSTS, NO_KEY_PAIR_SETTING),
)


# --- aws-ec2-instance-no-public-ip ------------------------------------------------------------------------


INSTANCE_NO_PUBLIC_IP = Expectations(
    Expect("associatePublicIpAddress", is_not_true, "hosts belong in private subnets, reached through SSM")
)


def _check_launch_template_public_ip(resource: Resource, findings: Findings) -> None:
    interfaces = resource.props.get("networkInterfaces")
    if findings.unknown(interfaces):
        return
    for index, interface in enumerate(as_list(interfaces)):
        INSTANCE_NO_PUBLIC_IP.judge(interface, findings, f"networkInterfaces[{index}].")


NO_PUBLIC_IP = resource_rule(
    RuleInfo(
        name="aws-ec2-instance-no-public-ip",
        description="Instances and launch templates do not ask for a public IP address.",
        severity=Severity.HIGH,
        remediation_steps=(
            "Remove associate_public_ip_address (instances) or network_interfaces[].associate_public_ip_address "
            "(launch templates) and place hosts in private subnets."
        ),
        frameworks=("fsbp:EC2.9", "checkov:CKV_AWS_88"),
        limits=(
            "A subnet that maps public IPs on launch (mapPublicIpOnLaunch) still gives one to an instance that "
            "does not ask; subnets are not judged here."
        ),
    ),
    {INSTANCE: INSTANCE_NO_PUBLIC_IP, LAUNCH_TEMPLATE: _check_launch_template_public_ip},
)
