"""Per-row results and how they map to the command's exit code (docs/decisions.md "Exit codes and their precedence")."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum, StrEnum


class Result(StrEnum):
    VALID = "VALID"
    INVALID = "INVALID"
    CREATED = "CREATED"
    ALREADY_CREATED = "ALREADY_CREATED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"
    NOT_SENT = "NOT_SENT"
    DRY_RUN = "DRY_RUN"
    DELETED = "DELETED"
    DELETE_FAILED = "DELETE_FAILED"


class ExitCode(IntEnum):
    """Every command's exit codes, stated once (docs/decisions.md "Exit codes and their precedence")."""

    OK = 0
    SOME_FAILED = 1
    UNUSABLE_INPUT = 2
    INCOMPLETE = 3


_INCOMPLETE = {Result.UNKNOWN, Result.NOT_SENT}
_FAILED = {Result.INVALID, Result.REJECTED, Result.DELETE_FAILED}


def exit_code_for(results: Iterable[Result | str]) -> int:
    """Precedence: 3 (some row unknown / not sent) > 1 (some row invalid / rejected) > 0.

    Exit code 2 (unusable input) never reaches here: it is raised before any row exists.
    """
    seen = {Result(r) for r in results}
    if seen & _INCOMPLETE:
        return ExitCode.INCOMPLETE
    if seen & _FAILED:
        return ExitCode.SOME_FAILED
    return ExitCode.OK


#: Columns appended to every results workbook, in this order (docs/decisions.md "Results workbooks");
#: readers recognise them so a results workbook can be fed back to validate/submit/status.
RESULT_COLUMNS: tuple[str, ...] = (
    "result",
    "task_id",
    "child_ids",
    "task_status",
    "error_code",
    "error_msg",
    "source_row",
    "submitted_at",
    "request_id",
    # prepare (docs/launch.md): connection tests and the pre-check, the go/no-go gate
    "connection",
    "precheck",
    "precheck_passed_rate",
    # start
    "start",
    "start_time",
    # status of started tasks (batch-progress)
    "progress",
    "transfer_status",
    "remaining_time",
    "incre_trans_delay",
)

#: What `submit` appends; `prepare`, `start` and `status` add the later ones of RESULT_COLUMNS.
SUBMIT_COLUMNS: tuple[str, ...] = RESULT_COLUMNS[:RESULT_COLUMNS.index("request_id") + 1]
