"""Review-stack names derived from git branch names.

CI creates one Pulumi stack per branch, so the name must be a pure function of the branch:
deterministic (the push that creates the stack and the delete that removes it agree),
valid in Pulumi's stack-name charset, bounded in length, and injective in practice: two
different branches never share a stack, even when sanitizing maps them to the same text
(`Feature/Login` and `feature-login`). Whenever the readable part is not the branch name
verbatim, a short hash of the exact branch name is appended after `--`, a separator that
a verbatim name can never contain.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from reliability_stack.errors import InputError

DEFAULT_PREFIX = "review"
#: Pulumi allows 100 characters; 48 keeps the stack name usable inside resource names and tags.
MAX_LENGTH = 48
HASH_LENGTH = 10
HASH_SEPARATOR = "--"

#: What a stack name may look like: Pulumi's charset `[A-Za-z0-9_.-]`, narrowed to lowercase
#: DNS-label characters so it also fits resource names derived from it.
STACK_NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_VERBATIM = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PREFIX = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


def branch_slug(branch: str) -> str:
    """The readable part: ASCII-folded, lowercase, runs of other characters collapsed to `-`."""
    folded = unicodedata.normalize("NFKD", branch).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def branch_hash(branch: str) -> str:
    """A short, stable digest of the exact branch name (UTF-8)."""
    return hashlib.sha256(branch.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_LENGTH]


def stack_name_for_branch(branch: str, *, prefix: str = DEFAULT_PREFIX, max_length: int = MAX_LENGTH) -> str:
    """The review stack of `branch`, e.g. `fix-42` -> `review-fix-42`,
    `feature/Login` -> `review-feature-login--3f1c0a9b2e`.

    Raises InputError for an empty branch name or an unusable prefix.
    """
    if not branch or not branch.strip():
        raise InputError("a branch name is required", field="BRANCH")
    if not _PREFIX.match(prefix):
        raise InputError(f"prefix {prefix!r} must be lowercase letters, digits and single dashes",
                         field="--prefix")
    minimum = len(prefix) + 1 + len(HASH_SEPARATOR) + HASH_LENGTH + 1
    if max_length < minimum:
        raise InputError(f"max length must be at least {minimum} for prefix {prefix!r}", field="--max-length")

    slug = branch_slug(branch)
    verbatim = f"{prefix}-{branch}"
    if _VERBATIM.match(branch) and len(verbatim) <= max_length:
        return verbatim

    suffix = HASH_SEPARATOR + branch_hash(branch)
    room = max_length - len(prefix) - 1 - len(suffix)
    readable = slug[:room].rstrip("-")
    return f"{prefix}-{readable}{suffix}" if readable else f"{prefix}{suffix}"
