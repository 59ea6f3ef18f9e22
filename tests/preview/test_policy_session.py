"""The engine-side policy session: the same verdict as analyzing the finished stack, errors named, no stray process."""

from __future__ import annotations

import os
import textwrap
import time
from typing import Any

import pytest

from reliability_stack.errors import ConfigError
from reliability_stack.preview import placement
from reliability_stack.preview.analyzer import AnalyzerError, PolicyAnalyzer
from reliability_stack.preview.policy_session import PolicySession
from tests.policies.corpus import MUTATIONS, good_stack, mutate
from tests.preview.cores import TWO_CORES, thread_affinities


def _key(violation: dict) -> tuple:
    return violation["policy"], violation["urn"], violation["enforcementLevel"], violation["message"]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:  # a zombie (killed, not yet reaped by us) is not running
            return stat.read().split(")")[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # reaped: gone before the open, or during the read
        return False


def _stack_with_violations() -> list[dict]:
    resources = good_stack()
    for mutation in MUTATIONS[:12]:  # resource and stack policies alike
        if not mutation.path.startswith("@"):
            resources = mutate(resources, mutation)[0]
    return resources


def test_streamed_analysis_gives_the_verdict_of_the_finished_stack():
    resources = _stack_with_violations()
    with PolicySession(PolicyAnalyzer()) as session:
        for resource in resources:
            session.submit(resource)
        verdict = session.finish()
    with PolicyAnalyzer() as analyzer:
        expected = analyzer.analyze_many(resources) + analyzer.analyze_stack(resources)
        policy_names = [p["name"] for p in analyzer.policies]
    assert len(expected) >= 5, "the mutated corpus should make the pack speak"
    assert sorted(map(_key, verdict.violations)) == sorted(map(_key, expected))
    assert [p["name"] for p in verdict.policies] == policy_names
    assert verdict.pack == "reliability-stack"


def test_a_bad_policy_config_names_its_file_and_field():
    session = PolicySession(PolicyAnalyzer({"no-such-policy": "mandatory"}, config_source="stacks/policy-config.x.json"))
    with session, pytest.raises(ConfigError) as caught:
        session.submit(good_stack()[0])
        session.finish()
    assert caught.value.file == "stacks/policy-config.x.json"
    assert caught.value.field == "no-such-policy"


def test_a_pack_that_does_not_start_is_reported_with_its_last_words(tmp_path):
    (tmp_path / "__main__.py").write_text(textwrap.dedent("""
        import sys
        sys.exit("policy pack is missing its rules module")
    """))
    with PolicySession(PolicyAnalyzer(pack_dir=tmp_path)) as session, pytest.raises(AnalyzerError) as caught:
        session.finish()
    assert "did not start: policy pack is missing its rules module" in str(caught.value)
    assert caught.value.exit_code == 3  # not 1, which says a mandatory policy is violated


def test_a_worker_failure_is_an_analyzer_error_with_its_reason():
    with PolicySession(PolicyAnalyzer()) as session, pytest.raises(AnalyzerError) as caught:
        session.submit({"urn": "urn:x", "name": "x", "props": {}, "options": {}})  # no type
        session.finish()
    assert "policy analysis failed: KeyError: 'type'" in str(caught.value)


def test_closing_an_unfinished_session_stops_both_processes():
    session = PolicySession(PolicyAnalyzer())
    session.start()
    assert session.worker is not None and session.analyzer.process is not None
    pids = [session.worker.pid, session.analyzer.process.pid]
    session.submit(good_stack()[0])
    session.close()  # as when the program fails half-way
    deadline = time.monotonic() + 10  # killed at once; the kernel's teardown is not waited for
    while any(map(_alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(map(_alive, pids))


def _wait_for_threads(pids: list[int]) -> None:
    deadline = time.monotonic() + 30
    while any(len(os.listdir(f"/proc/{pid}/task")) < 2 for pid in pids):
        assert time.monotonic() < deadline, "the processes started no threads"
        time.sleep(0.01)


@pytest.mark.skipif(not TWO_CORES, reason="needs two usable cores")
def test_with_a_core_to_spare_the_processes_keep_off_the_programs_core_until_it_ends(monkeypatch):
    monkeypatch.setattr(placement, "other_runnable_tasks", lambda: 0)
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    with PolicySession(PolicyAnalyzer()) as session:
        cores = session.cores
        assert cores is not None and cores.program in os.sched_getaffinity(0)
        pids = [session.worker.pid, session.analyzer.process.pid]
        for resource in good_stack():
            session.submit(resource)
        _wait_for_threads(pids)  # the pack's server and the worker's channel: started after the move
        assert [thread_affinities(pid) for pid in pids] == [{cores.engine}] * 2
        assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in pids] == [min(19, ours + 10)] * 2
        session.finish()
        assert thread_affinities(session.analyzer.process.pid) == {cores.every}  # for the whole stack's analysis


@pytest.mark.parametrize(("when_made", "when_started", "placed"), [
    (0, 0, True),
    (0, 3, True),   # e.g. the last preview's processes still exiting: runnable for a moment
    (3, 0, True),
    (2, 1, False),  # someone holds the spare core at both moments
])
def test_the_load_is_sampled_when_the_session_is_made_and_started_and_the_lower_count_decides(
        monkeypatch, when_made, when_started, placed):
    samples = iter([when_made, when_started])
    monkeypatch.setattr(placement, "other_runnable_tasks", lambda: next(samples))
    monkeypatch.setattr(placement, "usable_cpus", lambda: frozenset({0, 1}))
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    session = PolicySession(PolicyAnalyzer())
    with session:
        levels = [os.getpriority(os.PRIO_PROCESS, pid) for pid in (session.worker.pid, session.analyzer.process.pid)]
        assert (session.cores is not None) is placed
    assert levels == [min(19, ours + 10) if placed else ours] * 2


class _RecordingCall:
    def __init__(self, sent: list[bytes], response: object) -> None:
        self.sent, self.response = sent, response

    def future(self, request: Any) -> _RecordingCall:
        self.sent.append(request if isinstance(request, bytes) else request.SerializeToString())
        return self

    def result(self) -> object:
        return self.response


def test_the_stack_request_lists_the_resources_by_urn_whatever_order_they_arrived_in():
    from reliability_stack.preview.analyzer import AnalysisStream
    from reliability_stack.preview.analyzer_protocol import analyzer_pb2

    analyzed: list[bytes] = []
    stacked: list[bytes] = []
    stub = type("Stub", (), {"Analyze": _RecordingCall(analyzed, analyzer_pb2.AnalyzeResponse())})()
    stream = AnalysisStream(stub, _RecordingCall(stacked, analyzer_pb2.AnalyzeResponse()), window=4)
    urns = [f"urn:pulumi:prod::p::aws:s3/bucket:Bucket::{name}" for name in ("b-west", "a-east", "c-eu", "a-west")]
    for urn in urns:  # the order two concurrent registrations happened to take
        stream.add({"urn": urn, "type": "aws:s3/bucket:Bucket", "name": urn.rsplit("::", 1)[1],
                    "parent": None, "props": {}, "options": {}})
    stream.finish()
    [request] = [analyzer_pb2.AnalyzeStackRequest.FromString(sent) for sent in stacked]
    assert [r.urn for r in request.resources] == sorted(urns)
    assert len(analyzed) == 4  # each one analyzed as it came
