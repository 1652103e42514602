"""The shipshape guardrails policy pack: run by the Pulumi CLI as `python __main__.py` from policies/."""

from pulumi_policy import EnforcementLevel, PolicyPack

from guardrails.registry import ALL_POLICIES

PolicyPack(
    name="shipshape-guardrails",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=list(ALL_POLICIES),
)
