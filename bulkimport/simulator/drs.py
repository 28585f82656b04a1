"""The semantics of the DRS v3 task APIs: what the service does with a well-authenticated request.

Authentication, fault injection and HTTP live elsewhere; this module decides outcomes:
validation (through the wire schema), name uniqueness, task lifecycle, paging, deletion
rules. Where the real service's behaviour is not documented, the choice made here is the
one written down in docs/simulator.md.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bulkimport.simulator import wire_schema
from bulkimport.simulator.faults import FaultConfig, FaultPlan
from bulkimport.simulator.launch import password_digests
from bulkimport.simulator.redaction import redact_body, strip_endpoint_secrets
from bulkimport.simulator.replies import BadBody, Reply, error, parse_json
from bulkimport.simulator.state import DELETABLE, Service, Store, Task

DB_USE_TYPES = ("migration", "sync", "cloudDataGuard")
DELETE_TYPES = ("terminate", "force_terminate", "delete")

NAME_TAKEN = ("DRS.M00277", "The task name already exists.")
CREATE_FAILED_REASON = ("DRS.M05066", "Failed to create instance!")
ITEM_FAILURE_REASON = ("DRS.M05066", "Failed to create instance!")
NOT_FOUND = ("DRS.M00289", "The task does not exist.")
TASK_GONE = ("DRS.M05004", "The task has been deleted or its resources have been released.")
DELETE_NOT_FOUND = ("DRS.M05003", "The task does not exist.")
WRONG_STATUS = ("DRS.M00304", "The API cannot be called in the current task status.")
BUSY = ("DRS.M01504", "Another operation is running on the task, or the task is abnormal.")
BAD_PAGE = ("DRS.M00210", "Invalid page value.")


def _jobs_body(raw: bytes) -> Mapping[str, Any] | Reply:
    """A JSON object with a non-empty `jobs` (batch-status, batch-detail, batch delete), or the
    400 the service answers instead."""
    try:
        body = _json_body(raw)
    except BadBody:
        return error(400, wire_schema.CODE_UNPARSABLE, "Invalid request parameter: the body is not JSON.")
    if not isinstance(body, Mapping) or not body.get("jobs"):
        return error(400, wire_schema.CODE_EMPTY, "The parameter jobs is empty.")
    return body


def _json_body(raw: bytes) -> Any:
    return parse_json(raw) if raw.strip() else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _page(value: Any, default: int, low: int, high: int | None) -> int | None:
    """A paging number from the body, or None when it is out of range or not an integer."""
    if value is None:
        return default
    if not _is_int(value) or value < low or (high is not None and value > high):
        return None
    return int(value)


def _slice(items: list[Any], cur_page: int, per_page: int) -> list[Any]:
    """One page; per_page 0 (or cur_page 0 where allowed) means everything."""
    if per_page == 0 or cur_page == 0:
        return items
    start = (cur_page - 1) * per_page
    return items[start:start + per_page]


def _list_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


class DrsService(Service):
    """Batch creation, list, batch-status, batch-detail and batch delete over one Store."""

    def __init__(self, store: Store, plan: FaultPlan, max_jobs: int = wire_schema.DEFAULT_MAX_JOBS,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(store, plan, max_jobs, clock)
        # Compile both schema checkers now: left to the first requests, concurrent ones would
        # each compile them at once (the caches are not locks) and stall a rehearsal's start.
        wire_schema.warm(max_jobs)

    def _new_id(self) -> str:
        raw = uuid.UUID(int=self.plan.random_bits(128), version=4)
        return str(raw)[:-4] + "jb01"

    # -- batch creation --------------------------------------------------------------------

    def create_jobs(self, project_id: str, raw: bytes, *, force_item_failure: bool = False,
                    force_create_failure: bool = False) -> Reply:
        """POST /v3/{project_id}/jobs/batch-creation."""
        try:
            body = parse_json(raw)
        except BadBody:
            return error(400, wire_schema.CODE_UNPARSABLE, "Invalid request parameter: the body is not JSON.")
        config = self.plan.config
        check = wire_schema.check_batch(body, self.max_jobs)
        if check.request_problem is not None:
            problem = check.request_problem
            return error(400, problem.code, problem.message)
        jobs: list[Any] = body["jobs"]
        if check.job_problems and config.invalid_job_mode == "request":
            return self._invalid_request(check)

        with self.store.transaction():
            if config.duplicate_name_mode == "request":
                clash = self._first_name_clash(project_id, jobs, check)
                if clash:
                    return error(422, *NAME_TAKEN)
            seen: set[str] = set()
            results = [self._create_one(project_id, index, job, check, config, force_item_failure,
                                        force_create_failure, seen)
                       for index, job in enumerate(jobs)]
        if config.shuffle_results:
            self.plan.shuffle(results)
        return Reply(202, {"results": results, "count": len(results)})

    def _invalid_request(self, check: wire_schema.BatchCheck) -> Reply:
        problems = [p for index in sorted(check.job_problems) for p in check.job_problems[index]]
        first = problems[0]
        label = repr(first.job_name) if first.job_name is not None else "without a valid name"
        message = f"Job {label} (jobs[{first.job_index}]): {first.message}."
        return error(400, first.code, message, errors=[p.as_dict() for p in problems])

    def _first_name_clash(self, project_id: str, jobs: list[Any], check: wire_schema.BatchCheck) -> bool:
        seen: set[str] = set()
        for index, job in enumerate(jobs):
            if index in check.job_problems:
                continue
            key = job["name"].lower()
            if key in seen or self.store.live_task_by_name(project_id, job["name"]) is not None:
                return True
            seen.add(key)
        return False

    def _create_one(self, project_id: str, index: int, job: Any, check: wire_schema.BatchCheck,
                    config: FaultConfig, force_item_failure: bool, force_create_failure: bool,
                    seen: set[str]) -> dict[str, Any]:
        problems = check.job_problems.get(index)
        if problems:
            first = problems[0]
            return {"name": first.job_name, "error_code": first.code, "error_msg": first.message}
        name: str = job["name"]
        key = name.lower()
        if key in seen or self.store.live_task_by_name(project_id, name) is not None:
            return {"name": name, "error_code": NAME_TAKEN[0], "error_msg": NAME_TAKEN[1]}
        seen.add(key)
        if force_item_failure or self.plan.chance("item_failure_rate"):
            return {"name": name, "error_code": ITEM_FAILURE_REASON[0], "error_msg": ITEM_FAILURE_REASON[1]}
        now = self.now_ms()
        fails = force_create_failure or self.plan.chance("create_failure_rate")
        task = Task(
            id=self._new_id(), project_id=project_id, name=name, created_ms=now,
            ready_ms=now + int(config.transition_delay * 1000),
            fate="CREATE_FAILED" if fails else "CONFIGURATION", job=redact_body(job),
            error_code=CREATE_FAILED_REASON[0] if fails else None,
            error_message=CREATE_FAILED_REASON[1] if fails else None,
            launch={"pw": digests} if (digests := password_digests(job)) else {},
        )
        self.store.insert_task(task)
        return {"id": task.id, "name": name, "status": "CREATING", "create_time": str(now)}

    # -- task list ---------------------------------------------------------------------------

    def list_jobs(self, project_id: str, raw: bytes) -> Reply:
        """POST /v3/{project_id}/jobs: filter by db_use_type (mandatory), name/ID and a few more."""
        try:
            body = _json_body(raw)
        except BadBody:
            return error(400, wire_schema.CODE_UNPARSABLE, "Invalid request parameter: the body is not JSON.")
        if not isinstance(body, Mapping):
            return error(400, wire_schema.CODE_EMPTY, "The parameter db_use_type is empty.")
        db_use_type = body.get("db_use_type")
        if db_use_type in (None, ""):
            return error(400, wire_schema.CODE_EMPTY, "The parameter db_use_type is empty.")
        if db_use_type not in DB_USE_TYPES:
            return error(400, wire_schema.CODE_INVALID, "The value of db_use_type is invalid.")
        cur_page = _page(body.get("cur_page"), 1, 0, None)
        per_page = _page(body.get("per_page"), 10, 0, 100)
        if cur_page is None or per_page is None:
            return error(400, *BAD_PAGE)
        name_filter = body.get("name")
        if name_filter is not None and not isinstance(name_filter, str):
            return error(400, wire_schema.CODE_INVALID, "The value of name is invalid.")
        now = self.now_ms()
        matches = []
        for task in self.store.tasks(project_id):
            if task.deleted or task.job.get("db_use_type") != db_use_type:
                continue
            if name_filter and not _name_matches(task, name_filter):
                continue
            status = task.status(now)
            if not all(body.get(k) in (None, "", actual) for k, actual in (
                    ("engine_type", task.job.get("engine_type")), ("net_type", task.job.get("net_type")),
                    ("status", status))):
                continue
            matches.append((task, status))
        matches.sort(key=lambda pair: (-pair[0].created_ms, pair[0].name.lower()))
        jobs = [self._job_info(task, status, now) for task, status in _slice(matches, cur_page, per_page)]
        return Reply(200, {"total_record": len(matches), "jobs": jobs})

    @staticmethod
    def _job_info(task: Task, status: str, now: int) -> dict[str, Any]:
        info: dict[str, Any] = {
            "id": task.id, "name": task.name, "status": status,
            "description": task.job.get("description", ""), "create_time": _list_time(task.created_ms),
            "engine_type": task.job.get("engine_type"), "net_type": task.job.get("net_type"),
            "billing_tag": False, "job_direction": task.job.get("job_direction"),
            "db_use_type": task.job.get("db_use_type"), "task_type": task.job.get("task_type"),
            "node_newFramework": True,
        }
        code, message = task.failure(now)
        if code:
            info["error_msg"] = message
        return info

    # -- batch-status and batch-detail -----------------------------------------------------------

    def _query_ids(self, raw: bytes) -> tuple[list[str], int, int] | Reply:
        body = _jobs_body(raw)
        if isinstance(body, Reply):
            return body
        ids = body["jobs"]
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return error(400, wire_schema.CODE_INVALID, "The value of jobs is invalid: a list of task IDs is expected.")
        page = body.get("page_req") or {}
        if not isinstance(page, Mapping):
            return error(400, *BAD_PAGE)
        cur_page = _page(page.get("cur_page"), 1, 1, None)
        per_page = _page(page.get("per_page"), 5, 0, 100)
        if cur_page is None or per_page is None:
            return error(400, *BAD_PAGE)
        return ids, cur_page, per_page

    def batch_status(self, project_id: str, raw: bytes) -> Reply:
        """POST /v3/{project_id}/jobs/batch-status: one item per requested ID, in request order."""
        parsed = self._query_ids(raw)
        if isinstance(parsed, Reply):
            return parsed
        ids, cur_page, per_page = parsed
        now = self.now_ms()
        results = []
        for task_id in _slice(ids, cur_page, per_page):
            task = self.store.get_task(project_id, task_id)
            if task is None:
                results.append({"id": task_id, "error_code": NOT_FOUND[0], "error_message": NOT_FOUND[1]})
                continue
            item: dict[str, Any] = {"id": task.id, "status": task.status(now)}
            code, message = (TASK_GONE if task.deleted else task.failure(now))
            if code:
                item.update(error_code=code, error_message=message)
            results.append(item)
        return Reply(200, {"results": results, "count": len(ids)})

    def batch_detail(self, project_id: str, raw: bytes) -> Reply:
        """POST /v3/{project_id}/jobs/batch-detail. Passwords and certificate keys are never returned.

        When no requested task exists the answer is 400 with the error inside ``results``,
        as both Terraform providers expect for a single missing task.
        """
        parsed = self._query_ids(raw)
        if isinstance(parsed, Reply):
            return parsed
        ids, cur_page, per_page = parsed
        now = self.now_ms()
        results = []
        found = 0
        for task_id in _slice(ids, cur_page, per_page):
            task = self.store.get_task(project_id, task_id)
            if task is None:
                results.append({"id": task_id, "error_code": NOT_FOUND[0], "error_message": NOT_FOUND[1]})
                continue
            if task.deleted:
                results.append({"id": task_id, "status": "DELETED", "error_code": TASK_GONE[0],
                                "error_message": TASK_GONE[1]})
                continue
            found += 1
            results.append(self._detail(task, now))
        status = 200 if found or not results else 400
        return Reply(status, {"results": results, "count": len(ids)})

    @staticmethod
    def _detail(task: Task, now: int) -> dict[str, Any]:
        job = task.job
        item: dict[str, Any] = {
            "id": task.id, "name": task.name, "status": task.status(now),
            "description": job.get("description", ""), "create_time": str(task.created_ms),
            "task_type": job.get("task_type"),
            "source_endpoint": strip_endpoint_secrets(job.get("source_endpoint", {})),
            "target_endpoint": strip_endpoint_secrets(job.get("target_endpoint", {})),
            "job_direction": job.get("job_direction"), "db_use_type": job.get("db_use_type"),
            "engine_type": job.get("engine_type"), "node_type": job.get("node_type"),
            "is_target_readonly": job.get("is_target_readonly", True), "multi_write": job.get("multi_write", False),
            "tags": job.get("tags", []),
        }
        code, message = task.failure(now)
        if code:
            item.update(error_code=code, error_message=message)
        return item

    # -- batch delete ------------------------------------------------------------------------

    def batch_delete(self, project_id: str, raw: bytes) -> Reply:
        """DELETE /v3/{project_id}/jobs/batch-jobs: stop (terminate) or delete, per item."""
        body = _jobs_body(raw)
        if isinstance(body, Reply):
            return body
        items = body["jobs"]
        if not isinstance(items, list):
            return error(400, wire_schema.CODE_INVALID, "The value of jobs is invalid.")
        delay_ms = int(self.plan.config.transition_delay * 1000)
        with self.store.transaction():
            results = [self._delete_one(project_id, item, delay_ms) for item in items]
        return Reply(202, {"count": len(results), "results": results})

    def _delete_one(self, project_id: str, item: Any, delay_ms: int) -> dict[str, Any]:
        if not isinstance(item, Mapping) or not isinstance(item.get("job_id"), str):
            return _failed(None, wire_schema.CODE_EMPTY, "The parameter job_id is empty.")
        task_id: str = item["job_id"]
        delete_type = item.get("delete_type")
        if delete_type not in DELETE_TYPES:
            return _failed(task_id, wire_schema.CODE_INVALID, "The value of delete_type is invalid.")
        task = self.store.get_task(project_id, task_id)
        if task is None:
            return _failed(task_id, *DELETE_NOT_FOUND)
        if task.deleted:
            return _failed(task_id, *TASK_GONE)
        now = self.now_ms()
        status = task.status(now)
        if delete_type == "delete":
            if status not in DELETABLE:
                return _failed(task_id, *WRONG_STATUS)
            self.store.mark_deleted(task_id, now)
            return {"id": task_id, "status": "success"}
        if status in DELETABLE or status == "RELEASE_RESOURCE_STARTED":
            return _failed(task_id, *WRONG_STATUS)
        if status == "CREATING" and delete_type == "terminate":
            return _failed(task_id, *BUSY)
        self.store.mark_released(task_id, now, now + delay_ms)
        return {"id": task_id, "status": "success"}


def _failed(task_id: str | None, code: str, message: str) -> dict[str, Any]:
    return {"id": task_id, "status": "failed", "error_code": code, "error_msg": message}


def _name_matches(task: Task, name_filter: str) -> bool:
    """The list filter: an exact task ID, or a case-insensitive substring of the name.

    Several comma-separated IDs/names are accepted (the SDK documents comma-separated IDs).
    """
    for token in (t.strip() for t in name_filter.split(",")):
        if token and (token == task.id or token.lower() in task.name.lower()):
            return True
    return False
