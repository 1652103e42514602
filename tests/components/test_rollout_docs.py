"""README's rollout table is worked out from the values in code."""

from __future__ import annotations

from pathlib import Path

from components.settings import parse_settings
from components.web_service import describe_rollout

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_rollout_figures_match_the_defaults() -> None:
    service = parse_settings(
        {"allowHttpWithoutCertificate": "true"}, project="shipshape", stack="dev", region="eu-west-1"
    ).service
    rollout = describe_rollout(service)
    health = service.health_check
    text = README.read_text()
    assert f"{health.interval_seconds} s x {health.healthy_threshold} = {rollout['healthy_after_seconds']} s" in text
    assert f"| deregistration delay | {rollout['drain_seconds']} s |" in text
    assert f"**{rollout['total_seconds']} s**" in text
