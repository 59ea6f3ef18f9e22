"""Argument checks that several components share, so each rule is written once.

Components still validate their own arguments in `validate()`; this module holds only
what is the same fact in every one of them: the retention values CloudWatch Logs accepts,
the shape of a name that prefixes AWS identifiers, and the way a check names the argument
it rejects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NoReturn

from reliability_stack.errors import ComponentArgsError

# The only values `retentionInDays` of a CloudWatch Logs group accepts (never-expire aside).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)

# 2..32 lowercase letters, digits and single hyphens, starting with a letter: the component
# name prefixes identifiers (ElastiCache, RDS, DynamoDB) that accept no more.
_IDENTIFIER_PREFIX = re.compile(r"^[a-z](?:[a-z0-9]|-(?!-)){0,30}[a-z0-9]$")


def argument_failure(component: str) -> Callable[[str, str], NoReturn]:
    """A `fail(argument, message)` that raises ComponentArgsError for `component`."""
    def fail(argument: str, message: str) -> NoReturn:
        raise ComponentArgsError(component, argument, message)

    return fail


def check_identifier_prefix(component: str, name: str, why: str = "") -> None:
    """Reject a component name that cannot prefix AWS identifiers; `why` names them, e.g. "RDS"."""
    if not _IDENTIFIER_PREFIX.fullmatch(name):
        reason = f" (it prefixes {why} identifiers)" if why else ""
        raise ComponentArgsError(component, "name", "expected 2..32 lowercase letters, digits and single "
                                 f"hyphens, starting with a letter{reason}")
