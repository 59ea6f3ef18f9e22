"""The image lock: logical image names resolved to immutable references.

`images/images.lock.json` maps each logical image (the `image:` of a service in the stack
config) to what the stacks actually run: a container reference pinned by digest
(`registry/repo@sha256:<64 hex>`) and, for the EC2 platform, an AMI id per region. Only CI
writes the lock (images/README.md); stacks only read it, so a deploy never picks up an
image nobody reviewed. Everything here is pure: no Pulumi, no network.

    lock = load_lock()
    lock.resolve_container("checkout")      # '...amazonaws.com/reliability-stack/checkout@sha256:...'
    lock.resolve_ami("checkout", "us-west-2")  # 'ami-0123456789abcdef0'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from reliability_stack.errors import ImageLockError
from reliability_stack.validation_errors import error_message

if TYPE_CHECKING:
    from reliability_stack.config import StackConfig

LOCK_FILE = Path("images") / "images.lock.json"

DIGEST_PATTERN = re.compile(r"sha256:[0-9a-f]{64}")
AMI_PATTERN = re.compile(r"ami-[0-9a-f]{17}")
_REGION_PATTERN = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d")
_REPO_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_REGISTRY = re.compile(r"(?:localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|[A-Za-z0-9.-]+:\d+)(?::\d+)?")

PIN_HINT = "pin it as registry/repo@sha256:<64 hex>"

LogicalName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,62}$")]


def container_reference_problem(reference: str) -> str | None:
    """Why `reference` is not an immutable container reference, or None when it is one.

    Accepted: `registry/repo@sha256:<64 hex>`, optionally with a tag before the digest
    (`registry/repo:1.4.2@sha256:...`, the digest wins). Refused: `latest` anywhere, a tag
    without a digest, an untagged name (which means `latest`), a malformed digest, and a
    reference without its registry host (which depends on the node's default registry).
    """
    if not isinstance(reference, str) or not reference or reference != reference.strip():
        return "empty or padded image reference; " + PIN_HINT
    name, at, digest = reference.partition("@")
    # A colon in the last path component starts the tag; earlier ones belong to a registry port.
    repository, colon, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "")
    if colon and tag == "latest":
        return f"'latest' is a moving tag in {reference!r}; {PIN_HINT}"
    if not at:
        if colon:
            return f"tag {tag!r} without a digest in {reference!r}: tags can be moved; {PIN_HINT}"
        return f"no digest in {reference!r} (an untagged name means 'latest'); {PIN_HINT}"
    if not DIGEST_PATTERN.fullmatch(digest):
        return f"malformed digest {digest!r} in {reference!r}: expected sha256:<64 lowercase hex>"
    if colon and not _TAG.fullmatch(tag):
        return f"malformed tag {tag!r} in {reference!r}"
    host, _, path = repository.partition("/")
    if not path or not _REGISTRY.fullmatch(host):
        return (f"{reference!r} does not start with a registry host: the node's default registry "
                f"would decide what runs; {PIN_HINT}")
    if not all(_REPO_COMPONENT.fullmatch(part) for part in path.split("/")):
        return f"malformed repository path {path!r} in {reference!r}"
    return None


def ami_id_problem(ami_id: str) -> str | None:
    """Why `ami_id` is not an AMI id (`ami-` and 17 lowercase hex digits), or None."""
    if isinstance(ami_id, str) and AMI_PATTERN.fullmatch(ami_id):
        return None
    return f"malformed AMI id {ami_id!r}: expected ami-<17 lowercase hex>"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContainerImage(_Model):
    """A container image pinned by digest."""

    reference: str = Field(description="registry/repo@sha256:<64 hex>")
    source: str = Field(min_length=1, description="build file the image is built from")
    revision: str | None = Field(default=None, description="git commit the image was built from")

    @field_validator("reference")
    @classmethod
    def _pinned(cls, reference: str) -> str:
        problem = container_reference_problem(reference)
        if problem:
            raise ValueError(problem)
        return reference


class MachineImage(_Model):
    """An AMI, copied to every region a stack runs in: one id per region."""

    regions: dict[str, str] = Field(min_length=1, description="AWS region -> ami id")
    source: str = Field(min_length=1, description="Packer template the AMI is built from")
    revision: str | None = None

    @field_validator("regions")
    @classmethod
    def _region_ids(cls, regions: dict[str, str]) -> dict[str, str]:
        for region, ami_id in regions.items():
            if not _REGION_PATTERN.fullmatch(region):
                raise ValueError(f"{region!r} is not an AWS region name")
            problem = ami_id_problem(ami_id)
            if problem:
                raise ValueError(f"{region}: {problem}")
        return regions


class ImageLock(_Model):
    """The whole lock file. Construct it with `load_lock` or `parse_lock` (they record the source)."""

    version: Literal[1] = 1
    comment: str | None = None
    containers: dict[LogicalName, ContainerImage] = Field(default_factory=dict)
    amis: dict[LogicalName, MachineImage] = Field(default_factory=dict)

    _source: str = PrivateAttr(default=str(LOCK_FILE))

    @property
    def source(self) -> str:
        """The lock file this was read from (named in every error)."""
        return self._source

    def resolve_container(self, name: str) -> str:
        """The digest reference of logical container image `name`."""
        _check_logical_name(name, self.source)
        image = self.containers.get(name)
        if image is None:
            raise ImageLockError(f"unknown container image {name!r} (known: {_known(self.containers)})",
                                 file=self.source, field=f"containers.{name}")
        return image.reference

    def resolve_ami(self, name: str, region: str) -> str:
        """The AMI id of logical machine image `name` in `region`."""
        _check_logical_name(name, self.source)
        image = self.amis.get(name)
        if image is None:
            raise ImageLockError(f"unknown AMI image {name!r} (known: {_known(self.amis)})",
                                 file=self.source, field=f"amis.{name}")
        ami_id = image.regions.get(region)
        if ami_id is None:
            raise ImageLockError(
                f"no AMI for region {region!r} (locked regions: {', '.join(sorted(image.regions))}); "
                "add the region to the Packer build's copy_regions and re-pin",
                file=self.source, field=f"amis.{name}.regions.{region}")
        return ami_id


def _known(images: Mapping[str, object]) -> str:
    return ", ".join(sorted(images)) or "none"


def _check_logical_name(name: str, source: str) -> None:
    # A stack that names a registry reference instead of a logical image bypasses the lock.
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9-]{0,62}", name):
        problem = container_reference_problem(name) if isinstance(name, str) and (":" in name or "/" in name) else None
        reason = f"{name!r} is not a logical image name from the lock"
        if problem and "latest" in problem:
            reason += "; the 'latest' tag is never allowed"
        raise ImageLockError(reason + " (stacks name images; the lock pins them)", file=source, field="image")


def parse_lock(document: object, *, source: str | Path = LOCK_FILE) -> ImageLock:
    """Validate a decoded lock document; errors name `source` and the field path."""
    try:
        lock = ImageLock.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(part) for part in first["loc"]]
        message = error_message(first)
        if loc and loc[-1] == "[key]":
            loc.pop()
            message = "a logical image name is a lowercase DNS label (a-z, 0-9, '-')"
        elif not loc:
            message = "the lock must be a JSON object with `containers` and `amis`"
        location = ".".join(loc) or "(document)"
        raise ImageLockError(message, file=source, field=location) from None
    lock._source = str(source)
    return lock


def default_lock_path(start: Path | None = None) -> Path:
    """`images/images.lock.json` of the project: the nearest one above `start` (the cwd), else this repo's."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / LOCK_FILE
        if candidate.is_file():
            return candidate
    return Path(__file__).resolve().parents[1] / LOCK_FILE


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_lock(path: str | Path | None = None) -> ImageLock:
    """Read and validate the lock file (default: `default_lock_path()`)."""
    lock_path = Path(path) if path is not None else default_lock_path()
    source = _display(lock_path)
    try:
        text = lock_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ImageLockError("image lock file not found", file=source) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImageLockError(f"malformed JSON ({exc.msg})", file=source, field=f"line {exc.lineno}") from None
    return parse_lock(document, source=source)


def resolve_container(name: str, lock: ImageLock | None = None) -> str:
    """Digest reference of logical container image `name` (from the project's lock by default)."""
    return (lock or load_lock()).resolve_container(name)


def resolve_ami(name: str, region: str, lock: ImageLock | None = None) -> str:
    """AMI id of logical machine image `name` in `region` (from the project's lock by default)."""
    return (lock or load_lock()).resolve_ami(name, region)


@dataclass(frozen=True)
class ImageRequirements:
    """What a set of stacks needs from the lock: container names, AMI names, and regions."""

    containers: frozenset[str] = frozenset()
    amis: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    # `containers.<name>` / `amis.<name>` -> the stack/service pairs that use it, for messages
    users: dict[str, list[str]] = field(default_factory=dict)

    def merge(self, other: ImageRequirements) -> ImageRequirements:
        users = {name: [*self.users.get(name, []), *other.users.get(name, [])]
                 for name in {*self.users, *other.users}}
        return ImageRequirements(self.containers | other.containers, self.amis | other.amis,
                                 self.regions | other.regions, users)


def requirements_of(config: StackConfig) -> ImageRequirements:
    """Images and regions one stack uses: Kubernetes services run containers, EC2 services AMIs."""
    containers = {s.image for s in config.services if s.platform == "kubernetes"}
    amis = {s.image for s in config.services if s.platform == "ec2"}
    users: dict[str, list[str]] = {}
    for service in config.services:
        section = "containers" if service.platform == "kubernetes" else "amis"
        users.setdefault(f"{section}.{service.image}", []).append(f"{config.stack}/{service.name}")
    return ImageRequirements(frozenset(containers), frozenset(amis), frozenset(config.regions), users)


def check_lock(
    lock: ImageLock,
    regions_in_use: Iterable[str],
    *,
    containers: Iterable[str] = (),
    amis: Iterable[str] | None = None,
    users: dict[str, list[str]] | None = None,
) -> list[ImageLockError]:
    """Every problem that would stop a stack at preview time, as errors (empty when the lock is fit).

    `containers` and `amis` name the logical images in use; each AMI in use must hold an id
    for every region in use. With `amis=None` every AMI of the lock is held to `regions_in_use`.
    """
    regions = sorted(set(regions_in_use))
    users = users or {}
    problems: list[ImageLockError] = []

    def used_by(key: str) -> str:
        return f" (used by {', '.join(users[key])})" if users.get(key) else ""

    for name in sorted(set(containers)):
        if name not in lock.containers:
            problems.append(ImageLockError(
                f"unknown container image {name!r}{used_by(f'containers.{name}')} (known: {_known(lock.containers)})",
                file=lock.source, field=f"containers.{name}"))
    ami_names = sorted(lock.amis) if amis is None else sorted(set(amis))
    for name in ami_names:
        image = lock.amis.get(name)
        if image is None:
            problems.append(ImageLockError(
                f"unknown AMI image {name!r}{used_by(f'amis.{name}')} (known: {_known(lock.amis)})",
                file=lock.source, field=f"amis.{name}"))
            continue
        for region in regions:
            if region not in image.regions:
                problems.append(ImageLockError(
                    f"no AMI for region {region!r}{used_by(f'amis.{name}')} (locked regions: "
                    f"{', '.join(sorted(image.regions))})",
                    file=lock.source, field=f"amis.{name}.regions.{region}"))
    return problems
