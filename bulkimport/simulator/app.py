"""Request routing and the order of concerns for one request: latency, auth, faults, logic, log.

Socket-free on purpose: ``SimulatorApp.handle`` takes a parsed request and returns a
``Reply``; the HTTP layer (server.py) only moves bytes and carries out reset/close actions.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from bulkimport.simulator.drs import DrsService
from bulkimport.simulator.faults import FaultConfig, FaultPlan
from bulkimport.simulator.iam import Authenticator, Caller
from bulkimport.simulator.launch import LaunchService, launch_view
from bulkimport.simulator.redaction import redact_body, redact_headers
from bulkimport.simulator.replies import ACTION_CLOSE, ACTION_RESET, BadBody, Reply, error, parse_json
from bulkimport.simulator.state import Store, Task

# Any prefix may stand before /v3/ (the API page's fourth example uses /drs/v3/...).
_V3 = re.compile(r"^(?P<prefix>.*?)/v3/(?P<rest>.+?)/?$")
_PROJECT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

#: rest-of-path pattern -> (HTTP method, endpoint kind)
_DRS_ROUTES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"^(?P<project>[^/]+)/jobs/batch-creation$"), "POST", "create"),
    (re.compile(r"^(?P<project>[^/]+)/jobs/batch-status$"), "POST", "status"),
    (re.compile(r"^(?P<project>[^/]+)/jobs/batch-detail$"), "POST", "detail"),
    (re.compile(r"^(?P<project>[^/]+)/jobs/batch-jobs$"), "DELETE", "delete"),
    (re.compile(r"^(?P<project>[^/]+)/jobs$"), "POST", "list"),
    (re.compile(r"^(?P<project>[^/]+)/jobs/batch-connection$"), "POST", "connect"),
    (re.compile(r"^(?P<project>[^/]+)/jobs/batch-select-objects$"), "PUT", "objects"),
    (re.compile(r"^(?P<project>[^/]+)/jobs/batch-precheck$"), "POST", "precheck"),
    (re.compile(r"^(?P<project>[^/]+)/jobs/batch-precheck-result$"), "POST", "precheck_result"),
    (re.compile(r"^(?P<project>[^/]+)/jobs/batch-starting$"), "POST", "start"),
    (re.compile(r"^(?P<project>[^/]+)/jobs/batch-progress$"), "POST", "progress"),
]

THROTTLED = ("APIG.0308",
             "The throttling threshold has been reached: policy user over ratelimit,limit:10,time:1 second")
_NO_API = ("APIGW.0101", "The API does not exist or has not been published in the environment.")


@dataclass
class Request:
    """One HTTP request as the app sees it (header names as sent; body as raw bytes)."""

    method: str
    target: str  # path plus optional ?query, as on the request line
    headers: list[tuple[str, str]]
    body: bytes

    def header_map(self) -> dict[str, str]:
        """Lower-case header name -> value (the last one wins)."""
        return {name.lower(): value for name, value in self.headers}


class SimulatorApp:
    """Everything behind the socket: DRS, IAM, admin endpoints, faults and the request log."""

    def __init__(self, store: Store, plan: FaultPlan, auth: Authenticator, drs: DrsService,
                 initial_faults: FaultConfig, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, launch: LaunchService | None = None) -> None:
        self.store = store
        self.plan = plan
        self.auth = auth
        self.drs = drs
        self.launch = launch if launch is not None else LaunchService(store, plan, drs.max_jobs, drs.clock)
        self.initial_faults = initial_faults
        self.clock = clock
        self.sleep = sleep

    # -- entry point -------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        path, _, query = request.target.partition("?")
        if path.startswith("/_admin/") or path == "/_admin":
            return self._admin(request.method, path, query, request.body)
        match = _V3.match(path)
        if match is None:
            return self._logged(request, None, None, error(404, *_NO_API))
        rest = match["rest"]
        if rest == "auth/tokens":
            if request.method != "POST":
                return self._logged(request, "iam", None, error(405, *_NO_API))
            return self._logged(request, "iam", None, self.auth.issue_token(request.body))
        for pattern, method, kind in _DRS_ROUTES:
            route = pattern.match(rest)
            if route is None:
                continue
            if request.method != method:
                return self._logged(request, kind, None, error(405, *_NO_API))
            project_id = unquote(route["project"])
            return self._drs(request, path, query, kind, project_id)
        return self._logged(request, None, None, error(404, *_NO_API))

    # -- DRS ---------------------------------------------------------------------------------

    def _drs(self, request: Request, path: str, query: str, kind: str, project_id: str) -> Reply:
        config = self.plan.config
        if config.latency:
            self.sleep(config.latency)
        headers = request.header_map()
        caller = self.auth.authenticate(request.method, path, query, headers, request.body, project_id,
                                        config.token_ttl_requests)
        if isinstance(caller, Reply):
            return self._logged(request, kind, project_id, caller)
        auth_method = caller.method
        if not _PROJECT_ID.match(project_id):
            return self._logged(request, kind, project_id, error(403, "DRS.M00261", "Invalid project ID."), auth_method)
        fault = self.plan.request_fault(kind)
        early = self._early_fault(fault, caller, config)
        if early is not None:
            return self._logged(request, kind, project_id, early, auth_method, fault)
        content_type = headers.get("content-type", "")
        if request.body.strip() and not content_type.lower().startswith("application/json"):
            reply = error(400, "DRS.M00200", "Parameter error: Content-Type must be application/json.")
            return self._logged(request, kind, project_id, reply, auth_method, fault)
        reply = self._dispatch(kind, project_id, request.body, fault)
        if fault == "lost_response":
            reply = Reply(0, action=ACTION_CLOSE)
        elif fault == "500_created":
            reply = error(500, "DRS.M00004", "Service abnormal.")
        return self._logged(request, kind, project_id, reply, auth_method, fault)

    def _early_fault(self, fault: str | None, caller: Caller, config: FaultConfig) -> Reply | None:
        """Faults that answer before the request is processed (so nothing is created)."""
        if fault == "token_expired":
            return self.auth.expire(caller)
        if fault == "reset":
            return Reply(0, action=ACTION_RESET)
        if fault == "500":
            return error(500, "DRS.M00004", "Service abnormal.")
        if fault == "429":
            reply = error(429, *THROTTLED)
            reply.headers["Retry-After"] = str(config.retry_after)
            return reply
        if fault == "m01503":
            return error(400, "DRS.M01503", "Operation too frequent. Try again later.")
        return None

    def _dispatch(self, kind: str, project_id: str, body: bytes, fault: str | None) -> Reply:
        if kind == "create":
            return self.drs.create_jobs(project_id, body, force_item_failure=fault == "item_failure",
                                        force_create_failure=fault == "create_failure")
        if kind == "list":
            return self.drs.list_jobs(project_id, body)
        if kind == "status":
            return self.drs.batch_status(project_id, body)
        if kind == "detail":
            return self.drs.batch_detail(project_id, body)
        if kind == "delete":
            return self.drs.batch_delete(project_id, body)
        launch_calls = {"connect": self.launch.test_connections, "objects": self.launch.select_objects,
                        "precheck": self.launch.precheck, "precheck_result": self.launch.precheck_results,
                        "start": self.launch.start, "progress": self.launch.progress}
        return launch_calls[kind](project_id, body)

    # -- request log -------------------------------------------------------------------------

    def _logged(self, request: Request, kind: str | None, project_id: str | None, reply: Reply,
                auth_method: str | None = None, fault: str | None = None) -> Reply:
        try:
            parsed: Any = parse_json(request.body) if request.body.strip() else None
            body: Any = redact_body(parsed)
        except BadBody:
            body = {"_unparsed_bytes": len(request.body)}
        jobs = body.get("jobs") if isinstance(body, Mapping) else None
        self.store.log_request({
            "at_ms": int(self.clock() * 1000),
            "method": request.method,
            "path": request.target,
            "endpoint": kind,
            "project_id": project_id,
            "headers": redact_headers(dict(request.headers)),
            "body": body,
            "status": reply.status if reply.action is None else None,
            "jobs": len(jobs) if isinstance(jobs, list) else None,
            "fault": fault or reply.action,
            "auth": auth_method,
        })
        return reply

    # -- admin -------------------------------------------------------------------------------

    def _admin(self, method: str, path: str, query: str, raw: bytes) -> Reply:
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        route = (method, path.rstrip("/"))
        if route == ("GET", "/_admin/health"):
            return Reply(200, {"ok": True})
        if route == ("GET", "/_admin/faults"):
            return Reply(200, self.plan.config.as_dict())
        if route == ("POST", "/_admin/faults"):
            try:
                changes = parse_json(raw) if raw.strip() else {}
                if not isinstance(changes, Mapping):
                    raise ValueError("expected a JSON object of FaultConfig fields")
                return Reply(200, self.plan.update(changes).as_dict())
            except (BadBody, ValueError, TypeError) as exc:
                return Reply(400, {"error": str(exc)})
        if route == ("GET", "/_admin/tasks"):
            return Reply(200, {"tasks": self.task_views(params.get("project_id"))})
        if route == ("GET", "/_admin/requests"):
            since = params.get("since", "0")
            if not since.isdigit():
                return Reply(400, {"error": "since must be a request sequence number"})
            return Reply(200, {"requests": self.store.requests(int(since))})
        if route == ("POST", "/_admin/reset"):
            self.reset()
            return Reply(200, {"ok": True})
        return Reply(404, {"error": f"no admin endpoint {method} {path}"})

    def reset(self) -> None:
        """Forget tasks, tokens and the request log; restore the fault settings given at start."""
        with self.store.lock:
            self.store.reset()
            self.auth.reinstall_static_token()
            self.plan.set_config(self.initial_faults.updated({}))

    def task_views(self, project_id: str | None = None) -> list[dict[str, Any]]:
        now = int(self.clock() * 1000)
        return [_task_view(task, now) for task in self.store.tasks(project_id)]


def _task_view(task: Task, now: int) -> dict[str, Any]:
    code, message = task.failure(now)
    return {
        "project_id": task.project_id, "id": task.id, "name": task.name, "status": task.status(now),
        "deleted": task.deleted, "create_time": str(task.created_ms), "error_code": code,
        "error_message": message, "job": task.job, "launch": launch_view(task),
    }
