"""Where a started task is on its way, computed from timestamps (no timer thread).

A start is recorded once (``launch["start"]``) with everything that decides its future: when
it begins, how long each phase lasts, and whether it is meant to fail. Status and progress
are then pure functions of that record, the task mode and the clock, so a restarted
simulator, batch-status and batch-progress all agree.

Phases (docs/launch-api.md, "Task states"): WAITING_FOR_START until ``begin_ms`` (a scheduled
start), STARTJOBING for ``startjob_ms``, then FULL_TRANSFER_STARTED for ``full_ms`` with the
progress rising to 100, then FULL_TRANSFER_COMPLETE (FULL_TRANS) or INCRE_TRANSFER_STARTED
(FULL_INCR_TRANS). INCR_TRANS goes from STARTJOBING straight to INCRE_TRANSFER_STARTED.
Fates: ``start_failed`` ends in START_JOB_FAILED after STARTJOBING; ``transfer_failed`` fails
half-way through the full phase (INCR_TRANS: ``full_ms / 2`` into the incremental phase).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

START_FAILED_REASON = ("DRS.M01501", "Service error: the task failed to start.")
FULL_FAILED_REASON = ("DRS.M01501", "Service error: full migration failed.")
INCRE_FAILED_REASON = ("DRS.M01501", "Service error: incremental migration failed.")

FAILED_STATES = {
    "START_JOB_FAILED": START_FAILED_REASON,
    "FULL_TRANSFER_FAILED": FULL_FAILED_REASON,
    "INCRE_TRANSFER_FAILED": INCRE_FAILED_REASON,
}


def _phases(start: Mapping[str, Any], task_type: str) -> tuple[int, int, int, int | None]:
    """(begin, end of STARTJOBING, end of the full phase, failure time or None), all in ms."""
    begin = int(start["begin_ms"])
    running = begin + int(start["startjob_ms"])
    full = int(start["full_ms"])
    full_end = running if task_type == "INCR_TRANS" else running + full
    fail_at = None
    if start.get("fate") == "transfer_failed":
        fail_at = running + full // 2
    return begin, running, full_end, fail_at


def started_status(start: Mapping[str, Any], task_type: str, now_ms: int) -> str:
    """The status of a task whose start was accepted (see the module docstring)."""
    begin, running, full_end, fail_at = _phases(start, task_type)
    if now_ms < begin:
        return "WAITING_FOR_START"
    if now_ms < running:
        return "STARTJOBING"
    if start.get("fate") == "start_failed":
        return "START_JOB_FAILED"
    if fail_at is not None and now_ms >= fail_at:
        return "INCRE_TRANSFER_FAILED" if task_type == "INCR_TRANS" else "FULL_TRANSFER_FAILED"
    if now_ms < full_end:
        return "FULL_TRANSFER_STARTED"
    if task_type == "FULL_TRANS":
        return "FULL_TRANSFER_COMPLETE"
    return "INCRE_TRANSFER_STARTED"


def progress(start: Mapping[str, Any] | None, task_type: str, status: str, now_ms: int) -> dict[str, Any]:
    """The QueryProgressResp fields that depend on time: progress, remaining_time, delays, rates.

    Values are strings where the API page has strings (``progress`` "0".."100" without a %
    sign; ``incre_trans_delay`` "-1" before the incremental phase).
    """
    item: dict[str, Any] = {"progress": "0", "remaining_time": "0", "incre_trans_delay": "-1",
                            "incre_trans_delay_millis": "-1", "process_time": "0",
                            "apply_rows_rate": -1, "apply_bytes_rate": -1}
    if start is None or status in ("WAITING_FOR_START", "STARTJOBING", "START_JOB_FAILED"):
        return item
    _begin, running, full_end, _fail = _phases(start, task_type)
    item["process_time"] = str(min(now_ms, full_end) if status == "FULL_TRANSFER_STARTED" else now_ms)
    full = max(full_end - running, 0)
    if status in ("FULL_TRANSFER_STARTED", "FULL_TRANSFER_FAILED"):
        done = 100 if full == 0 else min(99, math.floor(100 * (now_ms - running) / full))
        item["progress"] = str(max(done, 0))
        if status == "FULL_TRANSFER_STARTED":
            item["remaining_time"] = str(math.ceil(max(full_end - now_ms, 0) / 1000))
        item["progress_map"] = {
            "struct": {"completed": "100%", "remaining_time": None},
            "data": {"completed": f"{item['progress']}%", "remaining_time": item["remaining_time"]},
            "index": {"completed": "0%", "remaining_time": None},
        }
        return item
    item["progress"] = "100"
    if task_type != "INCR_TRANS":
        item["progress_map"] = {part: {"completed": "100%", "remaining_time": None}
                                for part in ("struct", "data", "index")}
    if status in ("INCRE_TRANSFER_STARTED", "INCRE_TRANSFER_FAILED"):
        delay = int(start.get("incre_delay", 0))
        item.update(incre_trans_delay=str(delay), incre_trans_delay_millis=str(delay * 1000),
                    apply_rows_rate=120, apply_bytes_rate=48_000)
    return item
