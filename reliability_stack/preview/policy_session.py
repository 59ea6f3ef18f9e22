"""Policy analysis while the program runs, from an engine-side process.

The Pulumi engine is a process of its own: it receives each registration from the program
and hands it to the analyzer as it comes. The offline preview runs the program in this
process (the SDK's mock runtime); `PolicySession` plays the engine's part next to it: it
spawns the policy pack, and a worker process (`python -m
reliability_stack.preview.policy_session`) that connects to the pack, receives each
captured resource through a pipe, sends `Analyze` for it at once, and `AnalyzeStack` when
the program is done. The gRPC work runs on another core instead of taking this process's
interpreter lock from the program (doing it here, per registration, made previews slower).

Wire format, worker side: stdin holds a stream of pickles, a header then one plan resource
each, until EOF (the two ends are one interpreter, and pickle writes and reads the plan's
plain data ~2-3x faster than JSON lines: 7.4 -> 3.8 ms written and 8.6 -> 2.7 ms read for
prod's 513 resources); stdout gets one JSON document, the verdict or `{"error": ...}`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from reliability_stack.collector import collect_rarely
from reliability_stack.errors import ConfigError, InputError
from reliability_stack.preview import placement
from reliability_stack.preview.analyzer import AnalyzerError, PolicyAnalyzer
from reliability_stack.preview.placement import Placement
from reliability_stack.preview.processes import read_until_closed, stop_soon

FINISH_TIMEOUT_S = 600  # an analysis of a very large stack, on a slow machine
BATCH_BYTES = 64 * 1024  # about 40 resources: the worker still gets them while the program runs


@dataclass
class PolicyVerdict:
    """What the pack said about a stack: its name, its policies and every violation."""

    pack: str
    policies: list[dict[str, Any]]
    violations: list[dict[str, Any]]


class PolicySession:
    """The pack and the worker driving it; `submit` each resource, then `finish`."""

    def __init__(self, analyzer: PolicyAnalyzer) -> None:
        self.analyzer = analyzer  # configured, not yet spawned: the pack process stays ours
        # Sampled now and again at `start`; the lower count decides (see placement.py).
        self._runnable_when_made = placement.other_runnable_tasks()
        # The program's core and these processes' while it runs; None: wherever the kernel likes.
        self.cores: Placement | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self._batch_lock = threading.Lock()
        self._input_open = False
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        self._batches: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None

    def __enter__(self) -> PolicySession:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Spawn the pack and the worker; neither is waited for."""
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        self.cores = placement.placement_now(self._runnable_when_made)  # before they add to the count
        self.analyzer.spawn()
        pack = self.analyzer.process
        assert pack is not None and pack.stdout is not None
        port_fd = pack.stdout.fileno()  # the worker reads the port the pack prints
        self.worker = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, pass_fds=(port_fd,))
        if self.cores is not None:
            for pid in (pack.pid, self.worker.pid):
                _give_way_to_program(pid, self.cores)
        assert self.worker.stdin is not None
        _widen_pipe(self.worker.stdin.fileno())
        self._writer = threading.Thread(target=self._write_batches, args=(self.worker.stdin.fileno(),),
                                        name="policy-session-writer", daemon=True)
        self._writer.start()
        self._input_open = True
        self._send({"packDir": str(self.analyzer.pack_dir), "policyConfig": self.analyzer.file_config,
                    "configSource": self.analyzer.config_source, "stackTags": self.analyzer.stack_tags,
                    "portFd": port_fd}, flush=True)

    def submit(self, resource: Any) -> None:
        """Send one resource (a plan dict, or anything with `to_plan()`), from any thread."""
        self._send(resource if isinstance(resource, Mapping) else resource.to_plan())

    def finish(self) -> PolicyVerdict:
        """End the stream and wait for the verdict."""
        assert self.worker is not None and self.worker.stdin is not None
        self._end_input()
        self.worker.stdin.close()  # the worker's signal that the program is done
        if self.cores is not None:  # the program's core is free now
            for process in (self.worker, self.analyzer.process):
                if process is not None:
                    placement.move_process(process.pid, self.cores.every)
        try:
            out, err = read_until_closed(self.worker, FINISH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise AnalyzerError(f"policy analysis did not finish within {FINISH_TIMEOUT_S} s") from None
        try:
            document = json.loads(out)
        except json.JSONDecodeError:
            tail = err.decode(errors="replace").strip().splitlines()[-1:] or [f"exit {self.worker.wait(timeout=10)}"]
            raise AnalyzerError(f"policy analysis failed: {tail[0]}") from None
        error = document.get("error")
        if error is None:
            return PolicyVerdict(document["pack"], document["policies"], document["violations"])
        if error["kind"] == "pack-start":
            raise self.analyzer.start_failure()
        if error["kind"] == "input":
            raise ConfigError(error["message"], file=error["file"], field=error["field"])
        raise AnalyzerError(error["message"])

    def close(self) -> None:
        """Stop both processes, whatever state they are in."""
        if self.worker is not None:
            self.worker.kill()  # first: a writer blocked on a full pipe then sees it broken
        self._end_input()
        if self.worker is not None:
            stop_soon(self.worker)
            self.worker = None
        self.analyzer.stop()

    def _send(self, document: Mapping[str, Any], *, flush: bool = False) -> None:
        record = pickle.dumps(dict(document), protocol=pickle.HIGHEST_PROTOCOL)
        # Registrations arrive on several threads; the records go out in batches, written by a
        # thread of their own. A write gives up the interpreter lock and then waits to take
        # it back from the program: a registration doing its own writes measured +0.13 s on
        # prod, as every registration behind it waited too.
        with self._batch_lock:
            if not self._input_open:
                return
            self._batch.append(record)
            self._batch_bytes += len(record)
            if flush or self._batch_bytes >= BATCH_BYTES:
                self._hand_over_batch()

    def _hand_over_batch(self) -> None:
        """Queue the batch for the writer thread (the caller holds the batch lock)."""
        if self._batch:
            self._batches.put(b"".join(self._batch))
        self._batch.clear()
        self._batch_bytes = 0

    def _write_batches(self, fd: int) -> None:
        """The writer thread: each batch whole into the worker's stdin, until the end marker."""
        broken = False
        while (batch := self._batches.get()) is not None:
            unsent = memoryview(batch)
            while unsent and not broken:
                try:
                    unsent = unsent[os.write(fd, unsent):]
                except BrokenPipeError:  # the worker stopped early; `finish` says why
                    broken = True

    def _end_input(self) -> None:
        """Send what is left, then stop the writer thread; idempotent."""
        with self._batch_lock:
            if self._input_open:
                self._hand_over_batch()
            self._input_open = False
        if self._writer is not None:
            self._batches.put(None)
            self._writer.join()
            self._writer = None


def _give_way_to_program(pid: int, cores: Placement) -> None:
    """Keep an engine-side process off the program's core, and below it in priority (see placement.py)."""
    placement.move_process(pid, cores.engine)
    with contextlib.suppress(AttributeError, OSError):  # not POSIX, or not allowed: only slower
        os.setpriority(os.PRIO_PROCESS, pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10))


def _widen_pipe(fd: int) -> None:
    """A pipe buffer that holds a whole stack's resources, so that writers rarely wait for the worker."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or above the system's limit
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)


# ---------------------------------------------------------------- worker process

def _emit(document: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(document))
    sys.stdout.flush()


def _pickles(stdin: IO[bytes]) -> Iterator[Any]:
    """Each object pickled into `stdin`, until it ends."""
    while True:
        try:
            yield pickle.load(stdin)
        except EOFError:
            return


def serve(stdin: IO[bytes]) -> None:
    """The worker: connect to the pack, analyze what arrives, report the verdict on stdout."""
    header = pickle.load(stdin)
    analyzer = PolicyAnalyzer(header["policyConfig"], pack_dir=Path(header["packDir"]),
                              config_source=header["configSource"], stack_tags=header["stackTags"])
    with open(header["portFd"], "rb", closefd=True) as port_stream:
        port = port_stream.readline().decode().strip()
    if not port.isdigit():
        _emit({"error": {"kind": "pack-start"}})
        return
    try:
        analyzer.attach(port)
    except InputError as exc:
        _emit({"error": {"kind": "input", "message": exc.reason, "file": exc.file, "field": exc.field}})
        return
    except AnalyzerError as exc:
        _emit({"error": {"kind": "analyzer", "message": str(exc)}})
        return
    try:
        stream = analyzer.stream()
        for resource in _pickles(stdin):
            stream.add(resource)
        violations = stream.finish()
        assert analyzer.info is not None
        _emit({"pack": analyzer.info.name, "policies": analyzer.policies, "violations": violations})
    finally:
        analyzer.stop()


if __name__ == "__main__":
    collect_rarely()
    serve(sys.stdin.buffer)
    # Nothing is left to finalize (the verdict is flushed, the channel closed). Closing our
    # ends of the pipes hands the verdict over now; the preview does not wait for this
    # process's teardown, and skipping the interpreter's (of gRPC's threads) shortens it.
    os.close(sys.stdout.fileno())
    os.close(sys.stderr.fileno())
    os._exit(0)
