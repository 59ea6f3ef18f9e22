"""The stack trace each registration carries, built as the SDK builds it, for a fraction of the cost.

Every resource registration calls `pulumi.runtime.resource._get_stack_trace`: the engine
records where in the program each resource was declared. The SDK builds the trace with
`traceback.extract_stack()`, which stats every file on the stack and reads the source line
of every frame through `linecache`, then turns each file name into a URI through `pathlib`:
~9 µs a frame, on every frame below the resource's constructor. Prod's capture walks ~9,500
frames (~100 ms of its preview). `registration_stack_trace` builds the same message from
the frames themselves and computes each file's URI once (~1.7 µs a frame);
tests/preview/test_stack_traces.py checks that both give the same message, also under a
`sys.tracebacklimit` (where the limit leaves no frame at all, the SDK's function raises
UnboundLocalError and this one returns an empty trace). `capture_program`
holds it, so the benchmark's floor gets it too: prod's preview 1.14 -> 1.07 s and the floor
0.92 -> 0.83 s (medians of 15, in process).
"""

from __future__ import annotations

import contextlib
import functools
import pathlib
import sys
from collections.abc import Iterator
from types import FrameType

from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2

# Resource.__init__, CustomResource/ComponentResource.__init__, then the declared class's
# __init__: the program's frames are the ones below that third constructor.
_CONSTRUCTOR_FRAMES = 3


@functools.cache
def _uri(filename: str) -> str | None:
    """The file's URI, None where it has none (no name, or a relative one such as "<string>")."""
    try:
        return pathlib.Path(filename).as_uri() if filename else None
    except ValueError:
        return None


def registration_stack_trace() -> source_pb2.StackTrace:
    """What `_get_stack_trace` returns to the SDK's registration code that calls it: the
    program's frames, innermost first, each with the position it is at."""
    # The frames `extract_stack` would see, innermost first, from `_get_stack_trace`'s own
    # (this one stands for it); like it, only the innermost `sys.tracebacklimit` when set.
    limit = getattr(sys, "tracebacklimit", None)
    stack: list[FrameType] = []
    frame: FrameType | None = sys._getframe(0)  # noqa: SLF001 - the frames themselves are what `extract_stack` reads
    while frame is not None and (limit is None or len(stack) < max(limit, 0)):
        stack.append(frame)
        frame = frame.f_back
    constructors = 0
    for depth, frame in enumerate(stack):
        if frame.f_code.co_name == "__init__":
            constructors += 1
            if constructors == _CONSTRUCTOR_FRAMES:
                return source_pb2.StackTrace(frames=[_stack_frame(caller) for caller in stack[depth + 1:]])
    return source_pb2.StackTrace()


def _stack_frame(frame: FrameType) -> source_pb2.StackFrame:
    uri, line = _uri(frame.f_code.co_filename), frame.f_lineno
    return source_pb2.StackFrame(pc=source_pb2.SourcePosition(uri=uri, line=line)
                                 if uri is not None and line is not None else None)


@contextlib.contextmanager
def cheaper_stack_traces() -> Iterator[None]:
    """Registrations build their stack traces with `registration_stack_trace` while this is held.

    An SDK without the function (renamed in a later release) keeps its own way; the tests
    then fail on the missing name.
    """
    sdk_function = getattr(sdk_resource, "_get_stack_trace", None)  # the SDK exposes no other hook
    if sdk_function is None:
        yield
        return
    sdk_resource._get_stack_trace = registration_stack_trace  # noqa: SLF001
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = sdk_function  # noqa: SLF001
