"""buildOnPreview: a preview builds without pushing, and pulumi-docker answers the local image id for
`repoDigest`; the program accepts that during previews only."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.registry import pinned_reference
from preflight.recorder import record
from tests.conftest import ROOT

REPOSITORY = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/shipshape-prod/web"
IMAGE_ID = "sha256:" + "826a130323165bb0ccb0374ae774f885c067a951b51a6ee133577f4e5dbc4119"
PUSHED = f"{REPOSITORY}@sha256:" + "a6ae6dd8d39c5bb02320e41abf00cd4cb35905fec540e37d306c878be8d38bd3"


def test_a_pushed_digest_is_the_reference() -> None:
    assert pinned_reference(PUSHED, REPOSITORY, preview=False) == PUSHED
    assert pinned_reference(PUSHED, REPOSITORY, preview=True) == PUSHED


def test_a_preview_shows_the_local_image_id_in_the_repository() -> None:
    assert pinned_reference(IMAGE_ID, REPOSITORY, preview=True) == f"{REPOSITORY}@{IMAGE_ID}"


@pytest.mark.parametrize("answer", [IMAGE_ID, f"{REPOSITORY}:sha-0123456789abcdef", ""])
def test_a_real_run_refuses_anything_but_a_pushed_digest(answer: str) -> None:
    with pytest.raises(pulumi.RunError, match="not a digest-pinned reference"):
        pinned_reference(answer, REPOSITORY, preview=False)


def test_a_preview_with_build_on_preview_records_the_whole_program() -> None:
    recording = record(ROOT, "dev", config_overrides={"shipshape:buildOnPreview": True})
    (image,) = recording.by_type("docker:index/image:Image")
    assert image.inputs["buildOnPreview"] is True
    assert image.outputs["repoDigest"].startswith("sha256:")
    (task,) = recording.by_type("aws:ecs/taskDefinition:TaskDefinition")
    (container,) = json.loads(task.inputs["containerDefinitions"])
    (repository,) = recording.by_type("aws:ecr/repository:Repository")
    assert container["image"] == f"{repository.outputs['repositoryUrl']}@{image.outputs['repoDigest']}"
