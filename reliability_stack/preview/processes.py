"""The preview's child processes (the policy pack and its worker): read and stopped without waiting on the kernel.

A killed or exiting process holding gRPC's threads and ~100 MB takes the kernel 5-10 ms to
tear down. Nothing the preview reports depends on that teardown, so the preview reads what
a child wrote as soon as the child closes its pipes, and reaps it on a thread of its own.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import threading
import time

Process = subprocess.Popen[bytes]


def stop_soon(process: Process) -> None:
    """Kill `process` (if it still runs), close our ends of its pipes and reap it in the background."""
    process.kill()  # a no-op once it has been reaped
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()


def read_until_closed(process: Process, timeout: float) -> tuple[bytes, bytes]:
    """All of `process`'s stdout and stderr, once it has closed both (it may still be exiting).

    Both pipes are read together, as `Popen.communicate` reads them, so that a child writing
    much to one never blocks while we wait on the other.
    """
    assert process.stdout is not None and process.stderr is not None
    chunks: dict[int, list[bytes]] = {process.stdout.fileno(): [], process.stderr.fileno(): []}
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for fd in chunks:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise subprocess.TimeoutExpired(process.args, timeout)
            for key, _ in selector.select(remaining):
                data = os.read(key.fd, 1 << 16)
                if data:
                    chunks[key.fd].append(data)
                else:
                    selector.unregister(key.fd)
    return b"".join(chunks[process.stdout.fileno()]), b"".join(chunks[process.stderr.fileno()])
