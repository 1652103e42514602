"""Rules grouped by AWS service; `guardrails.registry` lists every one explicitly."""
