"""A fault-injecting HTTP proxy on loopback, in front of a moto server.

The CLI is pointed at the proxy with `--endpoint-url`; the proxy answers the first N
matching requests with a fault (throttling or 503) and forwards everything else to moto.
It counts what it saw, so a test can assert how many attempts the tool made.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import urlsplit

Fault = Literal["throttle", "unavailable"]


@dataclass
class FaultPlan:
    """Which requests fail and how. `match` is a substring of the request path or X-Amz-Target."""

    fault: Fault = "unavailable"
    failures: int | None = None
    """Fail this many matching requests, then forward; None fails every matching request."""
    match: str = "GetMetricData"
    matched: int = 0
    faulted: int = 0
    forwarded: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def should_fail(self, path: str, target: str) -> bool:
        with self.lock:
            if self.match not in path and self.match not in target:
                self.forwarded += 1
                return False
            self.matched += 1
            if self.failures is None or self.faulted < self.failures:
                self.faulted += 1
                return True
            self.forwarded += 1
            return False


def _handler(upstream: str, plan: FaultPlan) -> type[BaseHTTPRequestHandler]:
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
            return

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if plan.should_fail(self.path, self.headers.get("X-Amz-Target", "")):
                self._fault()
                return
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            finally:
                connection.close()

        def _fault(self) -> None:
            if plan.fault == "throttle":
                # rpc-v2-cbor (CloudWatch): the query-compatible header carries the error code.
                self.send_response(400)
                self.send_header("x-amzn-query-error", "Throttling;Sender")
                self.send_header("smithy-protocol", "rpc-v2-cbor")
                self.send_header("Content-Type", "application/cbor")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            payload = b"Service Unavailable"
            self.send_response(503)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _relay

    return Handler


@contextmanager
def fault_proxy(upstream: str, plan: FaultPlan) -> Iterator[str]:
    """Serve the proxy on 127.0.0.1 (a free port) for the duration; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream, plan))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
