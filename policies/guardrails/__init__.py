"""The shipshape guardrails: a pulumi-policy pack that judges what the engine is about to create."""

PACK_NAME = "shipshape-guardrails"
