"""Recognising secrets written where they will be stored in plain text (user data, environment).

User data is a shell script and environment values are free text, so patterns over the text are the
right tool here (policy documents, by contrast, are parsed). References to a secret store are not
secrets: shell expansions, ARNs, and names ending in _ARN, _NAME, _ID, _PARAM(ETER), _PATH or _FILE.
"""

from __future__ import annotations

import base64
import binascii
import re

_SECRET_WORDS = r"(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)"
REFERENCE_SUFFIXES = ("_ARN", "_NAME", "_ID", "_PARAM", "_PARAMETER", "_PATH", "_FILE")

AWS_ACCESS_KEY = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
AWS_SECRET_KEY_ASSIGNMENT = re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}")
PRIVATE_KEY_BLOCK = re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")
URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@'\"]+:[^\s/@'\"]+@", re.IGNORECASE)
SECRET_ASSIGNMENT = re.compile(
    rf"(?i)\b(?P<name>[A-Z0-9_]*{_SECRET_WORDS}[A-Z0-9_]*)\s*[=:]\s*['\"]?(?P<value>[^\s'\"]+)"
)
SECRET_NAME = re.compile(rf"(?i){_SECRET_WORDS}")
# What precedes an ARN's service field (arn:<partition>:): "arn:aws:secretsmanager:eu-west-1:..." names a secret,
# it does not assign one.
ARN_SERVICE_PREFIX = re.compile(r"arn:aws[a-z-]*:$")


def is_secret_name(name: str) -> bool:
    """An environment variable name that announces a secret and is not a reference to one."""
    return bool(SECRET_NAME.search(name)) and not name.upper().endswith(REFERENCE_SUFFIXES)


def _is_reference(value: str) -> bool:
    return value.startswith(("$", "{", "arn:")) or value.lower() in ("true", "false", "none", "null")


def secret_value_kinds(text: str) -> list[str]:
    """What kinds of literal secrets a value holds (empty when none)."""
    kinds = []
    if AWS_ACCESS_KEY.search(text):
        kinds.append("an AWS access key id")
    if AWS_SECRET_KEY_ASSIGNMENT.search(text):
        kinds.append("an AWS secret access key")
    if PRIVATE_KEY_BLOCK.search(text):
        kinds.append("a private key")
    if URL_CREDENTIALS.search(text):
        kinds.append("credentials inside a URL")
    return kinds


def secrets_in_script(text: str) -> list[str]:
    """Literal secrets in a script: key material and assignments like DB_PASSWORD=hunter2."""
    found = secret_value_kinds(text)
    for match in SECRET_ASSIGNMENT.finditer(text):
        name, value = match.group("name"), match.group("value")
        if name.upper().endswith(REFERENCE_SUFFIXES) or _is_reference(value):
            continue
        if ARN_SERVICE_PREFIX.search(text, max(0, match.start() - 16), match.start()):
            continue
        found.append(f"a literal value assigned to {name}")
    return found


def decoded_user_data(text: str) -> str | None:
    """User data decoded from base64 when it is base64 (launch templates and userDataBase64 are)."""
    compact = "".join(text.split())
    if len(compact) < 8 or len(compact) % 4:
        return None
    try:
        return base64.b64decode(compact, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return None
