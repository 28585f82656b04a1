"""The launch calls: connection tests, object selection, pre-check, its results, start, progress.

What each call does to a task is kept in the task's ``launch`` record (state.py). The rules
follow the API pages. Where they are silent, the choices are written in docs/launch-api.md
and docs/simulator.md:

- Every call works on tasks in ``CONFIGURATION`` only, except the two queries.
- Object selection and the pre-check need both connections to have passed their latest
  test. A start needs the latest pre-check to have finished and passed.
- A new connection test or object selection voids an earlier pre-check, as the console does.
- Passwords are compared with the salted digest kept from batch-creation. A task created
  without a password accepts any password.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from bulkimport.simulator import timeline, wire_schema
from bulkimport.simulator.faults import FaultConfig, FaultPlan, parse_host_port
from bulkimport.simulator.redaction import secret_digest, secret_matches
from bulkimport.simulator.replies import BadBody, Reply, error, parse_json
from bulkimport.simulator.state import Service, Store, Task

NOT_FOUND = ("DRS.M00289", "The task does not exist.")
TASK_GONE = ("DRS.M05004", "The task has been deleted or the resource has been released.")
WRONG_STATUS = ("DRS.M00304", "This API cannot be called in the current task status.")
BAD_CREDENTIALS = ("DRS.KE0002", "The username or password is incorrect.")
NOT_CONNECTED = ("DRS.M00300",
                 "Invalid request, test the connections to the source and destination databases first.")
NOT_PRECHECKED = ("DRS.M00300", "Invalid request, the pre-check has not passed.")
NEVER_PRECHECKED = ("DRS.M00304", "This API cannot be called in the current task status: no pre-check was run.")
NO_OBJECTS_FOR_DR = ("DRS.M00202", "The value of parameter job_id is invalid: "
                     "disaster recovery tasks do not support object selection.")
START_REFUSED = ("DRS.M01504", "Another operation is being performed on the migration task "
                 "or the migration task is abnormal.")
DUPLICATES = ("DRS.M00301", "There are duplicate {what} in request.")

SIDES = {"so": "source_endpoint", "ta": "target_endpoint"}

#: Pre-check items per engine (names and groups from the API page's two examples).
_MYSQL_ITEMS = (
    ("dstDbDiskSize", "db_disk_size"), ("dbCharacterSetConsistency", "db_params"),
    ("dbParamConsistency", "db_params"), ("srcBinlogFormatCheck", "db_params"),
    ("srcDbBinlogIsOff", "db_params"), ("srcDbServerIdCheck", "db_params"),
    ("userSelectObjectsCheck", "db_params"), ("dstStatusCheck", "db_target_status"),
    ("dstDbPrivilegesIsEnough", "db_user_privilege"), ("srcDbPrivilegesIsEnough", "db_user_privilege"),
    ("dbVersionMeetRequirement", "db_version"), ("dstDbConnection", "network"), ("srcDbConnection", "network"),
)
_MONGODB_ITEMS = (
    ("dstDbDiskSize", "db_disk_size"), ("srcCollAlreadyExistedInDstColl", "db_object_conflict_check"),
    ("srcCollHasTtlIndex", "db_params"), ("dbParamConsistency", "db_params"),
    ("userSelectObjectsCheck", "db_params"), ("dstStatusCheck", "db_target_status"),
    ("dstDbPrivilegesIsEnough", "db_user_privilege"), ("srcDbPrivilegesIsEnough", "db_user_privilege"),
    ("dbVersionMeetRequirement", "db_version"), ("dstDbConnection", "network"), ("srcDbConnection", "network"),
    ("srcMongoInstanceType", "src_info_check"),
)
_REASONS = {
    "srcDbPrivilegesIsEnough": "The source database user lacks privileges: REPLICATION SLAVE, REPLICATION CLIENT.",
    "dstDbPrivilegesIsEnough": "The destination database user lacks privileges: CREATE, ALTER, INSERT.",
    "dstDbDiskSize": "The destination disk is too small: it needs 1.5 times the source data size.",
    "srcBinlogFormatCheck": "The source binlog_format is STATEMENT; it must be ROW.",
    "dbParamConsistency": "Some parameters differ between the source and destination databases.",
    "srcCollHasTtlIndex": "SRC_HAS_TTL_INDEXES",
    "dbCharacterSetConsistency": "The source and destination character sets differ.",
}


#: One item's result and its task's new launch record (None: the task is not changed).
Stepped = tuple[dict[str, Any], dict[str, Any] | None]
#: A launch call's treatment of one item: (item, its task in CONFIGURATION or why not, now in ms).
Step = Callable[[Mapping[str, Any], Task | tuple[str, str], int], Stepped]
#: A query's answer for one ID: (the ID, its live task or why there is none, now in ms) -> result.
Answer = Callable[[str, Task | tuple[str, str], int], dict[str, Any]]


def _failed(key: str, item_id: str | None, reason: tuple[str, str], **extra: Any) -> dict[str, Any]:
    return {key: item_id, **extra, "error_code": reason[0], "error_msg": reason[1]}


def _endpoint_hosts(item: Mapping[str, Any]) -> list[tuple[str, int | None]]:
    """The (host, port) pairs a TestEndPoint names: MongoDB lists ``host:port,host:port`` in ``ip``."""
    pairs: list[tuple[str, int | None]] = []
    for part in (p.strip() for p in str(item.get("ip", "")).split(",")):
        if not part:
            continue
        host, sep, port_text = part.rpartition(":")
        if sep and port_text.isdigit() and host and not host.endswith(":"):
            pairs.append((host.lower(), int(port_text)))
        else:
            port = item.get("db_port")
            pairs.append((part.lower(), port if isinstance(port, int) and port > 0 else None))
    return pairs


def password_digests(job: Mapping[str, Any]) -> dict[str, str]:
    """Digests of the passwords a batch-creation job carries, per side (``so``/``ta``)."""
    digests = {}
    for side, key in SIDES.items():
        endpoint = job.get(key)
        if isinstance(endpoint, Mapping) and isinstance(endpoint.get("db_password"), str):
            digests[side] = secret_digest(endpoint["db_password"])
    return digests


class LaunchService(Service):
    """The six launch calls over one Store (see the module docstring)."""

    def __init__(self, store: Store, plan: FaultPlan, max_jobs: int = wire_schema.DEFAULT_MAX_JOBS,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(store, plan, max_jobs, clock)
        wire_schema.warm_launch(max_jobs)  # as DrsService does: compiled before concurrent requests

    # -- body checks ----------------------------------------------------------------------------

    def _items(self, kind: str, raw: bytes) -> list[Any] | Reply:
        """The checked ``jobs`` list of a launch body, or the 400 the service answers instead.

        Any invalid item fails the whole request (as batch-creation does by default), with
        the first problem in ``error_msg`` and all of them in a simulator-only ``errors`` list.
        """
        try:
            body = parse_json(raw) if raw.strip() else None
        except BadBody:
            return error(400, wire_schema.CODE_UNPARSABLE, "Invalid request parameter: the body is not JSON.")
        check = wire_schema.check_launch(kind, body, self.max_jobs)
        if check.request_problem is not None:
            return error(400, check.request_problem.code, check.request_problem.message)
        if check.job_problems:
            problems = [p for index in sorted(check.job_problems) for p in check.job_problems[index]]
            first = problems[0]
            label = f" ({first.job_name})" if first.job_name else ""
            return error(400, first.code, f"Item jobs[{first.job_index}]{label}: {first.message}.",
                         errors=[p.as_dict() for p in problems])
        assert isinstance(body, dict)  # the schema check above refuses anything else
        items: list[Any] = body["jobs"]
        if kind == "connect":
            keys = [(i["id"], i["end_point_type"]) for i in items]
            what = "task IDs and end_point_type"
        elif kind in ("objects", "precheck", "start"):
            keys = [i["job_id"] for i in items]
            what = "job_id"
        else:
            keys = []
            what = ""
        if len(set(keys)) != len(keys):
            return error(400, DUPLICATES[0], DUPLICATES[1].format(what=what))
        return items

    @staticmethod
    def _task(found: Mapping[str, Task], task_id: str) -> Task | tuple[str, str]:
        """The live task among those fetched for a request, or the reason (code, message) it cannot be used."""
        task = found.get(task_id)
        if task is None:
            return NOT_FOUND
        if task.deleted:
            return TASK_GONE
        return task

    def _configurable(self, found: Mapping[str, Task], task_id: str, now: int) -> Task | tuple[str, str]:
        task = self._task(found, task_id)
        if isinstance(task, Task) and task.status(now) != "CONFIGURATION":
            return WRONG_STATUS
        return task

    def _each_task(self, kind: str, id_key: str, project_id: str, raw: bytes, step: Step) -> list[Any] | Reply:
        """What the four calls that change a task share: the checked items (or the 400 the
        service answers instead), then, in one transaction, each item with its task in
        CONFIGURATION (or the reason why not) handed to `step`, which returns the item's
        result and the task's new launch record (None: unchanged). A new record is seen by
        later items of the same request, and all of them are saved together."""
        items = self._items(kind, raw)
        if isinstance(items, Reply):
            return items
        results = []
        changed: dict[str, dict[str, Any]] = {}
        with self.store.transaction():
            now = self.now_ms()
            found = self.store.tasks_by_id(project_id, [i[id_key] for i in items])
            for item in items:
                task = self._configurable(found, item[id_key], now)
                result, launch = step(item, task, now)
                if launch is not None and isinstance(task, Task):
                    task.launch = launch
                    changed[task.id] = launch
                results.append(result)
            self.store.set_launches(changed)
        return results

    def _each_id(self, kind: str, project_id: str, raw: bytes, answer: Answer) -> list[Any] | Reply:
        """What the two read-only queries (pre-check results, progress) share: the checked IDs
        (or the 400 the service answers instead), their tasks fetched at once, and each ID with
        its live task (or the reason it has none, `_task`) handed to `answer` for its result.
        Unlike `_each_task` nothing is written, so no transaction and no CONFIGURATION check."""
        ids = self._items(kind, raw)
        if isinstance(ids, Reply):
            return ids
        now = self.now_ms()
        found = self.store.tasks_by_id(project_id, ids)
        return [answer(task_id, self._task(found, task_id), now) for task_id in ids]

    # -- batch-connection ----------------------------------------------------------------------

    def test_connections(self, project_id: str, raw: bytes) -> Reply:
        """POST /v3/{project_id}/jobs/batch-connection: one CheckJobResp per endpoint, in request order."""
        config = self.plan.config

        def step(item: Mapping[str, Any], task: Task | tuple[str, str], now: int) -> Stepped:
            if not isinstance(task, Task):
                return _failed("id", item["id"], task, status="failed", success=False), None
            reason = self._connection_problem(task, item, config)
            launch = dict(task.launch)
            launch.setdefault("conn", {})[item["end_point_type"]] = {
                "ok": reason is None, "at_ms": now, "error_code": reason[0] if reason else None}
            launch.pop("precheck", None)
            if reason is None:
                return {"id": task.id, "status": "success", "success": True}, launch
            return _failed("id", task.id, reason, status="failed", success=False), launch

        results = self._each_task("connect", "id", project_id, raw, step)
        if isinstance(results, Reply):
            return results
        return Reply(200, {"results": results, "count": len(results)})

    @staticmethod
    def _connection_problem(task: Task, item: Mapping[str, Any], config: FaultConfig) -> tuple[str, str] | None:
        side = item["end_point_type"]
        created = task.job.get(SIDES[side]) or {}
        # A client that mixes up the sides or the task's network is told so, as the service would.
        if item["net_type"] != task.job.get("net_type"):
            return ("DRS.M00202", f"The value of parameter net_type is invalid: the task uses "
                    f"{task.job.get('net_type')}.")
        if isinstance(created, Mapping) and created.get("db_type") not in (None, item["db_type"]):
            return ("DRS.M00202", f"The value of parameter db_type is invalid: the task's "
                    f"{'source' if side == 'so' else 'destination'} is {created.get('db_type')}.")
        for host, port in _endpoint_hosts(item):
            for entry in config.connection_fail:
                bad_host, bad_port = parse_host_port(entry)
                if (bad_host is None or bad_host == host) and (bad_port is None or bad_port == port):
                    where = f"{host}:{port}" if port else host
                    return ("DRS.M00300", f"Invalid request, the database at {where} cannot be reached: "
                            "connection timed out.")
        user = created.get("db_user") if isinstance(created, Mapping) else None
        if isinstance(user, str) and user != item["db_user"]:
            return BAD_CREDENTIALS
        digest = task.launch.get("pw", {}).get(side)
        if digest is not None and not secret_matches(item["db_password"], digest):
            return BAD_CREDENTIALS
        return None

    @staticmethod
    def _connected(task: Task) -> bool:
        conn = task.launch.get("conn", {})
        return all(conn.get(side, {}).get("ok") for side in SIDES)

    # -- batch-select-objects --------------------------------------------------------------------

    def select_objects(self, project_id: str, raw: bytes) -> Reply:
        """PUT /v3/{project_id}/jobs/batch-select-objects: 202 with DatabaseObjectResp items (boolean status)."""
        def step(item: Mapping[str, Any], task: Task | tuple[str, str], now: int) -> Stepped:
            if isinstance(task, Task) and task.job.get("db_use_type") == "cloudDataGuard":
                task = NO_OBJECTS_FOR_DR
            elif isinstance(task, Task) and not self._connected(task):
                task = NOT_CONNECTED
            if not isinstance(task, Task):
                return _failed("job_id", item["job_id"], task, status=False), None
            launch = dict(task.launch)
            launch["objects"] = {"selected": item.get("selected", False), "sync_database": item.get("sync_database"),
                                 "job": item.get("job") or [], "at_ms": now}
            launch.pop("precheck", None)
            return {"job_id": task.id, "status": True}, launch

        results = self._each_task("objects", "job_id", project_id, raw, step)
        if isinstance(results, Reply):
            return results
        return Reply(202, {"all_counts": len(results), "results": results})

    # -- batch-precheck and batch-precheck-result --------------------------------------------------

    def precheck(self, project_id: str, raw: bytes) -> Reply:
        """POST /v3/{project_id}/jobs/batch-precheck: starts a pre-check (precheck_id = task ID)."""
        config = self.plan.config

        def step(item: Mapping[str, Any], task: Task | tuple[str, str], now: int) -> Stepped:
            if isinstance(task, Task) and not self._connected(task):
                task = NOT_CONNECTED
            if not isinstance(task, Task):
                return _failed("id", item["job_id"], task, status="failed"), None
            launch = dict(task.launch)
            launch["precheck"] = self._new_precheck(task, item["precheck_mode"], config, now)
            return {"id": task.id, "precheck_id": task.id, "status": "success"}, launch

        results = self._each_task("precheck", "job_id", project_id, raw, step)
        if isinstance(results, Reply):
            return results
        return Reply(200, {"results": results, "count": len(results)})

    @staticmethod
    def _new_precheck(task: Task, mode: str, config: FaultConfig, now: int) -> dict[str, Any]:
        catalogue = _MONGODB_ITEMS if task.job.get("engine_type") == "mongodb" else _MYSQL_ITEMS
        groups = dict(catalogue)
        failing = config.precheck_items("precheck_fail", task.name)
        alarming = config.precheck_items("precheck_alarm", task.name)
        names = [name for name, _ in catalogue] + [n for n in failing + alarming if n not in groups]
        items = []
        for name in names:
            entry: dict[str, Any] = {"item": name, "result": "PASSED", "group": groups.get(name, "db_params")}
            if name in failing or name in alarming:
                entry["result"] = "FAILED" if name in failing else "ALARM"
                entry["failed_reason"] = _REASONS.get(name, f"Simulated {entry['result'].lower()} of {name}.")
            items.append(entry)
        passed = sum(1 for i in items if i["result"] != "FAILED")
        return {"precheck_id": task.id, "mode": mode, "at_ms": now,
                "done_ms": now + int(config.precheck_duration * 1000), "items": items,
                "result": passed == len(items), "passed_rate": f"{math.floor(100 * passed / len(items))}%"}

    def precheck_results(self, project_id: str, raw: bytes) -> Reply:
        """POST /v3/{project_id}/jobs/batch-precheck-result: one QueryPreCheckResp per ID, in request order."""

        def answer(task_id: str, task: Task | tuple[str, str], now: int) -> dict[str, Any]:
            if not isinstance(task, Task):
                return _failed("precheck_id", task_id, task)
            check = task.launch.get("precheck")
            if check is None:
                return _failed("precheck_id", task_id, NEVER_PRECHECKED)
            return self._precheck_view(task, check, now)

        results = self._each_id("precheck_result", project_id, raw, answer)
        if isinstance(results, Reply):
            return results
        return Reply(200, {"results": results, "count": len(results)})

    @staticmethod
    def _precheck_view(task: Task, check: Mapping[str, Any], now: int) -> dict[str, Any]:
        direction = task.job.get("job_direction")
        side = "source_endpoint" if direction == "down" else "target_endpoint"
        view: dict[str, Any] = {"precheck_id": check["precheck_id"], "job_direction": direction}
        instance = (task.job.get(side) or {}).get("inst_id")
        if instance:
            view["rds_instance_id"] = instance
        span = check["done_ms"] - check["at_ms"]
        if now < check["done_ms"] and span > 0:
            done = min(99, math.floor(100 * (now - check["at_ms"]) / span))
            view.update(process=f"{done}%", result=False, total_passed_rate="0%", precheck_result=[])
        else:
            view.update(process="100%", result=check["result"], total_passed_rate=check["passed_rate"],
                        precheck_result=check["items"])
        return view

    @staticmethod
    def _precheck_passed(task: Task, now: int) -> bool:
        check = task.launch.get("precheck")
        return bool(check and now >= check["done_ms"] and check["result"])

    # -- batch-starting ------------------------------------------------------------------------

    def start(self, project_id: str, raw: bytes) -> Reply:
        """POST /v3/{project_id}/jobs/batch-starting: 202 with StartJobResp items."""
        config = self.plan.config

        def step(item: Mapping[str, Any], task: Task | tuple[str, str], now: int) -> Stepped:
            if isinstance(task, Task) and not self._precheck_passed(task, now):
                task = NOT_PRECHECKED
            elif isinstance(task, Task) and config.names_task("start_refuse", task.name):
                task = START_REFUSED
            if not isinstance(task, Task):
                return _failed("id", item["job_id"], task, status="failed"), None
            launch = dict(task.launch)
            launch["start"] = self._new_start(task, item.get("start_time") or "", config, now)
            return {"id": task.id, "status": "success"}, launch

        results = self._each_task("start", "job_id", project_id, raw, step)
        if isinstance(results, Reply):
            return results
        return Reply(202, {"results": results, "count": len(results)})

    @staticmethod
    def _new_start(task: Task, start_time: str, config: FaultConfig, now: int) -> dict[str, Any]:
        scheduled = int(start_time) if start_time else None
        fate = "ok"
        if config.names_task("start_fail", task.name):
            fate = "start_failed"
        elif config.names_task("transfer_fail", task.name):
            fate = "transfer_failed"
        return {"at_ms": now, "start_time": scheduled,
                "begin_ms": max(now, scheduled) if scheduled is not None else now,
                "startjob_ms": int(config.start_delay * 1000), "full_ms": int(config.full_duration * 1000),
                "fate": fate, "incre_delay": config.incre_delay}

    # -- batch-progress --------------------------------------------------------------------------

    def progress(self, project_id: str, raw: bytes) -> Reply:
        """POST /v3/{project_id}/jobs/batch-progress: 202 with one QueryProgressResp per ID."""

        def answer(task_id: str, task: Task | tuple[str, str], now: int) -> dict[str, Any]:
            if not isinstance(task, Task):
                extra = {"transfer_status": "DELETED"} if task == TASK_GONE else {}
                return _failed("job_id", task_id, task, **extra)
            status = task.status(now)
            start = task.launch.get("start")
            at, phase = now, status
            if start is not None and task.release_ms is not None:  # a stopped task's progress stays put
                at = min(now, task.release_ms)
                phase = timeline.started_status(start, task.task_type, at)
            item: dict[str, Any] = {"job_id": task.id, "task_mode": task.task_type, "transfer_status": status,
                                    **timeline.progress(start, task.task_type, phase, at)}
            code, message = task.failure(now)
            if code:
                item.update(error_code=code, error_msg=message)
            return item

        results = self._each_id("progress", project_id, raw, answer)
        if isinstance(results, Reply):
            return results
        return Reply(202, {"count": len(results), "results": results})


def launch_view(task: Task) -> dict[str, Any]:
    """What the admin task view shows of a task's launch record (never the password digests)."""
    return {key: value for key, value in task.launch.items() if key != "pw"}
