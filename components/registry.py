"""The private registry and the image: an ECR repository (scanned, immutable, encrypted, cleaned up)
and the Flask image built and pushed to it with pulumi-docker.

The image tag is a hash of the build context (honouring .dockerignore), so an unchanged app keeps its
tag and nothing is rebuilt or pushed; the service and the host run the digest-pinned reference
(`repository@sha256:...`), never a moving tag.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

import components.aws_limits as aws_limits
import components.checks as checks
import components.iam as iam

COUNT_TYPES = ("imageCountMoreThan", "sinceImagePushed")
TAG_STATUSES = ("tagged", "untagged", "any")
DIGEST_REFERENCE = re.compile(r"[^@\s]+@sha256:[0-9a-f]{64}")
LOCAL_IMAGE_ID = re.compile(r"sha256:[0-9a-f]{64}")


class LifecyclePolicyError(ValueError):
    """A lifecycle policy ECR would reject."""


def lifecycle_policy(untagged_expiry_days: int, tagged_images_to_keep: int) -> dict[str, Any]:
    """Expire untagged images after N days; keep only the newest N tagged images."""
    policy = {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images {untagged_expiry_days} days after push",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": untagged_expiry_days,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"Keep the {tagged_images_to_keep} newest tagged images",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["*"],
                    "countType": "imageCountMoreThan",
                    "countNumber": tagged_images_to_keep,
                },
                "action": {"type": "expire"},
            },
        ]
    }
    validate_lifecycle_policy(policy)
    return policy


def validate_lifecycle_policy(policy: Mapping[str, Any]) -> None:
    """Check the rules ECR checks (docs/aws-limits.md, ECR); raise naming the rule and the field."""
    rules = policy.get("rules")
    if not isinstance(rules, list) or not rules:
        raise LifecyclePolicyError("lifecycle policy: `rules` must be a non-empty list")
    priorities: list[int] = []
    for index, rule in enumerate(rules):
        where = f"lifecycle policy rule {index + 1}"
        priority = rule.get("rulePriority")
        if not isinstance(priority, int) or priority < 1:
            raise LifecyclePolicyError(f"{where}: rulePriority must be a positive integer, got {priority!r}")
        if priority in priorities:
            raise LifecyclePolicyError(f"{where}: rulePriority {priority} is used twice")
        priorities.append(priority)
        selection = rule.get("selection") or {}
        status = selection.get("tagStatus")
        if status not in TAG_STATUSES:
            raise LifecyclePolicyError(f"{where}: tagStatus must be one of {', '.join(TAG_STATUSES)}, got {status!r}")
        if status == "tagged" and not (selection.get("tagPrefixList") or selection.get("tagPatternList")):
            raise LifecyclePolicyError(f"{where}: tagStatus tagged needs tagPrefixList or tagPatternList")
        count_type = selection.get("countType")
        if count_type not in COUNT_TYPES:
            raise LifecyclePolicyError(
                f"{where}: countType must be one of {', '.join(COUNT_TYPES)}, got {count_type!r}"
            )
        if count_type == "sinceImagePushed" and selection.get("countUnit") != "days":
            raise LifecyclePolicyError(f"{where}: countType sinceImagePushed needs countUnit days")
        number = selection.get("countNumber")
        if not isinstance(number, int) or number < 1:
            raise LifecyclePolicyError(f"{where}: countNumber must be a positive integer, got {number!r}")
        if (rule.get("action") or {}).get("type") != "expire":
            raise LifecyclePolicyError(f"{where}: action.type must be expire")
    any_rules = [r["rulePriority"] for r in rules if r["selection"]["tagStatus"] == "any"]
    if any_rules and max(any_rules) != max(priorities):
        raise LifecyclePolicyError("lifecycle policy: the tagStatus any rule must have the highest rulePriority")


def pull_statements(principals: Sequence[pulumi.Input[str]]) -> list[iam.Statement]:
    """The repository policy's one statement: the named principals may pull, nothing else."""
    return [
        {
            "Sid": "PullFromNamedPrincipals",
            "Effect": "Allow",
            "Principal": {"AWS": list(principals)},
            "Action": list(iam.ECR_PULL_ACTIONS),
        }
    ]


def repository_policy_size(principals: Sequence[str]) -> str | None:
    """The rule for pull principals: the policy they make must fit ECR's 10,240 characters (SetRepositoryPolicy)."""
    size = len(json.dumps({"Version": iam.VERSION, "Statement": pull_statements(principals)}))
    if size > aws_limits.REPOSITORY_POLICY_CHARS:
        return f"the repository policy would be {size} characters; ECR accepts {aws_limits.REPOSITORY_POLICY_CHARS}"
    return None


def read_dockerignore(context: Path) -> list[str]:
    path = context / ".dockerignore"
    if not path.is_file():
        return []
    patterns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            patterns.append(line)
    return patterns


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus `**`) as a regex over slash-separated paths."""
    pattern = os.path.normpath(pattern.lstrip("/")).replace(os.sep, "/")
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            close = pattern.find("]", index + 1)
            if close == -1:
                out.append(re.escape(char))
            else:
                body = pattern[index + 1 : close].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith("^") else body) + "]")
                index = close
        else:
            out.append(re.escape(char))
        index += 1
    # A pattern matching a directory excludes everything beneath it too.
    return re.compile("^" + "".join(out) + "(?:/.*)?$")


def is_ignored(relative: str, patterns: Sequence[str]) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        if _pattern_regex(body).match(relative):
            ignored = not negate
    return ignored


def context_digest(context: Path, dockerfile: Path | None = None) -> str:
    """The build context's digest exactly as pulumi-docker computes `build.contextDigest`, the input its Diff
    compares (provider/provider.go, `hashContext` and `contextHashAccumulator.hashPath`): the Dockerfile first
    under the name "Dockerfile" with mode 0, then every file fsutil.Walk visits (lexical order per directory,
    .dockerignore applied), each as its slash-separated relative name, Go's `FileMode.String()` of its full
    mode (type and every permission bit: a checkout with another umask changes it) and the SHA-256 of its
    content (of a symlink, of its resolved path), then a NUL; the digest is the SHA-256 of all that."""
    dockerfile = dockerfile if dockerfile is not None else context / "Dockerfile"
    patterns = read_dockerignore(context)
    accumulated = bytearray()

    def add(path: Path, name: str, mode: str) -> None:
        symlink = path.is_symlink()
        content = os.path.realpath(path).replace(os.sep, "/").encode() if symlink else path.read_bytes()
        accumulated.extend(name.encode() + mode.encode() + hashlib.sha256(content).digest() + b"\0")

    add(dockerfile, "Dockerfile", go_file_mode(0))
    for path, relative in _walk(context, context):
        if not is_ignored(relative, patterns):
            add(path, relative, go_file_mode(path.lstat().st_mode))
    return hashlib.sha256(bytes(accumulated)).hexdigest()


def _walk(root: Path, directory: Path) -> Iterator[tuple[Path, str]]:
    """Every non-directory under `directory`, depth first, each directory's entries in lexical order (Go's
    filepath.WalkDir, which fsutil.Walk follows): `a/b` comes before `a.txt`, unlike a sort of whole paths."""
    for entry in sorted(directory.iterdir(), key=lambda p: p.name):
        if entry.is_dir() and not entry.is_symlink():
            yield from _walk(root, entry)
        else:
            yield entry, entry.relative_to(root).as_posix()


# Go's io/fs FileMode letters in FileMode.String()'s order ("dalTLDpSugct?"), each with its POSIX test; a
# character device is Device and CharDevice in Go ("D" and "c").
_GO_MODE_LETTERS: tuple[tuple[str, Callable[[int], bool]], ...] = (
    ("d", stat.S_ISDIR),
    ("L", stat.S_ISLNK),
    ("D", lambda mode: stat.S_ISBLK(mode) or stat.S_ISCHR(mode)),
    ("p", stat.S_ISFIFO),
    ("S", stat.S_ISSOCK),
    ("u", lambda mode: bool(mode & stat.S_ISUID)),
    ("g", lambda mode: bool(mode & stat.S_ISGID)),
    ("c", stat.S_ISCHR),
    ("t", lambda mode: bool(mode & stat.S_ISVTX)),
)


def go_file_mode(st_mode: int) -> str:
    """Go's `fs.FileMode.String()` for a file with this POSIX mode: `-rw-r--r--`, `-rwxr-xr-x`, `Lrwxrwxrwx`,
    `urwxr-xr-x` (setuid). 0 is `----------`, the mode pulumi-docker hashes the Dockerfile with."""
    letters = "".join(letter for letter, test in _GO_MODE_LETTERS if test(st_mode))
    permissions = "".join(char if st_mode & (1 << (8 - index)) else "-" for index, char in enumerate("rwxrwxrwx"))
    return (letters or "-") + permissions


def image_tag(context: Path) -> str:
    """The content tag: the provider's context digest's first 16 hex digits, so the tag changes exactly when
    docker.Image sees a changed context (and a new tag never meets an IMMUTABLE repository's old one)."""
    return f"sha-{context_digest(context)[:16]}"


@dataclass(frozen=True, kw_only=True)
class RepositoryArgs:
    name: pulumi.Input[str] | None = None
    """The repository's name (2-256 lowercase letters, digits and . _ - / segments). Default None: Pulumi
    names it after the component."""
    kms_key_arn: pulumi.Input[str] | None = None
    """Customer managed KMS key that encrypts the images. Default None: the AWS managed key for ECR."""
    untagged_image_expiry_days: int = 7
    """Untagged images expire this many days after push. Default 7."""
    tagged_images_to_keep: int = 30
    """Only this many newest tagged images are kept. Default 30."""
    force_delete: pulumi.Input[bool] = False
    """Let a destroy delete the repository with its images (throwaway stacks only). Default False."""
    pull_principals: Sequence[pulumi.Input[str]] = ()
    """IAM principal ARNs (account root, role or user; never `*`) that may pull besides this account; a
    repository policy is added when there are any. Default: none."""
    tags: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Extra tags for the repository; stack-wide tags come from the provider's default_tags. Default: none."""

    def __post_init__(self) -> None:
        checks.check_fields(
            self,
            {
                "name": aws_limits.repository_name,
                "kms_key_arn": aws_limits.kms_key_arn,
                "untagged_image_expiry_days": aws_limits.expiry_days,
                "tagged_images_to_keep": aws_limits.images_to_keep,
                "pull_principals": checks.each(aws_limits.principal_arn),
            },
        )


class Repository(pulumi.ComponentResource):
    """A private ECR repository: scan on push, immutable tags, KMS encryption, lifecycle policy."""

    repository_url: pulumi.Output[str]
    repository_arn: pulumi.Output[str]
    registry_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: RepositoryArgs | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("shipshape:registry:Repository", name, None, opts)
        args = args or RepositoryArgs()
        child = pulumi.ResourceOptions(parent=self)

        # Scanned, immutable and KMS-encrypted: the three properties reviewers look for first.
        self.repository = aws.ecr.Repository(
            f"{name}-repo",
            name=args.name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=args.kms_key_arn)
            ],
            force_delete=args.force_delete,
            tags=dict(args.tags) or None,
            opts=child,
        )
        # Old images cost money and widen the scan surface.
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=json.dumps(lifecycle_policy(args.untagged_image_expiry_days, args.tagged_images_to_keep)),
            opts=child,
        )
        if args.pull_principals:
            # Other accounts or roles named by the caller may pull; never a public principal.
            aws.ecr.RepositoryPolicy(
                f"{name}-policy",
                repository=self.repository.name,
                policy=iam.policy_json(pull_statements(args.pull_principals)),
                opts=child,
            )

        self.repository_url = self.repository.repository_url
        self.repository_arn = self.repository.arn
        self.registry_id = self.repository.registry_id
        self.register_outputs({"repositoryUrl": self.repository_url, "repositoryArn": self.repository_arn})


@dataclass(frozen=True, kw_only=True)
class ImageArgs:
    repository_url: pulumi.Input[str]
    """Where the image is pushed: `<account>.dkr.ecr.<region>.amazonaws.com/<name>`. Required."""
    registry_id: pulumi.Input[str]
    """The registry's account id, for the short-lived ECR token. Required."""
    context: str | os.PathLike[str]
    """The build context directory, holding the Dockerfile and .dockerignore. Required."""
    architecture: str = "x86_64"
    """`x86_64` or `arm64`: the image is built for linux/amd64 or linux/arm64. Default x86_64."""
    build_on_preview: bool = False
    """Build during previews too (needs a Docker engine; off keeps previews fast). Default False."""

    def __post_init__(self) -> None:
        checks.check(type(self).__name__, "architecture", self.architecture, aws_limits.architecture)
        if not (Path(self.context) / "Dockerfile").is_file():
            raise checks.ArgsError(type(self).__name__, "context", str(self.context), "no Dockerfile there")

    @property
    def platform(self) -> str:
        """Docker's name for the architecture: linux/amd64 or linux/arm64."""
        return aws_limits.ARCHITECTURES[self.architecture]


class Image(pulumi.ComponentResource):
    """The app image, built for the stack's platform and pushed with a short-lived ECR token."""

    tag: str
    image_name: pulumi.Output[str]
    reference: pulumi.Output[str]
    """Digest-pinned reference, `repository@sha256:<digest>`: what the service and the host run."""

    def __init__(self, name: str, args: ImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipshape:registry:Image", name, None, opts)
        context = Path(args.context)
        self.tag = image_tag(context)
        build_context = Path(os.path.relpath(context.resolve(), Path.cwd())).as_posix()
        image_name = pulumi.Output.concat(args.repository_url, ":", self.tag)
        # A 12-hour token fetched at deploy time: no stored registry credentials; the password stays secret.
        token = aws.ecr.get_authorization_token_output(
            registry_id=args.registry_id, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        self.image = docker.Image(
            f"{name}-image",
            image_name=image_name,
            # Relative to the program's working directory (the CLI runs it, and the provider, in the project
            # directory): docker.Image diffs on `build.context`/`dockerfile`, so an absolute path would make a
            # deploy from another checkout an update that re-pushes the same tag into an IMMUTABLE repository.
            build=docker.DockerBuildArgs(
                context=build_context,
                dockerfile=f"{build_context}/Dockerfile",
                platform=args.platform,
                cache_from=docker.CacheFromArgs(images=[image_name]),
            ),
            registry=docker.RegistryArgs(
                server=args.repository_url,
                username=token.user_name,
                password=pulumi.Output.secret(token.password),
            ),
            build_on_preview=args.build_on_preview,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.image_name = self.image.image_name
        self.reference = pulumi.Output.all(self.image.repo_digest, args.repository_url).apply(
            lambda values: pinned_reference(values[0], values[1], preview=pulumi.runtime.is_dry_run())
        )
        self.register_outputs({"imageName": self.image_name, "reference": self.reference, "tag": self.tag})


def pinned_reference(repo_digest: str, repository_url: str, *, preview: bool) -> str:
    """The digest-pinned reference the service and the host run, from docker.Image's `repoDigest`.

    After a push `repoDigest` is `repository@sha256:<manifest digest>`. A preview with build_on_preview builds
    but never pushes, and pulumi-docker then gives the local image's id, `sha256:<hash>` (the SDK's
    `Image.repo_digest` docs, from the provider's schema: "Local-only images: ... this field is the image ID of
    the built local image"): a preview shows `<repository>@<image id>` in its place. Anything else, or an
    image id outside a preview, is an error: the service must never run a moving tag."""
    if DIGEST_REFERENCE.fullmatch(repo_digest):
        return repo_digest
    if preview and LOCAL_IMAGE_ID.fullmatch(repo_digest):
        return f"{repository_url}@{repo_digest}"
    raise pulumi.RunError(f"image push returned {repo_digest!r}, not a digest-pinned reference (repo@sha256:...)")
