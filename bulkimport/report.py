"""The sign-off report: what a campaign did, in a form someone can review, print and sign.

One typed `Summary` (also written as JSON, `Summary.to_dict`) feeds three renderings: a self-contained HTML page
(inline styles and an inline SVG chart, so it opens offline and prints on A4), the results
workbook's `Summary` sheet rows, and the JSON file itself. Because the Summary sheet carries
the campaign facts as key/value rows, `build_report` can rebuild everything from a results
workbook alone, long after the run that produced it.

Everything shown comes from the workbook or the server and is untrusted: every piece of
text is HTML-escaped, and only a fixed set of non-secret columns is ever read from a row.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bulkimport import fields as catalogue
from bulkimport.campaign import Campaign, file_sha256, now_iso
from bulkimport.errors import InputError
from bulkimport.outcomes import Result
from bulkimport.outputs import FILE, FOLDER, Output, check_outputs
from bulkimport.results_book import SheetRows
from bulkimport.terminal import plural

#: Launch columns (docs/launch.md) the report shows per task when a results workbook carries them.
LAUNCH_KEYS: tuple[str, ...] = ("connection", "precheck", "precheck_passed_rate", "start", "start_time",
                                "progress", "transfer_status", "remaining_time", "incre_trans_delay")
#: Launch columns that are counted (the go/no-go figures), in the order they happen.
LAUNCH_COUNTED: tuple[str, ...] = ("connection", "precheck", "start")

#: The only row columns the report reads; none of them can hold a secret.
ROW_KEYS: tuple[str, ...] = (
    "source_row",
    "name",
    "db_use_type",
    "engine_type",
    "result",
    "task_id",
    "task_status",
    "error_code",
    "error_msg",
    "request_id",
    # the launch (prepare, start, status of started tasks): shown when a workbook has them
    *LAUNCH_KEYS,
)

#: Results whose row has (or had) a task that this tool created.
CREATED_RESULTS: frozenset[str] = frozenset(
    {Result.CREATED, Result.ALREADY_CREATED, Result.DELETED, Result.DELETE_FAILED}
)

HEALTHY = "healthy"
FAILED = "failed"
PENDING = "pending"
#: Deleted, or released (being released): the task no longer serves the campaign.
GONE = "gone"
GONE_STATUSES = frozenset({"DELETED", "RELEASE_RESOURCE_STARTED", "RELEASE_RESOURCE_COMPLETE",
                           "RELEASE_CHILD_TRANSFER_STARTED", "RELEASE_CHILD_TRANSFER_COMPLETE"})

#: What a report is about: a campaign (submit, status, prepare, start) or its rollback.
KIND_CAMPAIGN = "campaign"
KIND_ROLLBACK = "rollback"

#: Rehearsals: nothing real happened, and the report must never pass for a campaign.
DRY_RUN = "dry_run"
SIMULATED = "simulated"
#: The ledger's (and the Summary sheet's) name for the in-process simulator.
_SIMULATOR_ENDPOINT = "http://simulator.localhost"
REHEARSAL_TITLES: dict[str, str] = {
    DRY_RUN: "DRY RUN \u2014 nothing was sent",
    SIMULATED: "REHEARSAL \u2014 nothing was created",
}
REHEARSAL_NOTES: dict[str, str] = {
    DRY_RUN: "This comes from `submit --dry-run`: no request reached the service and no task exists. "
             "It cannot be signed.",
    SIMULATED: "This comes from a run on the local simulator (--simulate): no task was created in any cloud. "
               "It cannot be signed.",
}

#: Task statuses in lifecycle order, so counts read top to bottom like a task's life.
STATUS_ORDER: tuple[str, ...] = (
    "CREATING", "CREATE_FAILED", "CONFIGURATION", "STARTJOBING", "WAITING_FOR_START", "START_JOB_FAILED",
    "PAUSING", "FULL_TRANSFER_STARTED", "FULL_TRANSFER_FAILED", "FULL_TRANSFER_COMPLETE",
    "INCRE_TRANSFER_STARTED", "INCRE_TRANSFER_FAILED", "RELEASE_RESOURCE_STARTED", "RELEASE_RESOURCE_FAILED",
    "RELEASE_RESOURCE_COMPLETE", "CHANGE_JOB_STARTED", "CHANGE_JOB_FAILED", "CHILD_TRANSFER_STARTING",
    "CHILD_TRANSFER_STARTED", "CHILD_TRANSFER_COMPLETE", "CHILD_TRANSFER_FAILED",
    "RELEASE_CHILD_TRANSFER_STARTED", "RELEASE_CHILD_TRANSFER_COMPLETE", "DELETED",
)

#: Why a row that has no server error was not created, in words an approver understands.
_DEFAULT_REASONS: dict[str, str] = {
    Result.INVALID: "Invalid row: see the Findings sheet of the results workbook.",
    Result.NOT_SENT: "Not sent: the run stopped before this row was sent.",
    Result.UNKNOWN: "Outcome unknown: run submit again to reconcile with the server.",
    Result.DRY_RUN: "Dry run: nothing was sent.",
    Result.VALID: "Valid; not sent (validation only).",
    Result.REJECTED: "Rejected by the server.",
}


#: Results in the order an approver reads them: successes, failures, then rows never sent.
RESULT_ORDER: tuple[str, ...] = (
    Result.CREATED, Result.ALREADY_CREATED, Result.DELETED, Result.DELETE_FAILED, Result.REJECTED,
    Result.INVALID, Result.UNKNOWN, Result.NOT_SENT, Result.DRY_RUN, Result.VALID,
)

_RESULT_COLOURS: dict[str, str] = {
    Result.CREATED: "#2e7d32",
    Result.ALREADY_CREATED: "#00897b",
    Result.VALID: "#1565c0",
    Result.DRY_RUN: "#1e88e5",
    Result.REJECTED: "#c62828",
    Result.INVALID: "#ef6c00",
    Result.UNKNOWN: "#6a1b9a",
    Result.NOT_SENT: "#757575",
    Result.DELETED: "#455a64",
    Result.DELETE_FAILED: "#b71c1c",
}
_HEALTH_COLOURS = {HEALTHY: "#2e7d32", FAILED: "#c62828", PENDING: "#f9a825", GONE: "#455a64"}


def task_health(status: str | None) -> str | None:
    """Classify a DRS task status the way docs/decisions.md does for `status`'s exit code.

    CREATING is still pending; any `*_FAILED` is a failure; DELETED and the release states
    are gone (not healthy: the task no longer serves the campaign); CONFIGURATION and every
    later state that is not a failure is healthy. Blank (no task) has no health.
    """
    if not status:
        return None
    status = status.strip().upper()
    if status == "CREATING":
        return PENDING
    if status in GONE_STATUSES:
        return GONE
    if status.endswith("_FAILED"):
        return FAILED
    return HEALTHY


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    json: Path


def _text(value: object) -> str | None:
    """Cell value -> trimmed text; integral floats (calamine's numbers) lose their `.0`."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _row_number(value: object) -> int | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return int(float(text))
    except ValueError:
        return None


def normalise_row(row: Mapping[str, object]) -> dict[str, Any]:
    """Keep only the report's columns, as JSON-safe values (so no secret column can leak in)."""
    out: dict[str, Any] = {key: _text(row.get(key)) for key in ROW_KEYS}
    out["source_row"] = _row_number(row.get("source_row"))
    if out["result"]:
        out["result"] = out["result"].upper()
    if out["task_status"]:
        out["task_status"] = out["task_status"].upper()
    return out


def _status_sort_key(status: str) -> tuple[int, str]:
    try:
        return STATUS_ORDER.index(status), status
    except ValueError:
        return len(STATUS_ORDER), status


def _result_sort_key(result: str) -> tuple[int, str]:
    if result in RESULT_ORDER:
        return RESULT_ORDER.index(result), result
    return len(RESULT_ORDER), result


def _ordered(counter: Counter[str], key: Any) -> dict[str, int]:
    return {name: counter[name] for name in sorted(counter, key=key)}


def _reason(row: Mapping[str, Any]) -> str:
    """The row's reason in words: the message (codes have their own column), else a default."""
    message = row.get("error_msg")
    if message:
        return str(message)
    return _DEFAULT_REASONS.get(row.get("result") or "", "Not created.")


INVALID_VALUE = "(invalid value)"


def _breakdown(rows: list[dict[str, Any]], key: str) -> dict[str, Breakdown]:
    """Per value of `key` (scenario, engine): rows, tasks created and rows not created.

    A value the catalogue does not allow is not a scenario or an engine: such rows are
    counted together under "(invalid value)", so a typo never shows up as a category.
    """
    allowed = {v.casefold(): v for v in catalogue.FIELDS[key].allowed}
    groups: dict[str, dict[str, int]] = {}
    for row in rows:
        value = row.get(key)
        name = allowed.get(str(value).casefold(), INVALID_VALUE) if value else "(blank)"
        group = groups.setdefault(name, {"rows": 0, "created": 0, "not_created": 0})
        group["rows"] += 1
        group["created" if row.get("result") in CREATED_RESULTS else "not_created"] += 1
    return {name: Breakdown(**groups[name]) for name in sorted(groups)}


def rehearsal_of(campaign: Campaign) -> str | None:
    """DRY_RUN, SIMULATED, or None for a real campaign (from the facts alone, so a report
    rebuilt from the workbook knows it too)."""
    if str(campaign.dry_run or "").strip().lower() == "true":
        return DRY_RUN
    endpoint = str(campaign.endpoint or "").strip().lower().rstrip("/")
    if endpoint == _SIMULATOR_ENDPOINT:
        return SIMULATED
    return None


def kind_of(campaign: Campaign) -> str:
    """A rollback report reads as a rollback; everything else is about the campaign."""
    steps = [p.strip() for p in str(campaign.command or "").split(",") if p.strip()]
    last = str(campaign.step or "") or (steps[-1] if steps else "")
    return KIND_ROLLBACK if last == "rollback" else KIND_CAMPAIGN


# ------------------------------------------------------------------------------ the summary
#
# The summary is a tree of frozen dataclasses rather than a dict, so every rendering
# (HTML, Summary sheet, JSON) and every caller reads named, typed attributes: a misspelt key
# is a type error instead of a silent None. `Summary.to_dict` gives the JSON report's layout.


@dataclass(frozen=True)
class Breakdown:
    """Rows of one scenario or engine: how many, how many have a task, how many do not."""

    rows: int = 0
    created: int = 0
    not_created: int = 0


@dataclass(frozen=True)
class Counts:
    """Every number of the report. `launch` holds the launch counts that some row has
    (`connection`, `precheck`, `start` -> value -> n); the JSON names them `by_<key>`."""

    rows: int
    created: int
    not_created: int
    failed_after_creation: int
    by_result: dict[str, int]
    by_task_status: dict[str, int]
    by_health: dict[str, int]
    by_scenario: dict[str, Breakdown]
    by_engine: dict[str, Breakdown]
    launch: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rows": self.rows, "created": self.created, "not_created": self.not_created,
            "failed_after_creation": self.failed_after_creation, "by_result": dict(self.by_result),
            "by_task_status": dict(self.by_task_status), "by_health": dict(self.by_health),
            "by_scenario": {k: asdict(v) for k, v in self.by_scenario.items()},
            "by_engine": {k: asdict(v) for k, v in self.by_engine.items()},
        }
        out.update({f"by_{key}": dict(n) for key, n in self.launch.items()})
        return out


@dataclass(frozen=True)
class TaskRow:
    """A row that has (or had) a task this tool created."""

    source_row: int | None
    name: str | None
    task_id: str | None
    task_status: str | None
    result: str | None
    db_use_type: str | None
    engine_type: str | None
    request_id: str | None
    error_code: str | None
    error_msg: str | None
    health: str | None


@dataclass(frozen=True)
class NotCreatedRow:
    """A row without a task, with its reason in words (`reason`) beside the code."""

    source_row: int | None
    name: str | None
    result: str | None
    error_code: str | None
    error_msg: str | None
    db_use_type: str | None
    engine_type: str | None
    request_id: str | None
    reason: str


@dataclass(frozen=True)
class LaunchRow:
    """A created task's launch columns (connection test ... replication delay) and its note."""

    source_row: int | None
    name: str | None
    connection: str | None
    precheck: str | None
    precheck_passed_rate: str | None
    start: str | None
    start_time: str | None
    progress: str | None
    transfer_status: str | None
    remaining_time: str | None
    incre_trans_delay: str | None
    note: str | None

    def get(self, key: str) -> str | None:
        """The launch column `key` (one of LAUNCH_KEYS, or "note")."""
        value: str | None = getattr(self, key)
        return value


@dataclass(frozen=True)
class ResultsWorkbook:
    """The results workbook a report goes with, so a signed printout names the very file."""

    file: str
    sha256: str


@dataclass(frozen=True)
class Summary:
    """The content of a sign-off report: what every rendering shows, and the JSON report."""

    report_version: int
    generated_at: str
    #: KIND_CAMPAIGN or KIND_ROLLBACK.
    kind: str
    #: DRY_RUN, SIMULATED, or None for a real campaign.
    rehearsal: str | None
    campaign: Campaign
    counts: Counts
    launch: tuple[LaunchRow, ...]
    tasks: tuple[TaskRow, ...]
    not_created: tuple[NotCreatedRow, ...]
    outcome: str = ""
    #: What moved since the tasks were created, one line each ("row 5: ...").
    drift: tuple[str, ...] = ()
    results_workbook: ResultsWorkbook | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (`<stem>-report.json`): `drift` and `results_workbook` only when known."""
        out: dict[str, Any] = {
            "report_version": self.report_version,
            "generated_at": self.generated_at,
            "kind": self.kind,
            "rehearsal": self.rehearsal,
            "campaign": asdict(self.campaign),
            "counts": self.counts.to_dict(),
            "launch": [asdict(r) for r in self.launch],
            "tasks": [asdict(t) for t in self.tasks],
            "not_created": [asdict(r) for r in self.not_created],
            "outcome": self.outcome,
        }
        if self.drift:
            out["drift"] = list(self.drift)
        if self.results_workbook is not None:
            out["results_workbook"] = asdict(self.results_workbook)
        return out


def outcome_line(summary: Summary) -> str:
    """The one line at the top of every report: what happened to the rows."""
    counts = summary.counts
    rows = counts.rows
    by_result = counts.by_result
    head = plural(rows, "row")
    if summary.kind == KIND_ROLLBACK:
        deleted, failed = by_result.get(Result.DELETED, 0), by_result.get(Result.DELETE_FAILED, 0)
        untouched = rows - deleted - failed
        parts = [f"{plural(deleted, 'task')} deleted", f"{failed} failed to delete", f"{untouched} not touched"]
        return f"{head}: {', '.join(parts)}"
    if summary.rehearsal == DRY_RUN:
        would = by_result.get(Result.DRY_RUN, 0)
        parts = [f"{would} would be sent"]
        if by_result.get(Result.ALREADY_CREATED):
            parts.append(f"{by_result[Result.ALREADY_CREATED]} already created")
        parts.append(f"{counts.not_created - would} not sendable")
        return f"{head}: {', '.join(parts)}; nothing was sent"
    failed = counts.failed_after_creation
    pending = counts.by_health.get(PENDING, 0)
    created = f"{counts.created - failed} created"
    if pending:
        created += f" ({pending} still creating)"
    parts = [created]
    if failed:
        parts.append(f"{failed} failed after creation")
    parts.append(f"{counts.not_created} not created")
    line = f"{head}: {', '.join(parts)}"
    if summary.rehearsal == SIMULATED:
        line += " (on the simulator)"
    return line


def _task_row(r: Mapping[str, Any]) -> TaskRow:
    return TaskRow(source_row=r["source_row"], name=r["name"], task_id=r["task_id"], task_status=r["task_status"],
                   result=r["result"], db_use_type=r["db_use_type"], engine_type=r["engine_type"],
                   request_id=r["request_id"], error_code=r["error_code"], error_msg=r["error_msg"],
                   health=task_health(r["task_status"]))


def _not_created_row(r: Mapping[str, Any]) -> NotCreatedRow:
    return NotCreatedRow(source_row=r["source_row"], name=r["name"], result=r["result"], error_code=r["error_code"],
                         error_msg=r["error_msg"], db_use_type=r["db_use_type"], engine_type=r["engine_type"],
                         request_id=r["request_id"], reason=_reason(r))


def _launch_row(r: Mapping[str, Any]) -> LaunchRow:
    return LaunchRow(source_row=r["source_row"], name=r["name"], **{k: r[k] for k in LAUNCH_KEYS},
                     note=r["error_msg"])


def summarise(campaign: Campaign, rows: Iterable[Mapping[str, object]], *,
              drift: Iterable[str] = ()) -> Summary:
    """Count and list a campaign's rows: the content of the JSON report and of every rendering.

    Rows are ordered by `source_row` (the operator's own Excel row) so the approver can put
    the report next to the workbook they filled in. `drift` lines (what moved since the
    tasks were created) get their own section.
    """
    clean = [normalise_row(r) for r in rows]
    clean.sort(key=lambda r: (r["source_row"] is None, r["source_row"] or 0))
    by_result = Counter(r["result"] or "(blank)" for r in clean)
    by_status = Counter(r["task_status"] for r in clean if r["task_status"])
    by_health = Counter(task_health(r["task_status"]) for r in clean if r["task_status"])
    created = [r for r in clean if r["result"] in CREATED_RESULTS]
    not_created = [r for r in clean if r["result"] not in CREATED_RESULTS]
    facts = replace(campaign)  # a copy: the summary must not change when the caller's campaign does
    failed_after = sum(1 for r in created if task_health(r["task_status"]) == FAILED
                       and r["result"] in (Result.CREATED, Result.ALREADY_CREATED))
    counts = Counts(
        rows=len(clean),
        created=len(created),
        not_created=len(not_created),
        failed_after_creation=failed_after,
        by_result=_ordered(by_result, _result_sort_key),
        by_task_status=_ordered(by_status, _status_sort_key),
        by_health={h: by_health[h] for h in (HEALTHY, PENDING, FAILED, GONE) if by_health[h]},
        by_scenario=_breakdown(clean, "db_use_type"),
        by_engine=_breakdown(clean, "engine_type"),
        launch={key: dict(sorted(Counter(r[key] for r in clean if r[key]).items()))
                for key in LAUNCH_COUNTED if any(r[key] for r in clean)},
    )
    summary = Summary(
        report_version=2,
        generated_at=now_iso(),
        kind=kind_of(facts),
        rehearsal=rehearsal_of(facts),
        campaign=facts,
        counts=counts,
        launch=tuple(_launch_row(r) for r in created if any(r[k] for k in LAUNCH_KEYS)),
        tasks=tuple(_task_row(r) for r in created),
        not_created=tuple(_not_created_row(r) for r in not_created),
        drift=tuple(drift),
    )
    return replace(summary, outcome=outcome_line(summary))


_FACT_LABELS: dict[str, str] = {
    "command": "Commands that wrote this workbook",
    "input_file": "Input file",
    "input_sha256": "Input SHA-256",
    "template_version": "Template version",
    "tool_version": "Tool version",
    "endpoint": "Endpoint",
    "region": "Region",
    "project_id": "Project ID",
    "operator": "Operator (OS login)",
    "cloud_user": "Cloud identity",
    "started_at": "Started",
    "finished_at": "Finished",
    "batch_size": "Batch size",
    "concurrency": "Concurrency",
    "dry_run": "Dry run",
    "language": "Language",
    "campaign_id": "Campaign ID",
    "ledger": "Ledger",
    "step": "Last command",
    "step_at": "Last command at",
    "step_by": "Last command by",
}
#: Count groups of the Summary sheet: (title, key prefix, where in `counts`).
_COUNT_GROUPS: tuple[tuple[str, str, str], ...] = (
    ("Rows by result", "result", "by_result"),
    ("Tasks by status", "task_status", "by_task_status"),
    ("Tasks by health", "health", "by_health"),
    ("Tasks by connection test", "connection", "by_connection"),
    ("Tasks by pre-check", "precheck", "by_precheck"),
    ("Tasks by start", "start", "by_start"),
)
_BREAKDOWN_GROUPS: tuple[tuple[str, str, str], ...] = (
    ("Rows by scenario", "db_use_type", "by_scenario"),
    ("Rows by engine", "engine_type", "by_engine"),
)


def report_title(summary: Summary) -> str:
    """The report's title: a rehearsal says so first, a rollback reads as a rollback."""
    base = "rollback report" if summary.kind == KIND_ROLLBACK else "sign-off report"
    rehearsal = summary.rehearsal
    if rehearsal:
        return f"{REHEARSAL_TITLES[rehearsal]} \u2014 DRS bulk import {base}"
    return f"DRS bulk import \u2014 {base}"


def summary_sheet_rows(summary: Summary) -> SheetRows:
    """The results workbook's `Summary` sheet, readable as opened and readable back.

    A title (and, for a rehearsal, its banner) and the outcome line come first; then the
    campaign facts as `key | value | label` rows (what `Campaign.from_rows` reads back:
    rows of one cell are headings it skips); then the counts as `group.value | n` rows
    (e.g. `result.CREATED`, 12), which never collide with a fact key. A rehearsal's sheet
    is the one the workbook opens on, so its banner is the first thing seen.
    """
    rehearsal = summary.rehearsal
    sheet = SheetRows(widths=(30, 70, 34), active=bool(rehearsal), tab_color="#C62828" if rehearsal else None,
                      banner=REHEARSAL_TITLES[rehearsal] if rehearsal else None)
    sheet.add([report_title(summary)], "title")
    if rehearsal:
        sheet.add([REHEARSAL_TITLES[rehearsal]], "banner")
        sheet.add([REHEARSAL_NOTES[rehearsal]], "note")
    sheet.add([summary.outcome or outcome_line(summary)], "outcome")
    sheet.add([], None)
    sheet.add(["Campaign facts"], "section")
    sheet.add(["key", "value", "meaning"], "head")
    for key, value in summary.campaign.rows():
        sheet.add([key, value, _FACT_LABELS.get(key, "")], "fact")
    counts = summary.counts.to_dict()
    sheet.add([], None)
    sheet.add(["Counts"], "section")
    sheet.add(["count", "rows"], "head")
    for key, label in (("rows", "rows"), ("created", "created"), ("not_created", "not_created")):
        sheet.add([label, counts[key]], "count")
    for title, group, key in _COUNT_GROUPS:
        if counts.get(key):
            sheet.add([title], "subsection")
            for name, n in counts[key].items():
                sheet.add([f"{group}.{name}", n], "count")
    for title, group, key in _BREAKDOWN_GROUPS:
        if counts.get(key):
            sheet.add([title], "subsection")
            for name, n in counts[key].items():
                sheet.add([f"{group}.{name}", n["rows"]], "count")
    return sheet


# --------------------------------------------------------------------------------- HTML

_CSS = """
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; font-size: 10.5pt;
       color: #212121; margin: 0 auto; padding: 10mm 12mm; max-width: 210mm; background: #fff; }
h1 { font-size: 18pt; margin: 0 0 2mm 0; }
h2 { font-size: 12.5pt; margin: 7mm 0 2mm 0; padding-bottom: 1mm; border-bottom: 1.5pt solid #1565c0;
     color: #0d47a1; break-after: avoid; page-break-after: avoid; }
h2.bad { color: #b71c1c; border-bottom-color: #c62828; }
.sub { color: #616161; margin: 0 0 3mm 0; }
.outcome { font-size: 12pt; font-weight: 600; margin: 2mm 0 3mm 0; padding: 2mm 3mm; background: #eceff1;
           border-left: 2mm solid #1565c0; }
.outcome.bad { border-left-color: #c62828; }
.banner { border: 1.2mm solid #c62828; color: #b71c1c; background: repeating-linear-gradient(45deg, #fff,
          #fff 4mm, #ffebee 4mm, #ffebee 8mm); padding: 3mm 4mm; margin: 0 0 4mm 0; }
.banner .big { font-size: 20pt; font-weight: 800; letter-spacing: 0.5pt; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 3mm 0; }
th, td { border: 0.6pt solid #bdbdbd; padding: 0.9mm 1.6mm; font-size: 9.5pt; text-align: left; vertical-align: top; }
th { background: #eceff1; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; width: 1%; white-space: nowrap; }
td.name { min-width: 36mm; overflow-wrap: anywhere; }
td.mono { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 9pt; word-break: break-all; }
table.facts th { width: 19%; }
table.facts td { width: 31%; }
td.mono.id { font-size: 7pt; word-break: normal; overflow-wrap: normal; white-space: nowrap; }
td.msg { overflow-wrap: anywhere; }
td.mono.code { white-space: nowrap; word-break: normal; font-size: 8pt; }
.tiles { display: flex; gap: 3mm; margin: 3mm 0; }
.tile { flex: 1; border: 0.8pt solid #bdbdbd; border-radius: 2mm; padding: 2.5mm 3mm; }
.tile .n { font-size: 17pt; font-weight: 700; }
.tile .l { color: #616161; font-size: 9pt; }
.tile.bad { border: 1.2pt solid #c62828; background: #ffebee; }
.tile.bad .n, .tile.bad .l { color: #b71c1c; }
.tile.warn { border: 1.2pt solid #f9a825; background: #fff8e1; }
.tile.warn .n { color: #8d6e00; }
.tile.good .n { color: #2e7d32; }
.cols { display: flex; gap: 6mm; align-items: flex-start; }
.cols > div { flex: 1; }
.badge { display: inline-block; padding: 0 1.6mm; border-radius: 1.2mm; color: #fff; font-size: 8.5pt; }
.empty { color: #757575; font-style: italic; }
.signoff { break-inside: avoid; page-break-inside: avoid; }
.signoff td { height: 14mm; }
.signoff th.role { width: 16%; }
.signoff td.sig { width: 28%; }
.signoff td.decision { width: 22%; font-size: 9pt; white-space: nowrap; }
.comments { margin-top: 2mm; }
.comments .line { border-bottom: 0.6pt solid #9e9e9e; height: 8mm; }
.nosign { border: 1mm solid #c62828; color: #b71c1c; font-weight: 700; font-size: 12pt; padding: 4mm;
          text-align: center; }
footer { margin-top: 6mm; color: #757575; font-size: 8.5pt; }
@media print {
  body { padding: 0; max-width: none; }
  thead { display: table-header-group; }
  tr, .tile, svg { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  .banner { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .tile.bad, .tile.warn, .badge, .outcome { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def css_string(text: str) -> str:
    """A CSS string literal that cannot end the string or the <style> element: every
    character but letters, digits and a few plain marks is written as a CSS escape."""
    out = []
    for ch in text:
        if ch.isascii() and (ch.isalnum() or ch in " .,:_-()"):
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):x} ")
    return '"' + "".join(out) + '"'


def _page_css(summary: Summary) -> str:
    """The printed page: A4, a running header (campaign, input SHA-256) and page numbers."""
    campaign = summary.campaign
    name = Path(str(campaign.input_file or "campaign")).name
    if summary.rehearsal:
        name = f"{REHEARSAL_TITLES[summary.rehearsal]} \u2014 {name}"
    digest = str(campaign.input_sha256 or "")
    return (
        "@page { size: A4; margin: 16mm 12mm 16mm 12mm;\n"
        f"  @top-left {{ content: {css_string(name)}; font-size: 8pt; color: #616161; }}\n"
        f"  @top-right {{ content: {css_string('input SHA-256 ' + digest if digest else '')}; font-size: 6.5pt; "
        "color: #616161; font-family: monospace; }\n"
        '  @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 8pt; color: #616161; }\n'
        f"  @bottom-left {{ content: {css_string(report_title(summary))}; font-size: 8pt; color: #616161; }}\n"
        "}\n"
    )


def _bar_chart(title: str, counts: Mapping[str, int], colours: Mapping[str, str]) -> str:
    """An inline SVG horizontal bar chart (no scripts, no fonts to fetch)."""
    if not counts:
        return f'<p class="empty">{_e(title)}: nothing to chart.</p>'
    width, label_w, bar_h, gap, top = 330, 150, 16, 6, 20
    bar_w = width - label_w - 40
    most = max(counts.values()) or 1
    height = top + len(counts) * (bar_h + gap)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="10">',
        f"<title>{_e(title)}</title>",
        f'<text x="0" y="12" font-weight="bold">{_e(title)}</text>',
    ]
    for i, (name, n) in enumerate(counts.items()):
        y = top + i * (bar_h + gap)
        length = max(1.0, bar_w * n / most) if n else 0
        colour = colours.get(name, "#1565c0")
        parts.append(f'<text x="{label_w - 4}" y="{y + 12}" text-anchor="end">{_e(name)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="{bar_h}" fill="{_e(colour)}"/>')
        parts.append(f'<text x="{label_w + length + 4:.1f}" y="{y + 12}">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _status_colours(statuses: Iterable[str]) -> dict[str, str]:
    return {s: _HEALTH_COLOURS.get(task_health(s) or "", "#1565c0") for s in statuses}


def _badge(result: str | None) -> str:
    if not result:
        return ""
    colour = _RESULT_COLOURS.get(result, "#616161")
    return f'<span class="badge" style="background:{colour}">{_e(result)}</span>'


def _status_badge(status: str | None) -> str:
    if not status:
        return ""
    colour = _HEALTH_COLOURS.get(task_health(status) or "", "#616161")
    return f'<span class="badge" style="background:{colour}">{_e(status)}</span>'


def _count_table(title: str, counts: Mapping[str, int], kind: str) -> str:
    if not counts:
        return f'<p class="empty">No {_e(title.lower())}.</p>'
    body = "".join(
        f'<tr><td>{_e(name)}</td><td class="num" data-kind="{kind}" data-key="{_e(name)}">{n}</td></tr>'
        for name, n in counts.items()
    )
    return f'<table><thead><tr><th>{_e(title)}</th><th class="num">Rows</th></tr></thead><tbody>{body}</tbody></table>'


def _breakdown_table(title: str, groups: Mapping[str, Breakdown], kind: str) -> str:
    body = "".join(
        f"<tr><td>{_e(name)}</td>"
        f'<td class="num" data-kind="{kind}" data-key="{_e(name)}">{g.rows}</td>'
        f'<td class="num">{g.created}</td><td class="num">{g.not_created}</td></tr>'
        for name, g in groups.items()
    )
    return (
        f'<table><thead><tr><th>{_e(title)}</th><th class="num">Rows</th><th class="num">Created</th>'
        f'<th class="num">Not created</th></tr></thead><tbody>{body}</tbody></table>'
    )


def readable_time(value: object) -> str:
    """ISO 8601 -> `2026-11-20 09:04:10 UTC` (the offset kept when it is not UTC)."""
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None and moment.utcoffset() == timedelta(0):
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return moment.strftime("%Y-%m-%d %H:%M:%S %z").strip()


def duration_text(start: object, end: object) -> str:
    """`4 min 10 s` between two ISO times, or "" when either is missing or unreadable."""
    try:
        seconds = int((datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))).total_seconds())
    except (TypeError, ValueError):
        return ""
    if seconds < 0:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


_TIME_FACTS = frozenset({"started_at", "finished_at", "step_at"})
#: Facts left out of the table when they are blank (a submit has no follow-up step).
_OPTIONAL_FACTS = frozenset({"step", "step_at", "step_by", "cloud_user", "campaign_id", "ledger"})
_WIDE_FACTS = frozenset({"input_file", "input_sha256", "endpoint", "results_file", "results_sha256", "command",
                         "ledger", "campaign_id"})


def display_facts(summary: Summary) -> list[tuple[str, str, str]]:
    """(key, label, shown value) of the facts table: times readable, the duration added, and
    the results workbook's name and SHA-256 when the report knows them. Unknown keys (from a
    newer tool) are shown as they are."""
    campaign = asdict(summary.campaign)
    out: list[tuple[str, str, str]] = []
    for key, value in campaign.items():
        shown = readable_time(value) if key in _TIME_FACTS else ("" if value is None else str(value))
        if not shown and key in _OPTIONAL_FACTS:
            continue
        out.append((key, _FACT_LABELS.get(key, key), shown))
        if key == "finished_at":
            out.append(("duration", "Duration", duration_text(campaign.get("started_at"), value)))
    results = summary.results_workbook
    if results is not None:
        out.append(("results_file", "Results workbook", results.file))
        out.append(("results_sha256", "Results workbook SHA-256", results.sha256))
    return out


def _fact_cells(key: str, label: str, value: str, span: int = 1) -> str:
    text = _e(value) if value else "&ndash;"
    cls = ' class="mono"' if key.endswith("sha256") else ""
    colspan = f' colspan="{span}"' if span > 1 else ""
    return f'<th>{_e(label)}</th><td{cls}{colspan} data-fact="{_e(key)}">{text}</td>'


def _facts_table(summary: Summary) -> str:
    """Facts two to a line, long ones (hash, endpoint, file) on a line of their own, to save paper."""
    lines: list[str] = []
    pending: list[str] = []
    for key, label, value in display_facts(summary):
        if key in _WIDE_FACTS or len(value) > 40:
            lines.append(f"<tr>{_fact_cells(key, label, value, span=3)}</tr>")
            continue
        pending.append(_fact_cells(key, label, value))
        if len(pending) == 2:
            lines.append(f"<tr>{''.join(pending)}</tr>")
            pending = []
    if pending:
        lines.append(f"<tr>{pending[0]}<th></th><td></td></tr>")
    return f'<table class="facts"><tbody>{"".join(lines)}</tbody></table>'


def _tasks_table(tasks: Sequence[TaskRow], table_id: str, empty: str, *, with_error: bool = False) -> str:
    """Tasks with their ID and status; `with_error` adds the service's code and message."""
    if not tasks:
        return f'<p class="empty">{_e(empty)}</p>'
    rows = []
    for t in tasks:
        cells = (f'<tr><td class="num">{_e(t.source_row)}</td><td class="name">{_e(t.name)}</td>'
                 f'<td class="mono id">{_e(t.task_id)}</td><td>{_status_badge(t.task_status)}</td>')
        if not with_error:
            cells += f'<td>{_badge(t.result)}</td>'
        else:
            cells += (f'<td class="mono code">{_e(t.error_code)}</td>'
                      f'<td class="msg">{_e(t.error_msg)}</td>')
        rows.append(cells + "</tr>")
    head = ('<th class="num">Row</th><th>Name</th><th>Task ID</th><th>Status</th>'
            + ("<th>Code</th><th>Message</th>" if with_error else "<th>Result</th>"))
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _not_created_table(rows: Sequence[NotCreatedRow], table_id: str = "not-created",
                       empty: str = "Every row was created.") -> str:
    if not rows:
        return f'<p class="empty">{_e(empty)}</p>'
    body = "".join(
        f'<tr><td class="num">{_e(r.source_row)}</td><td class="name">{_e(r.name)}</td>'
        f'<td>{_badge(r.result)}</td><td class="mono code">{_e(r.error_code)}</td>'
        f'<td class="msg">{_e(r.reason)}</td></tr>'
        for r in rows
    )
    return (
        f'<table id="{table_id}"><thead><tr><th class="num">Row</th><th>Name</th><th>Result</th><th>Code</th>'
        f"<th>Reason</th></tr></thead><tbody>{body}</tbody></table>"
    )


def _signoff_block(summary: Summary) -> str:
    rehearsal = summary.rehearsal
    if rehearsal:
        return (
            '<section class="signoff" id="signoff"><h2>Sign-off</h2>'
            f'<p class="nosign" data-rehearsal="{_e(rehearsal)}">{_e(REHEARSAL_TITLES[rehearsal])}: this is a '
            "rehearsal and cannot be signed. Sign the report of the real campaign.</p></section>"
        )
    rows = "".join(
        f'<tr><th class="role">{role}</th><td></td><td></td>'
        '<td class="decision">&#9744; approved &nbsp; &#9744; rejected</td><td class="sig"></td></tr>'
        for role in ("Prepared by", "Reviewed by", "Approved by")
    )
    lines = "".join('<div class="line"></div>' for _ in range(4))
    return (
        '<section class="signoff" id="signoff"><h2>Sign-off</h2><table><thead><tr><th class="role">Role</th>'
        '<th>Name</th><th>Date</th><th class="decision">Decision</th><th class="sig">Signature</th></tr></thead>'
        f'<tbody>{rows}</tbody></table><div class="comments"><strong>Comments</strong>{lines}</div></section>'
    )


def _tile(label: str, n: int, tone: str) -> str:
    """A number tile; `tone` (bad / warn / good) colours it only when the number is not zero."""
    cls = f"tile {tone}" if n and tone in ("bad", "warn", "good") else "tile"
    return f'<div class="{cls}"><div class="n" data-tile="{_e(label)}">{n}</div><div class="l">{_e(label)}</div></div>'


def tiles(summary: Summary) -> list[tuple[str, int, str]]:
    """(label, number, tone) of the tiles at the top, per kind of report."""
    counts = summary.counts
    by_result, by_health = counts.by_result, counts.by_health
    if summary.kind == KIND_ROLLBACK:
        deleted, failed = by_result.get(Result.DELETED, 0), by_result.get(Result.DELETE_FAILED, 0)
        return [("Rows", counts.rows, ""), ("Tasks deleted", deleted, "good"),
                ("Failed to delete", failed, "bad"), ("Rows not touched", counts.rows - deleted - failed, "")]
    if summary.rehearsal == DRY_RUN:
        return [("Rows", counts.rows, ""), ("Would be sent", by_result.get(Result.DRY_RUN, 0), ""),
                ("Not sendable", counts.not_created - by_result.get(Result.DRY_RUN, 0), "warn")]
    return [
        ("Rows", counts.rows, ""),
        ("Tasks created", counts.created - counts.failed_after_creation, "good"),
        ("Rows not created", counts.not_created, "warn"),
        ("Tasks failed", by_health.get(FAILED, 0), "bad"),
        ("Tasks pending", by_health.get(PENDING, 0), "warn"),
        *([("Tasks gone", by_health[GONE], "bad")] if by_health.get(GONE) else []),
    ]


# Sections: each takes the summary and returns its HTML ("" to leave it out). They are
# listed in `SECTIONS` in page order, so a command that adds a stage (prepare, start) adds
# its section there instead of editing `render_html`.

def section_campaign(summary: Summary) -> str:
    return f'<section id="campaign"><h2>Campaign</h2>{_facts_table(summary)}</section>'


def section_counts(summary: Summary) -> str:
    counts = summary.counts
    return "".join([
        '<section id="counts"><h2>Counts</h2>',
        '<div class="cols"><div>', _count_table("Result", counts.by_result, "result"), "</div><div>",
        _bar_chart("Rows by result", counts.by_result, _RESULT_COLOURS), "</div></div>",
        '<div class="cols"><div>', _count_table("Task status", counts.by_task_status, "task_status"),
        "</div><div>",
        _bar_chart("Tasks by status", counts.by_task_status, _status_colours(counts.by_task_status)),
        "</div></div>",
        '<div class="cols"><div>', _breakdown_table("Scenario", counts.by_scenario, "scenario"), "</div><div>",
        _breakdown_table("Engine", counts.by_engine, "engine"), "</div></div>",
        "</section>",
    ])


def failed_tasks(summary: Summary) -> list[TaskRow]:
    """Created tasks whose current status is a failure (CREATE_FAILED, ...), in row order."""
    return [t for t in summary.tasks if t.health == FAILED
            and t.result not in (Result.DELETED, Result.DELETE_FAILED)]


def section_tasks_failed(summary: Summary) -> str:
    if summary.kind == KIND_ROLLBACK:
        return ""
    failed = failed_tasks(summary)
    if not failed:
        return ""
    return (f'<section id="failed"><h2 class="bad">Tasks failed ({len(failed)})</h2>'
            + _tasks_table(failed, "tasks-failed", "", with_error=True) + "</section>")


def section_tasks_created(summary: Summary) -> str:
    if summary.kind == KIND_ROLLBACK:
        return ""
    failed = {id(t) for t in failed_tasks(summary)}
    healthy = [t for t in summary.tasks if id(t) not in failed]
    title = "Tasks created" if not failed else "Tasks created and not failed"
    return (f'<section id="created"><h2>{title} ({len(healthy)})</h2>'
            + _tasks_table(healthy, "tasks", "No task was created.") + "</section>")


def section_not_created(summary: Summary) -> str:
    if summary.kind == KIND_ROLLBACK:
        return ""
    rows = summary.not_created
    title = "Rows not sent" if summary.rehearsal == DRY_RUN else "Rows not created"
    return f'<section id="not-created-rows"><h2>{title} ({len(rows)})</h2>{_not_created_table(rows)}</section>'


def section_rollback(summary: Summary) -> str:
    """A rollback's own tables: what failed to delete first, then what was deleted, then the rest."""
    if summary.kind != KIND_ROLLBACK:
        return ""
    tasks = summary.tasks
    failed = [t for t in tasks if t.result == Result.DELETE_FAILED]
    deleted = [t for t in tasks if t.result == Result.DELETED]
    kept = [t for t in tasks if t.result not in (Result.DELETED, Result.DELETE_FAILED)]
    parts = []
    if failed:
        parts.append(f'<section id="delete-failed"><h2 class="bad">Tasks that failed to delete ({len(failed)})</h2>'
                     + _tasks_table(failed, "tasks-delete-failed", "", with_error=True) + "</section>")
    parts.append(f'<section id="deleted"><h2>Tasks deleted ({len(deleted)})</h2>'
                 + _tasks_table(deleted, "tasks-deleted", "No task was deleted.") + "</section>")
    parts.append(f'<section id="kept"><h2>Tasks not touched ({len(kept)})</h2>'
                 + _tasks_table(kept, "tasks-kept", "Every task of the campaign was deleted.") + "</section>")
    rows = summary.not_created
    parts.append(f'<section id="never-created"><h2>Rows that never had a task ({len(rows)})</h2>'
                 + _not_created_table(rows, "not-created", "Every row had a task.") + "</section>")
    return "".join(parts)


_LAUNCH_HEADS = {"connection": "Connection", "precheck": "Pre-check", "precheck_passed_rate": "Passed",
                 "start": "Start", "start_time": "Start time", "progress": "Progress %",
                 "transfer_status": "Transfer status", "remaining_time": "Remaining s",
                 "incre_trans_delay": "Delay s", "note": "Failure or warning"}


def section_launch(summary: Summary) -> str:
    """Connection, pre-check (the go/no-go gate), start and progress per task: only the
    columns some task has, so a report after prepare shows no empty start columns."""
    rows = summary.launch
    if not rows:
        return ""
    launch_counts = summary.counts.launch
    tables = "".join(f"<div>{_count_table(_LAUNCH_HEADS[k], launch_counts[k], k)}</div>"
                     for k in LAUNCH_COUNTED if launch_counts.get(k))
    keys = [k for k in (*LAUNCH_KEYS, "note") if any(r.get(k) for r in rows)]
    head = "".join(f"<th>{_e(_LAUNCH_HEADS[k])}</th>" for k in keys)
    body = "".join(
        f'<tr><td class="num">{_e(r.source_row)}</td><td>{_e(r.name)}</td>'
        + "".join(f'<td data-kind="{k}">{_e(r.get(k))}</td>' for k in keys) + "</tr>"
        for r in rows
    )
    return (f'<section id="launch"><h2>Launch ({len(rows)} tasks)</h2><div class="cols">{tables}</div>'
            f'<table id="launch-tasks"><thead><tr><th class="num">Row</th><th>Name</th>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></section>")


def section_drift(summary: Summary) -> str:
    """What moved since the tasks were created (issue 12.5): changed rows, names that left."""
    drift = summary.drift
    if not drift:
        return ""
    items = "".join(f"<li>{_e(text)}</li>" for text in drift)
    return f'<section id="drift"><h2>Drift since creation ({len(drift)})</h2><ul>{items}</ul></section>'


def section_signoff(summary: Summary) -> str:
    return _signoff_block(summary)


SECTIONS: list[Callable[[Summary], str]] = [
    section_tasks_failed,
    section_campaign,
    section_counts,
    section_tasks_created,
    section_launch,
    section_not_created,
    section_drift,
    section_rollback,
    section_signoff,
]


def render_html(summary: Summary) -> str:
    """The printable, self-contained HTML page: no script, no external link, no fetch."""
    campaign = summary.campaign
    rehearsal = summary.rehearsal
    title = report_title(summary)
    banner = ""
    if rehearsal:
        banner = (f'<div class="banner" id="rehearsal" data-rehearsal="{_e(rehearsal)}">'
                  f'<div class="big">{_e(REHEARSAL_TITLES[rehearsal])}</div>'
                  f"<div>{_e(REHEARSAL_NOTES[rehearsal])}</div></div>")
    bad = bool(failed_tasks(summary)) or summary.counts.by_result.get(Result.DELETE_FAILED, 0) > 0
    outcome = summary.outcome or outcome_line(summary)
    tiles_html = "".join(_tile(label, n, tone) for label, n, tone in tiles(summary))
    when = readable_time(campaign.step_at or campaign.finished_at or campaign.started_at)
    who = campaign.step_by or campaign.operator
    sub = " &middot; ".join(_e(x) for x in (
        Path(str(campaign.input_file or "")).name, campaign.command,
        f"{when} by {who}" if when and who else when,
        f"report generated {readable_time(summary.generated_at)}") if x)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_page_css(summary)}{_CSS}</style></head><body>",
        banner,
        f"<header><h1>{_e(title)}</h1>",
        f'<p class="sub">{sub}</p></header>',
        f'<p class="outcome{" bad" if bad else ""}" id="outcome">{_e(outcome)}</p>',
        f'<section><div class="tiles">{tiles_html}</div></section>',
        *(html_part for section in SECTIONS if (html_part := section(summary))),
        f"<footer>bulkimport {_e(campaign.tool_version)} &middot; template "
        f"{_e(campaign.template_version)} &middot; input SHA-256 {_e(campaign.input_sha256)}</footer>",
        "</body></html>",
    ])


# --------------------------------------------------------------------------------- files


def write_report(summary: Summary, stem: str, out_dir: Path = Path("reports"), *,
                 results_path: Path | None = None) -> ReportFiles:
    """Write `<stem>-report.html` and `<stem>-report.json` under `out_dir`.

    `results_path`, the results workbook the report goes with, is named in the report with
    its SHA-256, so a signed printout can be tied to the very file it describes.
    """
    if results_path is not None and Path(results_path).is_file():
        summary = replace(summary, results_workbook=ResultsWorkbook(file=Path(results_path).name,
                                                                    sha256=file_sha256(results_path)))
    out_dir.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(html=out_dir / f"{stem}-report.html", json=out_dir / f"{stem}-report.json")
    files.html.write_text(render_html(summary), encoding="utf-8")
    files.json.write_text(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return files


def read_summary_facts(results_path: Path) -> Campaign | None:
    """The campaign facts from a results workbook's `Summary` sheet, or None when it has none."""
    from python_calamine import CalamineWorkbook

    if not Path(results_path).is_file():
        raise InputError(f"{results_path}: no such file")
    try:
        book = CalamineWorkbook.from_path(str(results_path))
    except Exception as exc:  # calamine raises its own error types for non-workbooks
        raise InputError(f"{results_path}: not a readable workbook (the file is damaged, or not an Excel or "
                         "OpenDocument spreadsheet)") from exc
    if "Summary" not in book.sheet_names:
        return None
    rows = book.get_sheet_by_name("Summary").to_python(skip_empty_area=False)
    return Campaign.from_rows([[_text(c) for c in r] for r in rows])


def rows_from_results(results_path: Path) -> list[dict[str, Any]]:
    """The report's columns of every data row of a results workbook, in workbook order.
    A workbook without the `result` column is not a results workbook: refused (exit 2), as
    `status` refuses it, rather than reported as a campaign of rows with no outcome."""
    from bulkimport.book_read import read_workbook, require_results_workbook

    book = read_workbook(results_path)
    require_results_workbook(book)
    out = []
    for excel_row, cells in book.cells.items():
        row = {k: cells.get(k) for k in ROW_KEYS}
        row["source_row"] = book.source_row(excel_row)
        out.append(row)
    return out


def build_report(results_path: Path, *, out_dir: Path = Path("reports")) -> ReportFiles:
    """Rebuild the sign-off report from a results workbook alone (facts from its Summary sheet)."""
    results_path = Path(results_path)
    if not results_path.is_file():
        raise InputError(f"{results_path}: no such file")
    check_outputs([Output(Path(out_dir), "--out-dir", FOLDER),
                   Output(Path(out_dir) / f"{results_path.stem}-report.html", "report", FILE),
                   Output(Path(out_dir) / f"{results_path.stem}-report.json", "report (JSON)", FILE)],
                  inputs=[results_path])
    campaign = read_summary_facts(results_path)
    if campaign is None:
        campaign = Campaign(command="", input_file=results_path.name, operator="", started_at="")
    summary = summarise(campaign, rows_from_results(results_path), drift=drift_from_results(results_path))
    return write_report(summary, results_path.stem, out_dir, results_path=results_path)


def drift_from_results(results_path: Path) -> list[str]:
    """The `drift` warnings of a results workbook's Findings sheet, as the report shows them,
    so a rebuilt report says what drifted just as submit's own report did."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(results_path))
        if "Findings" not in book.sheet_names:
            return []
        rows = book.get_sheet_by_name("Findings").to_python(skip_empty_area=False)
    except Exception:  # the report is still worth writing without this section
        return []
    if not rows:
        return []
    header = [str(c) for c in rows[0]]
    if not {"code", "message", "source_row"} <= set(header):
        return []
    at = {name: header.index(name) for name in ("code", "message", "source_row")}
    found = []
    for row in rows[1:]:
        if len(row) > at["code"] and str(row[at["code"]]) == "drift":
            source = row[at["source_row"]]
            where = f"row {int(source) if isinstance(source, float) else source}: " if source not in (None, "") \
                else ""
            found.append(f"{where}{row[at['message']]}")
    return found
