"""The reference service of the stacks (checkout, catalog): a tiny HTTP service with honest health endpoints.

- `/healthz` (readiness): 200 while serving, 503 once SIGTERM arrived, so the load
  balancer and the Service stop sending new requests before the process exits.
- `/livez` (liveness): 200 while the process loop runs; never depends on downstreams,
  so a slow dependency cannot make Kubernetes restart every pod at once.
- SIGTERM: mark not-ready, finish in-flight requests, exit within SHUTDOWN_SECONDS.
"""

from __future__ import annotations

import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("PORT", "8080"))
SHUTDOWN_SECONDS = float(os.environ.get("SHUTDOWN_SECONDS", "20"))
SERVICE_NAME = os.environ.get("SERVICE_NAME", "service")
draining = threading.Event()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if self.path == "/livez":
            self._reply(200, b"alive\n")
        elif self.path == "/healthz":
            self._reply(503 if draining.is_set() else 200, b"draining\n" if draining.is_set() else b"ready\n")
        else:
            self._reply(200, f"{SERVICE_NAME}\n".encode())

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature fixed by stdlib
        pass


def main() -> None:
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    server.daemon_threads = False  # in-flight requests finish before exit

    def on_term(signum: int, frame: object) -> None:
        draining.set()
        # shutdown() blocks until serve_forever returns, so call it off the signal handler.
        threading.Timer(0, server.shutdown).start()
        threading.Timer(SHUTDOWN_SECONDS, lambda: os._exit(0)).start()

    signal.signal(signal.SIGTERM, on_term)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
