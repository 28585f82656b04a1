"""The sign-off report: what a campaign did, in a form someone can review, print and sign.

One summary dict (also written as JSON) feeds three renderings: a self-contained HTML page
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
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from bulkimport.campaign import Campaign, now_iso
from bulkimport.errors import InputError
from bulkimport.outcomes import Result

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
)

#: Results whose row has (or had) a task that this tool created.
CREATED_RESULTS: frozenset[str] = frozenset(
    {Result.CREATED, Result.ALREADY_CREATED, Result.DELETED, Result.DELETE_FAILED}
)

HEALTHY = "healthy"
FAILED = "failed"
PENDING = "pending"

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

_FACT_LABELS: dict[str, str] = {
    "command": "Command",
    "input_file": "Input file",
    "input_sha256": "Input SHA-256",
    "template_version": "Template version",
    "tool_version": "Tool version",
    "endpoint": "Endpoint",
    "region": "Region",
    "project_id": "Project ID",
    "operator": "Operator",
    "started_at": "Started",
    "finished_at": "Finished",
    "batch_size": "Batch size",
    "concurrency": "Concurrency",
    "dry_run": "Dry run",
    "language": "Language",
}

#: Results in the order an approver reads them: successes, failures, then rows never sent.
RESULT_ORDER: tuple[str, ...] = (
    Result.CREATED, Result.ALREADY_CREATED, Result.DELETED, Result.DELETE_FAILED, Result.REJECTED,
    Result.INVALID, Result.UNKNOWN, Result.NOT_SENT, Result.DRY_RUN, Result.VALID,
)
_WIDE_FACTS = frozenset({"input_file", "input_sha256", "endpoint"})

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
_HEALTH_COLOURS = {HEALTHY: "#2e7d32", FAILED: "#c62828", PENDING: "#f9a825"}


def task_health(status: str | None) -> str | None:
    """Classify a DRS task status the way docs/decisions.md does for `status`'s exit code.

    CREATING is still pending; any `*_FAILED` is a failure; CONFIGURATION and every later
    state that is not a failure is healthy. Blank (no task) has no health.
    """
    if not status:
        return None
    status = status.strip().upper()
    if status == "CREATING":
        return PENDING
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
    code, message = row.get("error_code"), row.get("error_msg")
    if code and message:
        return f"{code}: {message}"
    if code or message:
        return str(code or message)
    return _DEFAULT_REASONS.get(row.get("result") or "", "Not created.")


def _breakdown(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, int]]:
    """Per value of `key` (scenario, engine): rows, tasks created and rows not created."""
    groups: dict[str, dict[str, int]] = {}
    for row in rows:
        group = groups.setdefault(row.get(key) or "(blank)", {"rows": 0, "created": 0, "not_created": 0})
        group["rows"] += 1
        group["created" if row.get("result") in CREATED_RESULTS else "not_created"] += 1
    return {name: groups[name] for name in sorted(groups)}


def summarise(campaign: Campaign, rows: Iterable[Mapping[str, object]]) -> dict[str, Any]:
    """Count and list a campaign's rows: the content of the JSON report and of every rendering.

    Rows are ordered by `source_row` (the operator's own Excel row) so the approver can put
    the report next to the workbook they filled in.
    """
    clean = [normalise_row(r) for r in rows]
    clean.sort(key=lambda r: (r["source_row"] is None, r["source_row"] or 0))
    by_result = Counter(r["result"] or "(blank)" for r in clean)
    by_status = Counter(r["task_status"] for r in clean if r["task_status"])
    by_health = Counter(task_health(r["task_status"]) for r in clean if r["task_status"])
    created = [r for r in clean if r["result"] in CREATED_RESULTS]
    not_created = [r for r in clean if r["result"] not in CREATED_RESULTS]
    return {
        "report_version": 1,
        "generated_at": now_iso(),
        "campaign": asdict(campaign),
        "counts": {
            "rows": len(clean),
            "created": len(created),
            "not_created": len(not_created),
            "by_result": _ordered(by_result, _result_sort_key),
            "by_task_status": _ordered(by_status, _status_sort_key),
            "by_health": {h: by_health[h] for h in (HEALTHY, PENDING, FAILED) if by_health[h]},
            "by_scenario": _breakdown(clean, "db_use_type"),
            "by_engine": _breakdown(clean, "engine_type"),
        },
        "tasks": [
            {k: r[k] for k in ("source_row", "name", "task_id", "task_status", "result", "db_use_type",
                               "engine_type", "request_id")}
            for r in created
        ],
        "not_created": [
            {k: r[k] for k in ("source_row", "name", "result", "error_code", "error_msg", "db_use_type",
                               "engine_type", "request_id")} | {"reason": _reason(r)}
            for r in not_created
        ],
    }


def campaign_of(summary: Mapping[str, Any]) -> Campaign:
    """The Campaign a summary was made from (unknown keys from a newer tool are dropped)."""
    names = {f.name for f in fields(Campaign)}
    return Campaign(**{k: v for k, v in summary.get("campaign", {}).items() if k in names})


def summary_sheet_rows(summary: Mapping[str, Any]) -> list[list[object]]:
    """The results workbook's `Summary` sheet: the facts exactly as `Campaign.rows()`, then counts.

    Count rows are `group.value -> count` (e.g. `result.CREATED`, 12) so they stay readable
    to a human and never collide with a fact key when `Campaign.from_rows` reads the sheet back.
    """
    rows: list[list[object]] = [list(r) for r in campaign_of(summary).rows()]
    counts = summary["counts"]
    rows += [["rows", counts["rows"]], ["created", counts["created"]], ["not_created", counts["not_created"]]]
    for group, key in (("result", "by_result"), ("task_status", "by_task_status"), ("health", "by_health")):
        rows += [[f"{group}.{name}", n] for name, n in counts[key].items()]
    for group, key in (("db_use_type", "by_scenario"), ("engine_type", "by_engine")):
        rows += [[f"{group}.{name}", n["rows"]] for name, n in counts[key].items()]
    return rows


# --------------------------------------------------------------------------------- HTML

_CSS = """
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; font-size: 10.5pt;
       color: #212121; margin: 0 auto; padding: 10mm 12mm; max-width: 210mm; background: #fff; }
h1 { font-size: 18pt; margin: 0 0 2mm 0; }
h2 { font-size: 12.5pt; margin: 7mm 0 2mm 0; padding-bottom: 1mm; border-bottom: 1.5pt solid #1565c0;
     color: #0d47a1; break-after: avoid; page-break-after: avoid; }
.sub { color: #616161; margin: 0 0 4mm 0; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 3mm 0; }
th, td { border: 0.6pt solid #bdbdbd; padding: 0.9mm 1.6mm; font-size: 9.5pt; text-align: left; vertical-align: top; }
th { background: #eceff1; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.mono { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 9pt; word-break: break-all; }
table.facts th { width: 19%; }
table.facts td { width: 31%; }
td.mono.id { font-size: 8pt; word-break: normal; overflow-wrap: normal; }
.tiles { display: flex; gap: 3mm; margin: 3mm 0; }
.tile { flex: 1; border: 0.8pt solid #bdbdbd; border-radius: 2mm; padding: 2.5mm 3mm; }
.tile .n { font-size: 17pt; font-weight: 700; }
.tile .l { color: #616161; font-size: 9pt; }
.cols { display: flex; gap: 6mm; align-items: flex-start; }
.cols > div { flex: 1; }
.badge { display: inline-block; padding: 0 1.6mm; border-radius: 1.2mm; color: #fff; font-size: 8.5pt; }
.empty { color: #757575; font-style: italic; }
.signoff { break-inside: avoid; page-break-inside: avoid; }
.signoff td { height: 16mm; }
.signoff th.role { width: 18%; }
.signoff td.sig { width: 34%; }
footer { margin-top: 6mm; color: #757575; font-size: 8.5pt; }
@media print {
  body { padding: 0; max-width: none; }
  thead { display: table-header-group; }
  tr, .tile, svg { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


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


def _count_table(title: str, counts: Mapping[str, int], kind: str) -> str:
    if not counts:
        return f'<p class="empty">No {_e(title.lower())}.</p>'
    body = "".join(
        f'<tr><td>{_e(name)}</td><td class="num" data-kind="{kind}" data-key="{_e(name)}">{n}</td></tr>'
        for name, n in counts.items()
    )
    return f'<table><thead><tr><th>{_e(title)}</th><th class="num">Rows</th></tr></thead><tbody>{body}</tbody></table>'


def _breakdown_table(title: str, groups: Mapping[str, Mapping[str, int]], kind: str) -> str:
    body = "".join(
        f"<tr><td>{_e(name)}</td>"
        f'<td class="num" data-kind="{kind}" data-key="{_e(name)}">{g["rows"]}</td>'
        f'<td class="num">{g["created"]}</td><td class="num">{g["not_created"]}</td></tr>'
        for name, g in groups.items()
    )
    return (
        f'<table><thead><tr><th>{_e(title)}</th><th class="num">Rows</th><th class="num">Created</th>'
        f'<th class="num">Not created</th></tr></thead><tbody>{body}</tbody></table>'
    )


def _fact_cells(key: str, value: object, span: int = 1) -> str:
    text = _e(value) if value not in (None, "") else "&ndash;"
    cls = ' class="mono"' if key == "input_sha256" else ""
    colspan = f' colspan="{span}"' if span > 1 else ""
    return f"<th>{_e(_FACT_LABELS.get(key, key))}</th><td{cls}{colspan}>{text}</td>"


def _facts_table(campaign: Mapping[str, Any]) -> str:
    """Facts two to a line, long ones (hash, endpoint, file) on a line of their own, to save paper."""
    lines: list[str] = []
    pending: list[str] = []
    for key, value in campaign.items():
        if key in _WIDE_FACTS or len(str(value or "")) > 40:
            lines.append(f"<tr>{_fact_cells(key, value, span=3)}</tr>")
            continue
        pending.append(_fact_cells(key, value))
        if len(pending) == 2:
            lines.append(f"<tr>{''.join(pending)}</tr>")
            pending = []
    if pending:
        lines.append(f"<tr>{pending[0]}<th></th><td></td></tr>")
    return f'<table class="facts"><tbody>{"".join(lines)}</tbody></table>'


def _tasks_table(tasks: list[Mapping[str, Any]]) -> str:
    if not tasks:
        return '<p class="empty">No task was created.</p>'
    body = "".join(
        f'<tr><td class="num">{_e(t["source_row"])}</td><td>{_e(t["name"])}</td>'
        f'<td class="mono id">{_e(t["task_id"])}</td><td>{_e(t["task_status"])}</td><td>{_badge(t["result"])}</td></tr>'
        for t in tasks
    )
    return (
        '<table id="tasks"><thead><tr><th class="num">Row</th><th>Name</th><th>Task ID</th><th>Status</th>'
        f"<th>Result</th></tr></thead><tbody>{body}</tbody></table>"
    )


def _not_created_table(rows: list[Mapping[str, Any]]) -> str:
    if not rows:
        return '<p class="empty">Every row was created.</p>'
    body = "".join(
        f'<tr><td class="num">{_e(r["source_row"])}</td><td>{_e(r["name"])}</td><td>{_badge(r["result"])}</td>'
        f"<td>{_e(r['reason'])}</td></tr>"
        for r in rows
    )
    return (
        '<table id="not-created"><thead><tr><th class="num">Row</th><th>Name</th><th>Result</th><th>Reason</th>'
        f"</tr></thead><tbody>{body}</tbody></table>"
    )


def _signoff_block() -> str:
    rows = "".join(
        f'<tr><th class="role">{role}</th><td></td><td></td><td class="sig"></td></tr>'
        for role in ("Prepared by", "Reviewed by", "Approved by")
    )
    return (
        '<section class="signoff"><h2>Sign-off</h2><table><thead><tr><th class="role">Role</th><th>Name</th>'
        f'<th>Date</th><th class="sig">Signature</th></tr></thead><tbody>{rows}</tbody></table></section>'
    )


def render_html(summary: Mapping[str, Any]) -> str:
    """The printable, self-contained HTML page: no script, no external link, no fetch."""
    campaign, counts = summary["campaign"], summary["counts"]
    by_health = counts.get("by_health", {})
    tiles = [
        ("Rows", counts["rows"]),
        ("Tasks created", counts["created"]),
        ("Rows not created", counts["not_created"]),
        ("Tasks failed", by_health.get(FAILED, 0)),
        ("Tasks pending", by_health.get(PENDING, 0)),
    ]
    tiles_html = "".join(
        f'<div class="tile"><div class="n" data-tile="{_e(label)}">{n}</div><div class="l">{_e(label)}</div></div>'
        for label, n in tiles
    )
    title = f"DRS bulk import: sign-off report ({campaign.get('input_file') or 'campaign'})"
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<header><h1>DRS bulk import &mdash; sign-off report</h1>",
        f'<p class="sub">{_e(campaign.get("input_file"))} &middot; {_e(campaign.get("command"))} &middot; '
        f"report generated {_e(summary.get('generated_at'))}</p></header>",
        f'<section><div class="tiles">{tiles_html}</div></section>',
        "<section><h2>Campaign</h2>", _facts_table(campaign), "</section>",
        "<section><h2>Counts</h2>",
        '<div class="cols"><div>', _count_table("Result", counts["by_result"], "result"), "</div><div>",
        _bar_chart("Rows by result", counts["by_result"], _RESULT_COLOURS), "</div></div>",
        '<div class="cols"><div>', _count_table("Task status", counts["by_task_status"], "task_status"),
        "</div><div>",
        _bar_chart("Tasks by status", counts["by_task_status"], _status_colours(counts["by_task_status"])),
        "</div></div>",
        '<div class="cols"><div>', _breakdown_table("Scenario", counts["by_scenario"], "scenario"), "</div><div>",
        _breakdown_table("Engine", counts["by_engine"], "engine"), "</div></div>",
        "</section>",
        f'<section><h2>Tasks created ({len(summary["tasks"])})</h2>', _tasks_table(summary["tasks"]), "</section>",
        f'<section><h2>Rows not created ({len(summary["not_created"])})</h2>',
        _not_created_table(summary["not_created"]), "</section>",
        _signoff_block(),
        f"<footer>bulkimport {_e(campaign.get('tool_version'))} &middot; template "
        f"{_e(campaign.get('template_version'))} &middot; input SHA-256 {_e(campaign.get('input_sha256'))}</footer>",
        "</body></html>",
    ])


# --------------------------------------------------------------------------------- files


def write_report(summary: Mapping[str, Any], stem: str, out_dir: Path = Path("reports")) -> ReportFiles:
    """Write `<stem>-report.html` and `<stem>-report.json` under `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(html=out_dir / f"{stem}-report.html", json=out_dir / f"{stem}-report.json")
    files.html.write_text(render_html(summary), encoding="utf-8")
    files.json.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return files


def read_summary_facts(results_path: Path) -> Campaign | None:
    """The campaign facts from a results workbook's `Summary` sheet, or None when it has none."""
    from python_calamine import CalamineWorkbook

    if not Path(results_path).is_file():
        raise InputError(f"{results_path}: no such file")
    try:
        book = CalamineWorkbook.from_path(str(results_path))
    except Exception as exc:  # calamine raises its own error types for non-workbooks
        raise InputError(f"{results_path}: not a readable workbook ({exc.__class__.__name__})") from exc
    if "Summary" not in book.sheet_names:
        return None
    rows = book.get_sheet_by_name("Summary").to_python(skip_empty_area=False)
    return Campaign.from_rows([[_text(c) for c in r] for r in rows])


def rows_from_results(results_path: Path) -> list[dict[str, Any]]:
    """The report's columns of every data row of a results workbook, in workbook order."""
    from bulkimport.workbook import read_workbook

    book = read_workbook(results_path)
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
    campaign = read_summary_facts(results_path)
    if campaign is None:
        campaign = Campaign(command="", input_file=results_path.name, operator="", started_at="")
    summary = summarise(campaign, rows_from_results(results_path))
    return write_report(summary, results_path.stem, out_dir)
