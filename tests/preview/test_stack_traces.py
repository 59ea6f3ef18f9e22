"""Registrations under the capture carry the stack trace the SDK itself would build."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime import resource as sdk_resource

from reliability_stack.config import read_stack_file
from reliability_stack.preview import stack_traces
from reliability_stack.preview.capture import capture_program
from reliability_stack.preview.engine import run_program

ROOT = Path(__file__).resolve().parents[2]
SDK_STACK_TRACE = sdk_resource._get_stack_trace


def _recorded(monkeypatch, *, with_sdk: bool) -> list[tuple]:
    """Each registration's trace from ours and (`with_sdk`) from the SDK's, called from one frame."""
    records = []
    cheaper = stack_traces.registration_stack_trace

    def record():
        records.append((SDK_STACK_TRACE() if with_sdk else None, cheaper()))
        return records[-1][1]

    monkeypatch.setattr(stack_traces, "registration_stack_trace", record)
    return records


@pytest.fixture
def traces(monkeypatch):
    return _recorded(monkeypatch, with_sdk=True)


class _Pair(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("test:index:Pair", name)
        child = pulumi.ResourceOptions(parent=self)
        aws.sqs.Queue(f"{name}-queue", opts=child)
        # Declared through the generic class: the third constructor up the stack is this one.
        pulumi.CustomResource("aws:sns/topic:Topic", f"{name}-topic", {}, child)


def test_the_stack_program_gets_the_sdks_traces(traces):
    run_program(ROOT, "reliability-stack", "dev", read_stack_file(ROOT, "dev"))
    assert len(traces) > 100
    assert all(sdk == ours for sdk, ours in traces)
    # Component frames are there, innermost first: the trace is not trivially empty.
    first = traces[-1][0].frames[0].pc
    assert first.uri.startswith("file://") and first.line > 0


def test_module_level_generic_and_uri_less_declarations_get_the_sdks_traces(traces):
    namespace = {"aws": aws, "pulumi": pulumi, "Pair": _Pair}
    code = compile("aws.s3.Bucket('top')\nPair('pair')\n", "<string>", "exec")  # no URI for this frame
    capture_program(lambda: exec(code, namespace))
    assert len(traces) == 5  # the stack, bucket, pair, queue, topic
    assert all(sdk == ours for sdk, ours in traces)
    assert any(not frame.HasField("pc") for sdk, _ in traces for frame in sdk.frames)


@pytest.mark.parametrize("limit", [4, 12])
def test_a_traceback_limit_cuts_the_trace_where_the_sdk_cuts_it(traces, monkeypatch, limit):
    # extract_stack keeps only the innermost `sys.tracebacklimit` frames: with too few, no
    # resource constructor is among them and the trace is empty.
    monkeypatch.setattr("sys.tracebacklimit", limit, raising=False)
    capture_program(lambda: _Pair("pair"))
    assert [sdk for sdk, _ in traces] == [ours for _, ours in traces]
    assert any(len(sdk.frames) > 0 for sdk, _ in traces) == (limit == 12)


@pytest.mark.parametrize("limit", [-1, 0])
def test_no_frames_to_read_give_an_empty_trace(monkeypatch, limit):
    # Where the SDK's own function raises UnboundLocalError on its empty stack (pulumi 3.272).
    records = _recorded(monkeypatch, with_sdk=False)
    monkeypatch.setattr("sys.tracebacklimit", limit, raising=False)
    capture_program(lambda: _Pair("pair"))
    assert len(records) == 4 and not any(ours.frames for _, ours in records)


def test_the_sdks_function_is_back_after_a_capture_even_a_failed_one():
    def failing() -> None:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        capture_program(failing)
    assert sdk_resource._get_stack_trace is SDK_STACK_TRACE
