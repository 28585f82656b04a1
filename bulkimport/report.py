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
from dataclasses import fields as dataclass_fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bulkimport import fields as catalogue
from bulkimport.campaign import FACT_NOTES, Campaign, file_sha256, now_iso
from bulkimport.errors import InputError
from bulkimport.findings import EN, ZH, language_of, retold
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

#: The report's own words in zh-cn, by their en-us text (the finding messages a report may
#: quote are already written in the workbook's language; server messages stay as sent).
#: `tests/test_report_language.py` checks that every text the report writes has its entry.
_ZH: dict[str, str] = {
    # titles and rehearsals
    "sign-off report": "签核报告",
    "rollback report": "回滚报告",
    "DRS bulk import \u2014 {base}": "DRS批量导入 \u2014 {base}",
    "{rehearsal} \u2014 DRS bulk import {base}": "{rehearsal} \u2014 DRS批量导入{base}",
    "DRY RUN \u2014 nothing was sent": "试运行 \u2014 未发送任何请求",
    "REHEARSAL \u2014 nothing was created": "演练 \u2014 未创建任何任务",
    "This comes from `submit --dry-run`: no request reached the service and no task exists. It cannot be signed.":
        "本报告来自`submit --dry-run`：没有请求到达服务，也不存在任何任务。不能签核。",
    "This comes from a run on the local simulator (--simulate): no task was created in any cloud. "
    "It cannot be signed.": "本报告来自本地模拟器上的运行（--simulate）：没有在任何云上创建任务。不能签核。",
    "{banner}: this is a rehearsal and cannot be signed. Sign the report of the real campaign.":
        "{banner}：这是演练，不能签核。请签核真实批次的报告。",
    # reasons of rows without a task
    "Invalid row: see the Findings sheet of the results workbook.": "无效行：见结果工作簿的Findings工作表。",
    "Not sent: the run stopped before this row was sent.": "未发送：运行在发送此行之前停止。",
    "Outcome unknown: run submit again to reconcile with the server.": "结果未知：请再次运行submit与服务端核对。",
    "Dry run: nothing was sent.": "试运行：未发送任何请求。",
    "Valid; not sent (validation only).": "有效；未发送（仅校验）。",
    "Rejected by the server.": "被服务端拒绝。",
    "Not created.": "未创建。",
    # the outcome line
    "{rows}: {parts}": "{rows}：{parts}",
    "{rows}: {parts}; nothing was sent": "{rows}：{parts}；未发送任何请求",
    "{n} deleted": "{n}个已删除",
    "{n} failed to delete": "{n}个删除失败",
    "{n} not touched": "{n}个未处理",
    "{n} would be sent": "{n}个将被发送",
    "{n} already created": "{n}个已创建过",
    "{n} not sendable": "{n}个不可发送",
    "{n} created": "{n}个已创建",
    " ({n} still creating)": "（{n}个仍在创建中）",
    "{n} failed after creation": "{n}个创建后失败",
    "{n} not created": "{n}个未创建",
    " (on the simulator)": "（在模拟器上）",
    "{n} rows": "{n}行",
    # tiles
    "Rows": "行数",
    "Tasks deleted": "已删除任务",
    "Failed to delete": "删除失败",
    "Rows not touched": "未处理的行",
    "Would be sent": "将被发送",
    "Not sendable": "不可发送",
    "Tasks created": "已创建任务",
    "Rows not created": "未创建的行",
    "Tasks failed": "失败任务",
    "Tasks pending": "待定任务",
    "Tasks gone": "已消失任务",
    # sections
    "Campaign": "批次",
    "Counts": "统计",
    "Tasks failed ({n})": "失败任务（{n}）",
    "Tasks created ({n})": "已创建任务（{n}）",
    "Tasks created and not failed ({n})": "已创建且未失败的任务（{n}）",
    "Rows not sent ({n})": "未发送的行（{n}）",
    "Rows not created ({n})": "未创建的行（{n}）",
    "Tasks that failed to delete ({n})": "删除失败的任务（{n}）",
    "Tasks deleted ({n})": "已删除任务（{n}）",
    "Tasks not touched ({n})": "未处理的任务（{n}）",
    "Rows that never had a task ({n})": "从未有过任务的行（{n}）",
    "Launch ({n} tasks)": "启动（{n}个任务）",
    "Drift since creation ({n})": "创建后的变动（{n}）",
    "Sign-off": "签核",
    "No task was created.": "没有创建任何任务。",
    "Every row was created.": "所有行都已创建。",
    "No task was deleted.": "没有删除任何任务。",
    "Every task of the campaign was deleted.": "本批次的所有任务都已删除。",
    "Every row had a task.": "所有行都有任务。",
    "No {what}.": "没有{what}。",
    "{title}: nothing to chart.": "{title}：没有可绘制的数据。",
    # tables
    "Row": "行",
    "Name": "名称",
    "Task ID": "任务ID",
    "Status": "状态",
    "Result": "结果",
    "Code": "错误码",
    "Message": "消息",
    "Reason": "原因",
    "Created": "已创建",
    "Not created": "未创建",
    "Task status": "任务状态",
    "Scenario": "场景",
    "Engine": "引擎",
    "Rows by result": "按结果统计的行",
    "Tasks by status": "按状态统计的任务",
    "Tasks by health": "按健康状况统计的任务",
    "Tasks by connection test": "按连接测试统计的任务",
    "Tasks by pre-check": "按预检查统计的任务",
    "Tasks by start": "按启动统计的任务",
    "Rows by scenario": "按场景统计的行",
    "Rows by engine": "按引擎统计的行",
    "Connection": "连接",
    "Pre-check": "预检查",
    "Passed": "通过率",
    "Start": "启动",
    "Start time": "启动时间",
    "Progress %": "进度%",
    "Transfer status": "传输状态",
    "Remaining s": "剩余秒数",
    "Delay s": "延迟秒数",
    "Failure or warning": "失败或警告",
    # facts
    "Commands that wrote this workbook": "生成本工作簿的命令",
    "Input file": "输入文件",
    "Input SHA-256": "输入文件SHA-256",
    "Template version": "模板版本",
    "Tool version": "工具版本",
    "Endpoint": "终端节点",
    "Region": "区域",
    "Project ID": "项目ID",
    "Operator (OS login)": "操作员（操作系统登录名）",
    "Cloud identity": "云上身份",
    "Started": "开始时间",
    "Finished": "结束时间",
    "Batch size": "每批任务数",
    "Concurrency": "并发数",
    "Dry run": "试运行",
    "Language": "语言",
    "Campaign ID": "批次ID",
    "Ledger": "台账",
    "Last command": "最近的命令",
    "Last command at": "最近的命令时间",
    "Last command by": "最近的命令执行人",
    "Duration": "耗时",
    "Results workbook": "结果工作簿",
    "Results workbook SHA-256": "结果工作簿SHA-256",
    "{h} h {m} min": "{h}小时{m}分",
    "{m} min {s} s": "{m}分{s}秒",
    "{s} s": "{s}秒",
    # the Summary sheet
    "Campaign facts": "批次信息",
    "key": "键",
    "value": "值",
    "meaning": "含义",
    "count": "统计项",
    "rows": "行数",
    "row {row}: {text}": "第{row}行：{text}",
    "(invalid value)": "（无效值）",
    "(blank)": "（空）",
    "true": "是",
    "false": "否",
    # page, header, footer, sign-off
    "{when} by {who}": "{when}，{who}",
    "report generated {when}": "报告生成于{when}",
    "input SHA-256 {digest}": "输入文件SHA-256 {digest}",
    "template": "模板",
    "Role": "角色",
    "Date": "日期",
    "Decision": "决定",
    "Signature": "签名",
    "Prepared by": "编制人",
    "Reviewed by": "审核人",
    "Approved by": "批准人",
    "approved": "批准",
    "rejected": "驳回",
    "Comments": "意见",
}


def _t(language: str, text: str) -> str:
    """`text` (en-us) in the report's language."""
    if language == ZH:
        return _ZH.get(text, text)
    return text


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


def _ordered(counter: Counter[str], key: Callable[[str], tuple[int, str]]) -> dict[str, int]:
    return {name: counter[name] for name in sorted(counter, key=key)}


def _reason(row: Mapping[str, Any], language: str = EN) -> str:
    """The row's reason in words: the message (codes have their own column), else a default."""
    message = row.get("error_msg")
    if message:
        return str(message)
    return _t(language, _DEFAULT_REASONS.get(row.get("result") or "", "Not created."))


INVALID_VALUE = "(invalid value)"
#: The count key of a blank result, scenario or engine.
BLANK = "(blank)"
#: Count keys that are the report's own words: shown in the report's language, kept as keys in the JSON.
_OWN_KEYS = (INVALID_VALUE, BLANK)


def _shown_key(name: str, language: str) -> str:
    """A count key as a table or chart shows it: the report's own keys in its language, values as they are."""
    return _t(language, name) if name in _OWN_KEYS else name


def _breakdown(rows: list[dict[str, Any]], key: str) -> dict[str, Breakdown]:
    """Per value of `key` (scenario, engine): rows, tasks created and rows not created.

    A value the catalogue does not allow is not a scenario or an engine: such rows are
    counted together under "(invalid value)", so a typo never shows up as a category.
    """
    allowed = {v.casefold(): v for v in catalogue.FIELDS[key].allowed}
    groups: dict[str, dict[str, int]] = {}
    for row in rows:
        value = row.get(key)
        name = allowed.get(str(value).casefold(), INVALID_VALUE) if value else BLANK
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


def _flat(row: TaskRow | NotCreatedRow | LaunchRow) -> dict[str, Any]:
    """A row's fields as a dict: what `dataclasses.asdict` gives for these flat rows of text
    and numbers, without its recursive deep copy of every value (one row per task)."""
    return {f.name: getattr(row, f.name) for f in dataclass_fields(row)}


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
    #: The language the report is written in (en-us or zh-cn): the workbook's template
    #: language unless `--language` chose another. Codes and keys never change with it.
    language: str = EN

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (`<stem>-report.json`): `drift` and `results_workbook` only when known."""
        out: dict[str, Any] = {
            "report_version": self.report_version,
            "generated_at": self.generated_at,
            "kind": self.kind,
            "rehearsal": self.rehearsal,
            "campaign": asdict(self.campaign),
            "counts": self.counts.to_dict(),
            "launch": [_flat(r) for r in self.launch],
            "tasks": [_flat(t) for t in self.tasks],
            "not_created": [_flat(r) for r in self.not_created],
            "outcome": self.outcome,
            "language": self.language,
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
    language = summary.language

    def t(text: str, **args: object) -> str:
        return _t(language, text).format(**args)

    head = plural(rows, "row") if language == EN else t("{n} rows", n=rows)
    sep = ", " if language == EN else "，"
    if summary.kind == KIND_ROLLBACK:
        deleted, failed = by_result.get(Result.DELETED, 0), by_result.get(Result.DELETE_FAILED, 0)
        untouched = rows - deleted - failed
        first = f"{plural(deleted, 'task')} deleted" if language == EN else t("{n} deleted", n=deleted)
        parts = [first, t("{n} failed to delete", n=failed), t("{n} not touched", n=untouched)]
        return t("{rows}: {parts}", rows=head, parts=sep.join(parts))
    if summary.rehearsal == DRY_RUN:
        would = by_result.get(Result.DRY_RUN, 0)
        parts = [t("{n} would be sent", n=would)]
        if by_result.get(Result.ALREADY_CREATED):
            parts.append(t("{n} already created", n=by_result[Result.ALREADY_CREATED]))
        parts.append(t("{n} not sendable", n=counts.not_created - would))
        return t("{rows}: {parts}; nothing was sent", rows=head, parts=sep.join(parts))
    failed = counts.failed_after_creation
    pending = counts.by_health.get(PENDING, 0)
    created = t("{n} created", n=counts.created - failed)
    if pending:
        created += t(" ({n} still creating)", n=pending)
    parts = [created]
    if failed:
        parts.append(t("{n} failed after creation", n=failed))
    parts.append(t("{n} not created", n=counts.not_created))
    line = t("{rows}: {parts}", rows=head, parts=sep.join(parts))
    if summary.rehearsal == SIMULATED:
        line += t(" (on the simulator)")
    return line


def _task_row(r: Mapping[str, Any]) -> TaskRow:
    return TaskRow(source_row=r["source_row"], name=r["name"], task_id=r["task_id"], task_status=r["task_status"],
                   result=r["result"], db_use_type=r["db_use_type"], engine_type=r["engine_type"],
                   request_id=r["request_id"], error_code=r["error_code"], error_msg=r["error_msg"],
                   health=task_health(r["task_status"]))


def _not_created_row(r: Mapping[str, Any], language: str) -> NotCreatedRow:
    return NotCreatedRow(source_row=r["source_row"], name=r["name"], result=r["result"], error_code=r["error_code"],
                         error_msg=r["error_msg"], db_use_type=r["db_use_type"], engine_type=r["engine_type"],
                         request_id=r["request_id"], reason=_reason(r, language))


def _launch_row(r: Mapping[str, Any]) -> LaunchRow:
    return LaunchRow(source_row=r["source_row"], name=r["name"], **{k: r[k] for k in LAUNCH_KEYS},
                     note=r["error_msg"])


def summarise(campaign: Campaign, rows: Iterable[Mapping[str, object]], *,
              drift: Iterable[str] = (), language: str | None = None) -> Summary:
    """Count and list a campaign's rows: the content of the JSON report and of every rendering.

    Rows are ordered by `source_row` (the operator's own Excel row) so the approver can put
    the report next to the workbook they filled in. `drift` lines (what moved since the
    tasks were created) get their own section. `language` is the report's (None: the
    campaign's `language` fact, en-us when it has none).
    """
    language = language_of(language or campaign.language)
    clean = [normalise_row(r) for r in rows]
    clean.sort(key=lambda r: (r["source_row"] is None, r["source_row"] or 0))
    by_result = Counter(r["result"] or BLANK for r in clean)
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
        not_created=tuple(_not_created_row(r, language) for r in not_created),
        drift=tuple(drift),
        language=language,
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
    language = summary.language
    base = _t(language, "rollback report" if summary.kind == KIND_ROLLBACK else "sign-off report")
    rehearsal = summary.rehearsal
    if rehearsal:
        return _t(language, "{rehearsal} \u2014 DRS bulk import {base}").format(
            rehearsal=_t(language, REHEARSAL_TITLES[rehearsal]), base=base)
    return _t(language, "DRS bulk import \u2014 {base}").format(base=base)


def summary_sheet_rows(summary: Summary) -> SheetRows:
    """The results workbook's `Summary` sheet, readable as opened and readable back.

    A title (and, for a rehearsal, its banner) and the outcome line come first; then the
    campaign facts as `key | value | label` rows (what `Campaign.from_rows` reads back:
    rows of one cell are headings it skips); then the counts as `group.value | n` rows
    (e.g. `result.CREATED`, 12), which never collide with a fact key. A rehearsal's sheet
    is the one the workbook opens on, so its banner is the first thing seen.
    """
    rehearsal = summary.rehearsal
    language = summary.language
    banner = _t(language, REHEARSAL_TITLES[rehearsal]) if rehearsal else None
    sheet = SheetRows(widths=(30, 70, 34), active=bool(rehearsal), tab_color="#C62828" if rehearsal else None,
                      banner=banner)
    sheet.add([report_title(summary)], "title")
    if rehearsal:
        sheet.add([banner], "banner")
        sheet.add([_t(language, REHEARSAL_NOTES[rehearsal])], "note")
    sheet.add([summary.outcome or outcome_line(summary)], "outcome")
    sheet.add([], None)
    sheet.add([_t(language, "Campaign facts")], "section")
    sheet.add([_t(language, "key"), _t(language, "value"), _t(language, "meaning")], "head")
    for key, value in summary.campaign.rows():
        sheet.add([key, _fact_value(key, value, language, sheet=True), _t(language, _FACT_LABELS.get(key, ""))],
                  "fact")
    counts = summary.counts.to_dict()
    sheet.add([], None)
    sheet.add([_t(language, "Counts")], "section")
    sheet.add([_t(language, "count"), _t(language, "rows")], "head")
    for key, label in (("rows", "rows"), ("created", "created"), ("not_created", "not_created")):
        sheet.add([label, counts[key]], "count")
    for title, group, key in _COUNT_GROUPS:
        if counts.get(key):
            sheet.add([_t(language, title)], "subsection")
            for name, n in counts[key].items():
                sheet.add([f"{group}.{name}", n], "count")
    for title, group, key in _BREAKDOWN_GROUPS:
        if counts.get(key):
            sheet.add([_t(language, title)], "subsection")
            for name, n in counts[key].items():
                sheet.add([f"{group}.{name}", n["rows"]], "count")
    return sheet


# --------------------------------------------------------------------------------- HTML

#: The report's fonts: Latin first (IDs, codes and digits look the same in both languages), then
#: a Simplified Chinese font of each platform for the zh-cn report - Linux (Noto Sans CJK SC /
#: Source Han Sans SC, WenQuanYi Micro Hei, which CI installs), Windows (Microsoft YaHei,
#: DengXian, SimHei), macOS (PingFang SC, Hiragino Sans GB). Unquoted, so the same list serves
#: the CSS, the @page margin boxes (which do not inherit the body's font) and SVG attributes.
FONT_STACK = ("DejaVu Sans, Liberation Sans, Arial, Helvetica, Noto Sans CJK SC, Source Han Sans SC, "
              "WenQuanYi Micro Hei, Microsoft YaHei, DengXian, SimHei, PingFang SC, Hiragino Sans GB, sans-serif")

_CSS = """
* { box-sizing: border-box; }
body { font-family: FONTS; font-variant-ligatures: none; font-size: 10.5pt;
       color: #212121; margin: 0 auto; padding: 10mm 12mm; max-width: 210mm; background: #fff; }
h1 { font-size: 18pt; margin: 0 0 2mm 0; }
h2 { font-size: 12.5pt; margin: 7mm 0 2mm 0; padding-bottom: 1mm; border-bottom: 1.5pt solid #1565c0;
     color: #0d47a1; break-after: avoid; page-break-after: avoid; }
h2.bad { color: #b71c1c; border-bottom-color: #c62828; }
.sub { color: #616161; margin: 0 0 3mm 0; }
.outcome { font-size: 12pt; font-weight: 700; margin: 2mm 0 3mm 0; padding: 2mm 3mm; background: #eceff1;
           border-left: 2mm solid #1565c0; }
.outcome.bad { border-left-color: #c62828; }
.banner { border: 1.2mm solid #c62828; color: #b71c1c; background: repeating-linear-gradient(45deg, #fff,
          #fff 4mm, #ffebee 4mm, #ffebee 8mm); padding: 3mm 4mm; margin: 0 0 4mm 0; }
.banner .big { font-size: 20pt; font-weight: 800; letter-spacing: 0.5pt; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 3mm 0; }
th, td { border: 0.6pt solid #bdbdbd; padding: 0.9mm 1.6mm; font-size: 9.5pt; text-align: left; vertical-align: top; }
th { background: #eceff1; font-weight: 700; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; width: 1%; white-space: nowrap; }
td.name { min-width: 36mm; overflow-wrap: anywhere; }
td.mono { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 9pt; word-break: break-all; }
table.facts th { width: 19%; }
table.facts td { width: 31%; }
td.mono.id { font-size: 7pt; word-break: normal; overflow-wrap: normal; white-space: nowrap; }
td.msg { overflow-wrap: anywhere; }
:lang(zh) table.facts th { word-break: keep-all; }
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
""".replace("FONTS", FONT_STACK)


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
    language = summary.language
    name = Path(str(campaign.input_file or "campaign")).name
    if summary.rehearsal:
        name = f"{_t(language, REHEARSAL_TITLES[summary.rehearsal])} \u2014 {name}"
    digest = str(campaign.input_sha256 or "")
    shown_digest = _t(language, "input SHA-256 {digest}").format(digest=digest) if digest else ""
    page = ('"Page " counter(page) " of " counter(pages)' if language == EN else
            f"{css_string('第')} counter(page) {css_string('页，共')} counter(pages) {css_string('页')}")
    # No ligatures: "sign-off" printed with an "ff" ligature is not found by a search in the PDF.
    # Chromium's margin boxes ignore font-variant-ligatures; any letter-spacing turns them off.
    box = f"font-size: 8pt; color: #616161; font-family: {FONT_STACK}; letter-spacing: 0.01pt;"
    return (
        "@page { size: A4; margin: 16mm 12mm 16mm 12mm;\n"
        f"  @top-left {{ content: {css_string(name)}; {box} }}\n"
        f"  @top-right {{ content: {css_string(shown_digest)}; font-size: 6.5pt; "
        f"color: #616161; font-family: DejaVu Sans Mono, Liberation Mono, Consolas, Menlo, {FONT_STACK}; }}\n"
        f"  @bottom-right {{ content: {page}; {box} }}\n"
        f"  @bottom-left {{ content: {css_string(report_title(summary))}; {box} }}\n"
        "}\n"
    )


def _bar_chart(title: str, counts: Mapping[str, int], colours: Mapping[str, str], language: str = EN) -> str:
    """An inline SVG horizontal bar chart (no scripts, no fonts to fetch)."""
    if not counts:
        return f'<p class="empty">{_e(_t(language, "{title}: nothing to chart.").format(title=title))}</p>'
    width, label_w, bar_h, gap, top = 330, 150, 16, 6, 20
    bar_w = width - label_w - 40
    most = max(counts.values()) or 1
    height = top + len(counts) * (bar_h + gap)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT_STACK}" font-size="10">',
        f"<title>{_e(title)}</title>",
        f'<text x="0" y="12" font-weight="bold">{_e(title)}</text>',
    ]
    for i, (name, n) in enumerate(counts.items()):
        y = top + i * (bar_h + gap)
        length = max(1.0, bar_w * n / most) if n else 0
        colour = colours.get(name, "#1565c0")
        parts.append(f'<text x="{label_w - 4}" y="{y + 12}" text-anchor="end">{_e(_shown_key(name, language))}</text>')
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


def _count_table(title: str, counts: Mapping[str, int], kind: str, language: str = EN) -> str:
    if not counts:
        what = title.lower() if language == EN else title
        return f'<p class="empty">{_e(_t(language, "No {what}.").format(what=what))}</p>'
    body = "".join(
        f'<tr><td>{_e(_shown_key(name, language))}</td><td class="num" data-kind="{kind}" data-key="{_e(name)}">{n}'
        "</td></tr>"
        for name, n in counts.items()
    )
    return (f'<table><thead><tr><th>{_e(title)}</th><th class="num">{_e(_t(language, "Rows"))}</th></tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _breakdown_table(title: str, groups: Mapping[str, Breakdown], kind: str, language: str = EN) -> str:
    body = "".join(
        f"<tr><td>{_e(_shown_key(name, language))}</td>"
        f'<td class="num" data-kind="{kind}" data-key="{_e(name)}">{g.rows}</td>'
        f'<td class="num">{g.created}</td><td class="num">{g.not_created}</td></tr>'
        for name, g in groups.items()
    )
    return (
        f'<table><thead><tr><th>{_e(title)}</th><th class="num">{_e(_t(language, "Rows"))}</th>'
        f'<th class="num">{_e(_t(language, "Created"))}</th>'
        f'<th class="num">{_e(_t(language, "Not created"))}</th></tr></thead><tbody>{body}</tbody></table>'
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


def duration_text(start: object, end: object, language: str = EN) -> str:
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
        return _t(language, "{h} h {m} min").format(h=hours, m=minutes)
    if minutes:
        return _t(language, "{m} min {s} s").format(m=minutes, s=secs)
    return _t(language, "{s} s").format(s=secs)


_TIME_FACTS = frozenset({"started_at", "finished_at", "step_at"})
#: Facts left out of the table when they are blank (a submit has no follow-up step).
_OPTIONAL_FACTS = frozenset({"step", "step_at", "step_by", "cloud_user", "campaign_id", "ledger"})
_WIDE_FACTS = frozenset({"input_file", "input_sha256", "endpoint", "results_file", "results_sha256", "command",
                         "ledger", "campaign_id"})


#: Facts that are true or false, shown as yes/no words in zh-cn (the Summary sheet keeps true/false:
#: `rehearsal_of` reads `dry_run` back from it).
_YES_NO_FACTS = frozenset({"dry_run"})
_YES_NO = ("true", "false")


def _fact_value(key: str, value: object, language: str, *, sheet: bool = False) -> str:
    """A fact as the report shows it: the tool's own words (the cloud identity, the
    simulator's region; `campaign.FACT_NOTES`) in the report's language, recorded in en-us or
    read back in zh-cn from a Summary sheet; the others (names, IDs, paths, codes) as they are."""
    text = "" if value is None else str(value)
    if key in _YES_NO_FACTS and text.strip().lower() in _YES_NO and not sheet:
        return _t(language, text.strip().lower())
    return retold(text, FACT_NOTES[key], language) if key in FACT_NOTES and text else text


def display_facts(summary: Summary) -> list[tuple[str, str, str]]:
    """(key, label, shown value) of the facts table: times readable, the duration added, and
    the results workbook's name and SHA-256 when the report knows them. Unknown keys (from a
    newer tool) are shown as they are."""
    campaign = asdict(summary.campaign)
    language = summary.language
    out: list[tuple[str, str, str]] = []
    for key, value in campaign.items():
        shown = readable_time(value) if key in _TIME_FACTS else _fact_value(key, value, language)
        if not shown and key in _OPTIONAL_FACTS:
            continue
        out.append((key, _t(language, _FACT_LABELS.get(key, key)), shown))
        if key == "finished_at":
            out.append(("duration", _t(language, "Duration"),
                        duration_text(campaign.get("started_at"), value, language)))
    results = summary.results_workbook
    if results is not None:
        out.append(("results_file", _t(language, "Results workbook"), results.file))
        out.append(("results_sha256", _t(language, "Results workbook SHA-256"), results.sha256))
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


def _tasks_table(tasks: Sequence[TaskRow], table_id: str, empty: str, *, with_error: bool = False,
                 language: str = EN) -> str:
    """Tasks with their ID and status; `with_error` adds the service's code and message."""
    if not tasks:
        return f'<p class="empty">{_e(_t(language, empty))}</p>'
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
    names = ("Row", "Name", "Task ID", "Status", *(("Code", "Message") if with_error else ("Result",)))
    head = "".join(f'<th class="num">{_e(_t(language, n))}</th>' if n == "Row" else f"<th>{_e(_t(language, n))}</th>"
                   for n in names)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _not_created_table(rows: Sequence[NotCreatedRow], table_id: str = "not-created",
                       empty: str = "Every row was created.", language: str = EN) -> str:
    if not rows:
        return f'<p class="empty">{_e(_t(language, empty))}</p>'
    body = "".join(
        f'<tr><td class="num">{_e(r.source_row)}</td><td class="name">{_e(r.name)}</td>'
        f'<td>{_badge(r.result)}</td><td class="mono code">{_e(r.error_code)}</td>'
        f'<td class="msg">{_e(r.reason)}</td></tr>'
        for r in rows
    )
    head = "".join(f"<th>{_e(_t(language, n))}</th>" for n in ("Name", "Result", "Code", "Reason"))
    return (
        f'<table id="{table_id}"><thead><tr><th class="num">{_e(_t(language, "Row"))}</th>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


_CANNOT_SIGN = "{banner}: this is a rehearsal and cannot be signed. Sign the report of the real campaign."


def _signoff_block(summary: Summary) -> str:
    rehearsal = summary.rehearsal
    language = summary.language

    def t(text: str) -> str:
        return _e(_t(language, text))

    if rehearsal:
        banner = _t(language, REHEARSAL_TITLES[rehearsal])
        cannot = _t(language, _CANNOT_SIGN).format(banner=banner)
        return (
            f'<section class="signoff" id="signoff"><h2>{t("Sign-off")}</h2>'
            f'<p class="nosign" data-rehearsal="{_e(rehearsal)}">{_e(cannot)}</p></section>'
        )
    rows = "".join(
        f'<tr><th class="role">{t(role)}</th><td></td><td></td>'
        f'<td class="decision">&#9744; {t("approved")} &nbsp; &#9744; {t("rejected")}</td><td class="sig"></td></tr>'
        for role in ("Prepared by", "Reviewed by", "Approved by")
    )
    lines = "".join('<div class="line"></div>' for _ in range(4))
    return (
        f'<section class="signoff" id="signoff"><h2>{t("Sign-off")}</h2><table><thead><tr>'
        f'<th class="role">{t("Role")}</th><th>{t("Name")}</th><th>{t("Date")}</th>'
        f'<th class="decision">{t("Decision")}</th><th class="sig">{t("Signature")}</th></tr></thead>'
        f'<tbody>{rows}</tbody></table><div class="comments"><strong>{t("Comments")}</strong>{lines}</div></section>'
    )


def _tile(label: str, n: int, tone: str) -> str:
    """A number tile; `tone` (bad / warn / good) colours it only when the number is not zero."""
    cls = f"tile {tone}" if n and tone in ("bad", "warn", "good") else "tile"
    return f'<div class="{cls}"><div class="n" data-tile="{_e(label)}">{n}</div><div class="l">{_e(label)}</div></div>'


def tiles(summary: Summary) -> list[tuple[str, int, str]]:
    """(label, number, tone) of the tiles at the top, per kind of report."""
    return [(_t(summary.language, label), n, tone) for label, n, tone in _tiles(summary)]


def _tiles(summary: Summary) -> list[tuple[str, int, str]]:
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
    return f'<section id="campaign"><h2>{_e(_t(summary.language, "Campaign"))}</h2>{_facts_table(summary)}</section>'


def section_counts(summary: Summary) -> str:
    counts = summary.counts
    lang = summary.language

    def t(text: str) -> str:
        return _t(lang, text)

    return "".join([
        f'<section id="counts"><h2>{_e(t("Counts"))}</h2>',
        '<div class="cols"><div>', _count_table(t("Result"), counts.by_result, "result", lang), "</div><div>",
        _bar_chart(t("Rows by result"), counts.by_result, _RESULT_COLOURS, lang), "</div></div>",
        '<div class="cols"><div>', _count_table(t("Task status"), counts.by_task_status, "task_status", lang),
        "</div><div>",
        _bar_chart(t("Tasks by status"), counts.by_task_status, _status_colours(counts.by_task_status), lang),
        "</div></div>",
        '<div class="cols"><div>', _breakdown_table(t("Scenario"), counts.by_scenario, "scenario", lang),
        "</div><div>", _breakdown_table(t("Engine"), counts.by_engine, "engine", lang), "</div></div>",
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
    title = _t(summary.language, "Tasks failed ({n})").format(n=len(failed))
    return (f'<section id="failed"><h2 class="bad">{_e(title)}</h2>'
            + _tasks_table(failed, "tasks-failed", "", with_error=True, language=summary.language) + "</section>")


def section_tasks_created(summary: Summary) -> str:
    if summary.kind == KIND_ROLLBACK:
        return ""
    failed = {id(t) for t in failed_tasks(summary)}
    healthy = [t for t in summary.tasks if id(t) not in failed]
    title = "Tasks created ({n})" if not failed else "Tasks created and not failed ({n})"
    return (f'<section id="created"><h2>{_e(_t(summary.language, title).format(n=len(healthy)))}</h2>'
            + _tasks_table(healthy, "tasks", "No task was created.", language=summary.language) + "</section>")


def section_not_created(summary: Summary) -> str:
    if summary.kind == KIND_ROLLBACK:
        return ""
    rows = summary.not_created
    title = "Rows not sent ({n})" if summary.rehearsal == DRY_RUN else "Rows not created ({n})"
    return (f'<section id="not-created-rows"><h2>{_e(_t(summary.language, title).format(n=len(rows)))}</h2>'
            f"{_not_created_table(rows, language=summary.language)}</section>")


def section_rollback(summary: Summary) -> str:
    """A rollback's own tables: what failed to delete first, then what was deleted, then the rest."""
    if summary.kind != KIND_ROLLBACK:
        return ""
    tasks = summary.tasks
    failed = [t for t in tasks if t.result == Result.DELETE_FAILED]
    deleted = [t for t in tasks if t.result == Result.DELETED]
    kept = [t for t in tasks if t.result not in (Result.DELETED, Result.DELETE_FAILED)]
    lang = summary.language

    def head(text: str, n: int) -> str:
        return _e(_t(lang, text).format(n=n))

    parts = []
    if failed:
        parts.append(f'<section id="delete-failed"><h2 class="bad">'
                     f'{head("Tasks that failed to delete ({n})", len(failed))}</h2>'
                     + _tasks_table(failed, "tasks-delete-failed", "", with_error=True, language=lang) + "</section>")
    parts.append(f'<section id="deleted"><h2>{head("Tasks deleted ({n})", len(deleted))}</h2>'
                 + _tasks_table(deleted, "tasks-deleted", "No task was deleted.", language=lang) + "</section>")
    parts.append(f'<section id="kept"><h2>{head("Tasks not touched ({n})", len(kept))}</h2>'
                 + _tasks_table(kept, "tasks-kept", "Every task of the campaign was deleted.", language=lang)
                 + "</section>")
    rows = summary.not_created
    parts.append(f'<section id="never-created"><h2>{head("Rows that never had a task ({n})", len(rows))}</h2>'
                 + _not_created_table(rows, "not-created", "Every row had a task.", language=lang) + "</section>")
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
    lang = summary.language
    tables = "".join(f"<div>{_count_table(_t(lang, _LAUNCH_HEADS[k]), launch_counts[k], k, lang)}</div>"
                     for k in LAUNCH_COUNTED if launch_counts.get(k))
    keys = [k for k in (*LAUNCH_KEYS, "note") if any(r.get(k) for r in rows)]
    head = "".join(f"<th>{_e(_t(lang, _LAUNCH_HEADS[k]))}</th>" for k in keys)
    body = "".join(
        f'<tr><td class="num">{_e(r.source_row)}</td><td>{_e(r.name)}</td>'
        + "".join(f'<td data-kind="{k}">{_e(r.get(k))}</td>' for k in keys) + "</tr>"
        for r in rows
    )
    title = _t(lang, "Launch ({n} tasks)").format(n=len(rows))
    return (f'<section id="launch"><h2>{_e(title)}</h2><div class="cols">{tables}</div>'
            f'<table id="launch-tasks"><thead><tr><th class="num">{_e(_t(lang, "Row"))}</th>'
            f'<th>{_e(_t(lang, "Name"))}</th>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></section>")


def section_drift(summary: Summary) -> str:
    """What moved since the tasks were created (issue 12.5): changed rows, names that left."""
    drift = summary.drift
    if not drift:
        return ""
    items = "".join(f"<li>{_e(text)}</li>" for text in drift)
    title = _t(summary.language, "Drift since creation ({n})").format(n=len(drift))
    return f'<section id="drift"><h2>{_e(title)}</h2><ul>{items}</ul></section>'


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
    lang = summary.language
    title = report_title(summary)
    banner = ""
    if rehearsal:
        banner = (f'<div class="banner" id="rehearsal" data-rehearsal="{_e(rehearsal)}">'
                  f'<div class="big">{_e(_t(lang, REHEARSAL_TITLES[rehearsal]))}</div>'
                  f"<div>{_e(_t(lang, REHEARSAL_NOTES[rehearsal]))}</div></div>")
    bad = bool(failed_tasks(summary)) or summary.counts.by_result.get(Result.DELETE_FAILED, 0) > 0
    outcome = summary.outcome or outcome_line(summary)
    tiles_html = "".join(_tile(label, n, tone) for label, n, tone in tiles(summary))
    when = readable_time(campaign.step_at or campaign.finished_at or campaign.started_at)
    who = campaign.step_by or campaign.operator
    sub = " &middot; ".join(_e(x) for x in (
        Path(str(campaign.input_file or "")).name, campaign.command,
        _t(lang, "{when} by {who}").format(when=when, who=who) if when and who else when,
        _t(lang, "report generated {when}").format(when=readable_time(summary.generated_at))) if x)
    return "\n".join([
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == ZH else "en"}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_page_css(summary)}{_CSS}</style></head><body>",
        banner,
        f"<header><h1>{_e(title)}</h1>",
        f'<p class="sub">{sub}</p></header>',
        f'<p class="outcome{" bad" if bad else ""}" id="outcome">{_e(outcome)}</p>',
        f'<section><div class="tiles">{tiles_html}</div></section>',
        *(html_part for section in SECTIONS if (html_part := section(summary))),
        f"<footer>bulkimport {_e(campaign.tool_version)} &middot; {_e(_t(lang, 'template'))} "
        f"{_e(campaign.template_version)} &middot; "
        f"{_e(_t(lang, 'input SHA-256 {digest}').format(digest=campaign.input_sha256))}</footer>",
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
        raise InputError("{path}: no such file", path=results_path)
    try:
        book = CalamineWorkbook.from_path(str(results_path))
    except Exception as exc:  # calamine raises its own error types for non-workbooks
        raise InputError("{path}: not a readable workbook (the file is damaged, or not an Excel or OpenDocument "
                         "spreadsheet)", path=results_path) from exc
    if "Summary" not in book.sheet_names:
        return None
    rows = book.get_sheet_by_name("Summary").to_python(skip_empty_area=False)
    return Campaign.from_rows([[_text(c) for c in r] for r in rows])


def rows_from_results(results_path: Path) -> list[dict[str, Any]]:
    """The report's columns of every data row of a results workbook, in workbook order.
    A workbook without the `result` column is not a results workbook: refused (exit 2), as
    `status` refuses it, rather than reported as a campaign of rows with no outcome."""
    return _results_rows(results_path)[0]


def _results_rows(results_path: Path) -> tuple[list[dict[str, Any]], str | None]:
    """`rows_from_results`, and the language the workbook records (its `_meta` sheet)."""
    from bulkimport.book_read import read_workbook, require_results_workbook

    book = read_workbook(results_path)
    require_results_workbook(book)
    out = []
    for excel_row, cells in book.cells.items():
        row = {k: cells.get(k) for k in ROW_KEYS}
        row["source_row"] = book.source_row(excel_row)
        out.append(row)
    return out, book.language


def build_report(results_path: Path, *, out_dir: Path = Path("reports"), language: str | None = None) -> ReportFiles:
    """Rebuild the sign-off report from a results workbook alone (facts from its Summary sheet).

    Its language: `language` (`--language`), else the campaign's (the `language` fact), else
    the one the workbook records."""
    results_path = Path(results_path)
    if not results_path.is_file():
        raise InputError("{path}: no such file", path=results_path)
    check_outputs([Output(Path(out_dir), "--out-dir", FOLDER),
                   Output(Path(out_dir) / f"{results_path.stem}-report.html", "report", FILE),
                   Output(Path(out_dir) / f"{results_path.stem}-report.json", "report (JSON)", FILE)],
                  inputs=[results_path])
    campaign = read_summary_facts(results_path)
    if campaign is None:
        campaign = Campaign(command="", input_file=results_path.name, operator="", started_at="")
    rows, recorded = _results_rows(results_path)
    chosen = language or (campaign.language if campaign.language in catalogue.LANGUAGES else None) or recorded
    chosen = language_of(chosen)
    summary = summarise(campaign, rows, drift=drift_from_results(results_path, chosen), language=chosen)
    return write_report(summary, results_path.stem, out_dir, results_path=results_path)


def drift_line(source_row: object, text: str, language: str = EN) -> str:
    """One line of the drift section: the operator's row first (when the drift is a row's), then what moved."""
    if source_row in (None, ""):
        return text
    row = int(source_row) if isinstance(source_row, float) else source_row
    return _t(language, "row {row}: {text}").format(row=row, text=text)


def drift_from_results(results_path: Path, language: str = EN) -> list[str]:
    """The `drift` warnings of a results workbook's Findings sheet, as the report shows them
    (in `language`; their messages as the sheet holds them), so a rebuilt report and a
    follow-up's report say what drifted just as submit's own report did."""
    from bulkimport.book_read import findings_sheet_lines

    return drift_from_sheet(findings_sheet_lines(results_path), language)


def drift_from_sheet(read: tuple[dict[str, int], Sequence[Sequence[object]]] | None,
                     language: str = EN) -> list[str]:
    """`drift_from_results` of a Findings sheet already read (`WorkbookData.findings_sheet`)."""
    if read is None or "source_row" not in read[0]:
        return []
    at, lines = read
    found = []
    for row in lines:
        if len(row) > at["code"] and str(row[at["code"]]) == "drift":
            source = row[at["source_row"]] if len(row) > at["source_row"] else None
            found.append(drift_line(source, str(row[at["message"]]), language))
    return found
