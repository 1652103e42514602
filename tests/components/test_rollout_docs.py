"""README's rollout table is worked out from the values in code."""

from __future__ import annotations

from pathlib import Path

from components import WebServiceArgs
from components.web_service import describe_rollout

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_rollout_figures_match_the_defaults() -> None:
    # The library's defaults, which Pulumi.yaml's defaults repeat (tests/components/test_settings.py).
    service = WebServiceArgs(
        vpc_id="vpc-1",
        public_subnet_ids=[],
        private_subnet_ids=[],
        load_balancer_security_group_id="sg-1",
        app_security_group_id="sg-2",
        image="web",
        certificate_arn=None,
        allow_http_without_certificate=True,
    )
    rollout = describe_rollout(service)
    text = README.read_text()
    interval, threshold = service.health_check_interval_seconds, service.healthy_threshold
    assert f"{interval} s x {threshold} = {rollout['healthy_after_seconds']} s" in text
    assert f"| deregistration delay | {rollout['drain_seconds']} s |" in text
    assert f"**{rollout['total_seconds']} s**" in text
