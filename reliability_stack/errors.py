"""The one error hierarchy of reliability-stack.

Every error a user can cause by bad input is an `InputError` that names the file and the
field at fault; the CLI maps it to exit code 2 with a one-line message and no traceback.
"""

from __future__ import annotations

from pathlib import Path


class ReliabilityStackError(Exception):
    """Base class for every error the product raises on purpose."""

    exit_code = 1


class InputError(ReliabilityStackError):
    """Bad user input: a config file, an SLO spec, a stack option or a CLI argument."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | Path | None = None, field: str | None = None) -> None:
        self.file = str(file) if file is not None else None
        self.field = field
        self.reason = message
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = ""
        if self.file and self.field:
            where = f"{self.file}: {self.field}: "
        elif self.file:
            where = f"{self.file}: "
        elif self.field:
            where = f"{self.field}: "
        return f"{where}{self.reason}"


class ConfigError(InputError):
    """Stack configuration (stacks/Pulumi.<stack>.yaml) is missing or invalid."""


class SpecError(InputError):
    """An SLO spec file is invalid."""


class ImageLockError(InputError):
    """A logical image cannot be resolved to an immutable reference."""


class ComponentArgsError(InputError, ValueError):
    """A component was constructed with an impossible combination of arguments.

    Raised at construction (the CDK habit) and naming the argument, so `pulumi preview`
    fails before anything reaches the cloud.
    """

    def __init__(self, component: str, argument: str, message: str) -> None:
        super().__init__(message, field=f"{component}.{argument}")


class RuntimeToolError(ReliabilityStackError):
    """A runtime tool (report, gate, verify) could not complete against the cloud APIs."""

    exit_code = 3
