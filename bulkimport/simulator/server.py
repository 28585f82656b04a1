"""The simulator as a real HTTP server on loopback, in a background thread or in the foreground.

Standard library only (``ThreadingHTTPServer``), HTTP/1.1 with keep-alive so clients that
pool connections behave as they would against the cloud. This module moves bytes and
carries out the transport faults; all decisions are made by ``SimulatorApp``.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from bulkimport.simulator.app import Request, SimulatorApp
from bulkimport.simulator.drs import DrsService
from bulkimport.simulator.faults import FaultConfig, FaultPlan
from bulkimport.simulator.iam import Authenticator
from bulkimport.simulator.replies import ACTION_CLOSE, ACTION_RESET, Reply, error
from bulkimport.simulator.state import Store
from bulkimport.simulator.wire_schema import DEFAULT_MAX_JOBS

#: Signed AK/SK bodies may be up to 12 MB (Huawei signing guide); larger bodies are refused.
MAX_BODY_BYTES = 12 * 1024 * 1024
DEFAULT_PORT = 8790


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    #: socketserver's default backlog is 5: a burst of clients (submit's --concurrency, the
    #: concurrency tests' 20 threads) overflowed it under load and a connection was reset.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: SimulatorApp, verbose: bool) -> None:
        self.app = app
        self.verbose = verbose
        self._open_connections = 0
        self._connections_changed = threading.Condition()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Count the connection before its thread starts, so `wait_idle` cannot miss it."""
        with self._connections_changed:
            self._open_connections += 1
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._connection_closed()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._connection_closed()

    def _connection_closed(self) -> None:
        with self._connections_changed:
            self._open_connections -= 1
            self._connections_changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._connections_changed:
            return self._connections_changed.wait_for(lambda: self._open_connections == 0, timeout)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DRS-Simulator"
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        """No Nagle delay: headers and body go out as separate writes, and ~40 ms per reply adds up."""
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent unless verbose; even then only the request line, never headers or bodies."""
        if self.server.verbose:
            sys.stderr.write(f"simulator: {self.address_string()} {format % args}\n")

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY_BYTES:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self._send(error(400, "DRS.M00200", "Parameter error: unreadable request body."), close=True)
            return
        if body is None:
            self._send(error(413, "DRS.M00200", "Parameter error: the request body is too large."), close=True)
            return
        request = Request(self.command, self.path, list(self.headers.items()), body)
        try:
            reply = self.server.app.handle(request)
        except Exception:  # a simulator bug must show, but must not kill the server
            traceback.print_exc(file=sys.stderr)
            reply = error(500, "DRS.M00004", "Service abnormal (simulator internal error).")
        if reply.action == ACTION_RESET:
            self._abort_connection()
        elif reply.action == ACTION_CLOSE:
            self._drop_connection()
        else:
            self._send(reply)

    def _send(self, reply: Reply, close: bool = False) -> None:
        payload = reply.encoded()
        self.send_response(reply.status)
        if payload:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Request-Id", secrets.token_hex(16))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    def _abort_connection(self) -> None:
        """Close with RST: the client sees 'connection reset by peer' and no reply."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def _drop_connection(self) -> None:
        """Close with FIN and no reply: the client sees the remote end close without a response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class Simulator:
    """A DRS v3 + IAM simulator on 127.0.0.1, started as a context manager.

    ``with Simulator(token="t") as sim:`` serves on a free port in a background thread;
    ``sim.base_url`` is the DRS (and IAM) base URL. Any project id in the path is accepted;
    tasks are kept per project. See docs/simulator.md for every option and behaviour.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        faults: FaultConfig | None = None,
        state_path: str | Path | None = None,
        seed: int | str | None = 0,
        access_keys: Mapping[str, str] | None = None,
        iam_user: str = "sim-user",
        iam_password: str = "sim-password",
        iam_domain: str = "sim-domain",
        iam_projects: Mapping[str, str] | None = None,
        max_jobs: int = DEFAULT_MAX_JOBS,
        verbose: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.token_generated = token is None
        self.token = token if token is not None else "sim-" + secrets.token_urlsafe(24)
        self.access_keys = dict(access_keys or {})
        self.iam_user = iam_user
        self.iam_domain = iam_domain
        self.verbose = verbose
        self.store = Store(state_path)
        start_number = self.store.bump_counter("starts")
        initial = faults.updated({}) if faults is not None else FaultConfig()
        self._plan = FaultPlan(initial.updated({}), f"{seed}:{start_number}" if start_number > 1 else seed)
        auth = Authenticator(self.store, token=self.token, access_keys=self.access_keys, iam_user=iam_user,
                             iam_password=iam_password, iam_domain=iam_domain, iam_projects=iam_projects,
                             clock=clock)
        drs = DrsService(self.store, self._plan, max_jobs=max_jobs, clock=clock)
        self.app = SimulatorApp(self.store, self._plan, auth, drs, initial, clock=clock)
        self._server: _Server | None = None
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._foreground: int | None = None  # thread id running serve_forever in the foreground

    # -- lifecycle -----------------------------------------------------------------------------

    def _bind(self) -> _Server:
        if self._server is None:
            self._server = _Server((self.host, self.requested_port), self.app, self.verbose)
            self._port = int(self._server.server_address[1])
        return self._server

    def start(self) -> Simulator:
        """Serve in a daemon thread; returns once the socket is listening."""
        server = self._bind()
        if self._thread is None:
            self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="drs-simulator", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until KeyboardInterrupt (or ``stop`` from another thread)."""
        server = self._bind()
        self._foreground = threading.get_ident()
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self._foreground = None
            self.stop()

    def stop(self) -> None:
        """Stop serving; safe to call twice. The state stays readable (``tasks()``, ``requests()``)."""
        server, self._server = self._server, None
        if server is None:
            return
        if self._thread is not None:
            server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        elif self._foreground is not None and self._foreground != threading.get_ident():
            server.shutdown()  # serve_forever runs in another thread: let it return first
        server.server_close()

    def close(self) -> None:
        """Stop serving and release the state database."""
        self.stop()
        self.store.close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no client connection is open; False if one still is after `timeout` s.

        A connection closes only after the server has answered (or dropped) every request
        that arrived on it, so once a client process is dead this is the moment its
        requests in flight have all reached the state: what a test waits for instead of
        sleeping through the simulator's latency.
        """
        server = self._server
        return True if server is None else server.wait_idle(timeout)

    # -- addresses -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The listening port (binds the socket on first use, so port=0 resolves to the real one)."""
        if self._port is None:
            self._bind()
        assert self._port is not None
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the DRS endpoint and the IAM endpoint alike."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    @property
    def iam_url(self) -> str:
        return self.base_url

    # -- Python accessors (the same data as the admin endpoints) ----------------------------------

    @property
    def faults(self) -> FaultConfig:
        return self._plan.config

    def set_faults(self, config: FaultConfig | None = None, **changes: Any) -> FaultConfig:
        """Replace the fault settings with ``config`` and/or change some fields; returns the result."""
        if config is not None:
            self._plan.set_config(config.updated({}))
        return self._plan.update(changes) if changes else self._plan.config

    def tasks(self, project_id: str | None = None) -> list[dict[str, Any]]:
        """Every task (deleted included), as ``GET /_admin/tasks`` shows it."""
        return self.app.task_views(project_id)

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The request log (secrets masked), as ``GET /_admin/requests`` shows it."""
        return self.store.requests(since)

    def reset(self) -> None:
        """As ``POST /_admin/reset``."""
        self.app.reset()


def serve(host: str = "127.0.0.1", port: int = DEFAULT_PORT, **options: Any) -> None:
    """Run a simulator in the foreground until Ctrl-C. ``options`` are Simulator's keyword arguments."""
    Simulator(host=host, port=port, **options).serve_forever()
