"""Writing copies of a workbook: the annotated copy (validate), the results workbooks
(submit, status, rollback, prepare, start) and the failed-rows workbook.

Writing never touches the operator's file: it builds a new workbook with xlsxwriter in
constant-memory mode (re-saving the operator's file with openpyxl would drop images and
charts, and is the slowest path). Every string is written with `write_string`, so text
that looks like a formula stays text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import ne
from pathlib import Path

from xlsxwriter.utility import xl_col_to_name

from bulkimport import fields, parse
from bulkimport.book_read import (
    META_CATALOGUE_KEY,
    META_LANGUAGE_KEY,
    META_SHEET,
    META_VERSION_KEY,
    TASK_SHEET,
    Column,
    WorkbookData,
    paused_gc,
)
from bulkimport.errors import InputError
from bulkimport.findings import EN, Finding, Severity, language_of, msg
from bulkimport.outcomes import RESULT_COLUMNS, Result
from bulkimport.outputs import same_file

#: Excel ignores hyperlinks beyond this many per worksheet.
MAX_LINKS = 65_000
#: Cell comments are the costliest part of a copy (memory and time); past this many, offending
#: cells are still filled and every finding is still on the Findings sheet and in error_msg.
MAX_COMMENTS = 20_000

_RESULT_SET = frozenset(RESULT_COLUMNS)


class SheetRows(list):
    """Rows of an extra sheet (the Summary) together with how they are shown.

    It is a plain list of rows for every reader; the writer also uses `styles` (one style
    name per row: title, banner, note, outcome, section, subsection, head, fact, count, or
    None), the column `widths`, whether the workbook opens on this sheet (`active`), and a
    `banner` that marks a rehearsal on the task sheet too.
    """

    def __init__(self, rows: Iterable[Sequence[object]] = (), *, widths: Sequence[float] = (),
                 active: bool = False, tab_color: str | None = None, banner: str | None = None) -> None:
        super().__init__(list(r) for r in rows)
        self.styles: list[str | None] = [None] * len(self)
        self.widths = tuple(widths)
        self.active = active
        self.tab_color = tab_color
        self.banner = banner

    def add(self, cells: Sequence[object], style: str | None = None) -> None:
        self.append(list(cells))
        self.styles.append(style)


#: Row tint by result: green done, red failed, amber in doubt, grey not sent.
RESULT_COLOURS: dict[str, str] = {
    Result.VALID: "#C6EFCE",
    Result.CREATED: "#C6EFCE",
    Result.ALREADY_CREATED: "#C6EFCE",
    Result.DELETED: "#C6EFCE",
    Result.INVALID: "#FFC7CE",
    Result.REJECTED: "#FFC7CE",
    Result.DELETE_FAILED: "#FFC7CE",
    Result.UNKNOWN: "#FFEB9C",
    Result.NOT_SENT: "#FFEB9C",
    Result.DRY_RUN: "#D9D9D9",
}
#: Results tinted by conditional formatting; the others (INVALID) cell by cell.
_CONDITIONAL_RESULTS = frozenset(str(r) for r in RESULT_COLOURS if r != Result.INVALID)
ERROR_FILL = "#FF6B6B"
WARNING_FILL = "#FFC000"
FAILED_FILL = RESULT_COLOURS[Result.REJECTED]
PENDING_FILL = RESULT_COLOURS[Result.UNKNOWN]
#: Results whose row holds a live task: its current health (task_status) decides the colour,
#: so a CREATED task that is CREATE_FAILED now reads red, not green.
_LIVE_RESULTS = (str(Result.CREATED), str(Result.ALREADY_CREATED))
#: Result columns placed right after the task name, in this order, so a DBA sees the row's
#: outcome beside its name; the others follow the operator's columns. Readers find every
#: column by its header, so the position is free (DESIGN: "Columns are found by header").
NEAR_NAME = ("result", "task_status", "task_id", "error_code", "error_msg")
#: Of those, the ones frozen with the name (they stay in view when scrolling right).
FROZEN_WITH_NAME = ("result", "task_status")
#: Widths (Excel characters) of the result columns: a whole task ID, a long status, a
#: readable wrapped message.
RESULT_WIDTHS = {"result": 17, "task_status": 26, "task_id": 40, "child_ids": 40, "error_code": 22,
                 "error_msg": 70, "source_row": 11, "submitted_at": 26, "request_id": 38}


def row_tint(result: object, task_status: object = None) -> str | None:
    """A row's fill: by its result, except that a live task's current health wins
    (`*_FAILED` red, CREATING amber)."""
    text = str(result) if result is not None else ""
    if text in _LIVE_RESULTS and task_status:
        status = str(task_status).strip().upper()
        if status.endswith("_FAILED"):
            return FAILED_FILL
        if status == "CREATING":
            return PENDING_FILL
    return RESULT_COLOURS.get(text) if text else None


#: The copies' default cell format is Text (@): whatever an operator types over a cell or
#: into a blank one stays exactly as typed ("0042", "1-2", "3306"); parsing types it. Being
#: the default (style 0) rather than a style on each cell keeps it out of the sheet's XML:
#: a style attribute on every text cell cost validate 7 % of its work. Values written as
#: numbers stay numbers and show as numbers.
TEXT_DEFAULT_FORMAT = {"font_name": "Calibri", "font_size": 11, "num_format": 49}  # 49: Excel's built-in "@"


class _Formats:
    """The handful of xlsxwriter formats a results sheet needs, created once."""

    def __init__(self, wb) -> None:
        self.wb = wb
        self.header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.key_header = wb.add_format({"italic": True, "font_color": "#595959", "bg_color": "#DDEBF7",
                                         "border": 1})
        self._cache: dict[tuple[str | None, bool], object] = {}
        self._styles: dict[str | None, object] = {}

    def cell(self, fill: str | None, wrap: bool = False):
        """A cell filled with `fill` (Text, like every format here: see TEXT_DEFAULT_FORMAT);
        `wrap` for the message column."""
        fmt = self._cache.get((fill, wrap))
        if fmt is None:
            props: dict[str, object] = {"bg_color": fill, "pattern": 1} if fill else {}
            if wrap:
                props.update(text_wrap=True, valign="top")
            fmt = self._cache[(fill, wrap)] = self.wb.add_format(props) if props else None
        return fmt

    _STYLE_PROPS: dict[str, dict[str, object]] = {
        "title": {"bold": True, "font_size": 16},
        "banner": {"bold": True, "font_size": 20, "font_color": "#FFFFFF", "bg_color": "#C62828", "pattern": 1},
        "note": {"bold": True, "font_color": "#B71C1C", "text_wrap": True, "valign": "top"},
        "outcome": {"bold": True, "font_size": 13, "bg_color": "#ECEFF1", "pattern": 1},
        "section": {"bold": True, "font_size": 12, "font_color": "#0D47A1", "bottom": 2, "bottom_color": "#1565C0"},
        "subsection": {"bold": True, "italic": True},
        "head": {"bold": True, "bg_color": "#DDEBF7", "pattern": 1, "border": 1},
        "fact": {"text_wrap": True, "valign": "top"},
        "count": {"num_format": "#,##0"},
    }

    def style(self, name: str | None):
        """The format of a styled extra-sheet row (SheetRows.styles)."""
        if name is None or name not in self._STYLE_PROPS:
            return None
        fmt = self._styles.get(name)
        if fmt is None:
            fmt = self._styles[name] = self.wb.add_format(self._STYLE_PROPS[name])
        return fmt


def _write_value(ws, row: int, col: int, value: object, fmt) -> None:
    """Strings always as text: an echoed value starting with = + - @ must not become a formula."""
    kind = type(value)
    if kind is str:
        ws.write_string(row, col, value, fmt)
    elif kind is float or kind is int:
        ws.write_number(row, col, value, fmt)
    elif kind is bool:
        ws.write_boolean(row, col, value, fmt)
    elif value is None:
        ws.write_blank(row, col, None, fmt)
    else:  # dates, times and anything else a reader may return: their text
        ws.write_string(row, col, parse.as_text(parse.display_value(None, value)), fmt)


def _shown_value(shown: dict[str, object], f: fields.Field | None, value: object) -> object:
    """A secret or enum cell as a copy shows it, memoised by cell text in `shown`."""
    if type(value) is not str:
        return parse.display_value(f, value)
    result = shown.get(value)
    if result is None:
        result = parse.display_value(f, value)
        if result is not None:
            shown[value] = result
    return result


def _appended_names(book: WorkbookData, appended: Mapping[int, Mapping[str, object]]) -> list[str]:
    present: dict[str, None] = {c.key: None for c in book.columns if c.kind == "result"}
    for values in appended.values():
        for name in values:
            present.setdefault(name, None)
    present.setdefault("source_row", None)
    if "task_id" in present:  # a workbook that names tasks carries every column of the contract's first six
        for name in RESULT_COLUMNS[:RESULT_COLUMNS.index("error_msg") + 1]:
            present.setdefault(name, None)
    ordered = [n for n in RESULT_COLUMNS if n in present]
    return ordered + [n for n in present if n not in _RESULT_SET]


def write_results(
    path: str | Path,
    book: WorkbookData,
    appended: Mapping[int, Mapping[str, object]],
    findings: Iterable[Finding],
    *,
    rows: Iterable[int] | None = None,
    extra_sheets: Mapping[str, Sequence[Sequence[object]]] | None = None,
    row_results: Mapping[int, str] | None = None,
    language: str | None = None,
) -> Path:
    """Write a results workbook: the operator's columns, then the appended result columns.

    `appended` maps an Excel row of `book` to the values of appended columns (`result`,
    `task_id`, ...); a results workbook read back keeps its earlier result columns unless
    `appended` gives a new value; `source_row` is added. `rows` limits the output to some
    rows (the failed-rows workbook). `row_results` colours rows when `appended` has no
    `result` value. Cell comments and the Findings sheet are written in `language` (None:
    the book's), which the copy's `_meta` records. Returns the path written. Refuses to
    write over the input.
    """
    with paused_gc():
        return _write_results(path, book, appended, findings, rows=rows, extra_sheets=extra_sheets,
                              row_results=row_results, language=language_of(language or book.language))


#: The note on a password cell of a failed-rows workbook that held a password (shown ******).
RETYPE_SECRET = msg("note:retype_secret", mask=fields.SECRET_MASK)
#: The first line of a failed-rows workbook's Summary sheet.
FAILED_ROWS_HEADING = msg("note:failed_rows_heading")


def write_failed_rows(
    path: str | Path,
    book: WorkbookData,
    appended: Mapping[int, Mapping[str, object]],
    findings: Iterable[Finding],
    rows: Iterable[int],
    *,
    extra_sheets: Mapping[str, Sequence[Sequence[object]]] | None = None,
    language: str | None = None,
) -> Path:
    """The failed-rows workbook: a template in every way (`template.write_fix_workbook`:
    dropdowns, help, widths, colours, Fields and Instructions sheets) holding only `rows`,
    their result columns beside the name, each problem cell red with its sentence, and each
    masked password cell amber with a note to retype it or use env:NAME. Its Summary sheet
    keeps the campaign's facts (not the whole campaign's counts), so `rollback` and `submit`
    find the campaign from it."""
    from bulkimport.template import write_fix_workbook

    path = Path(path)
    if same_file(path, book.path):
        raise InputError("{path}: refusing to overwrite the input workbook; choose another --out path", path=path)
    wanted = list(dict.fromkeys(rows))
    language = language_of(language or book.language)
    by_row: dict[int, dict[str, tuple[bool, str]]] = defaultdict(dict)
    for f in findings:
        if f.row is None or f.column not in fields.FIELDS:
            continue
        is_error = f.severity == Severity.ERROR
        known = by_row[f.row].get(f.column)
        text = f.listed_for(language)
        by_row[f.row][f.column] = (is_error or (known is not None and known[0]),
                                   text if known is None else f"{known[1]}\n{text}")
    field_keys = [c.key for c in book.columns if c.kind == "field"]
    out_rows, notes, values = [], [], []
    extra = _appended_names(book, appended)
    for excel_row in wanted:
        if excel_row not in book.cells:
            continue
        row: dict[str, object] = {}
        row_notes = dict(by_row.get(excel_row, {}))
        for key in field_keys:
            field = fields.FIELDS[key]
            shown = parse.display_value(field, book.cells.value(excel_row, key))
            if shown is not None and not isinstance(shown, str | int | float | bool):
                shown = parse.as_text(shown)
            row[key] = shown
            if field.secret and shown == fields.SECRET_MASK:
                row_notes.setdefault(key, (False, RETYPE_SECRET.render(language)))
        extras = _appended_values(book, appended, extra, excel_row)
        out_rows.append(row)
        notes.append(row_notes)
        values.append(extras)
    summary: list[list[object]] = []
    for sheet_rows in (extra_sheets or {}).values():
        styles = getattr(sheet_rows, "styles", None)
        if styles is None:
            summary = [list(r) for r in sheet_rows]
        else:
            summary = [[FAILED_ROWS_HEADING.render(language)]]
            summary += [list(r) for r, st in zip(sheet_rows, styles, strict=True) if st in ("fact", "banner")]
        break
    try:
        ordered = [n for n in NEAR_NAME if n in extra] + [n for n in extra if n not in NEAR_NAME]
        return write_fix_workbook(path, out_rows, extra_columns=ordered, extra_values=values, notes=notes,
                                  summary=summary, language=language)
    except InputError:
        raise
    except OSError as exc:  # pragma: no cover - write_fix_workbook maps OSError already
        raise InputError("{path}: cannot be written ({reason})", path=path, reason=exc) from None


@dataclass
class _Layout:
    """Where each column of a copy goes: the operator's columns in their order, with the main
    result columns right after the task name (where the eye is) and the other appended
    columns at the end."""

    headers: list[tuple[str, str]]  # (label, key) per output column, left to right
    col_of: dict[str, int]  # key -> output column
    operator_cols: list[Column]
    extra: list[str]  # the appended columns, in RESULT_COLUMNS order then the others
    name_pos: int | None  # the task name's output column

    @property
    def last_col(self) -> int:
        return len(self.headers) - 1


def _plan_layout(book: WorkbookData, appended: Mapping[int, Mapping[str, object]]) -> _Layout:
    operator_cols = [c for c in book.columns if c.kind != "result"]
    extra = _appended_names(book, appended)
    name_pos = next((i for i, c in enumerate(operator_cols) if c.key == "name"), None)
    near = [n for n in NEAR_NAME if n in extra] if name_pos is not None else []
    headers = [(c.label, c.key) for c in operator_cols]
    if name_pos is not None:
        headers[name_pos + 1:name_pos + 1] = [(n, n) for n in near]
    headers += [(n, n) for n in extra if n not in near]
    col_of = {key: i for i, (_, key) in enumerate(headers)}
    return _Layout(headers, col_of, operator_cols, extra, name_pos)


def _appended_values(book: WorkbookData, appended: Mapping[int, Mapping[str, object]], extra: Sequence[str],
                     excel_row: int) -> dict[str, object]:
    """A row's appended columns: the new value, else what the input's result column held;
    `source_row` always the operator's original row."""
    new = appended.get(excel_row, {})
    values = {name: new[name] if name in new else book.cells.value(excel_row, name) for name in extra}
    values["source_row"] = book.source_row(excel_row)
    return values


def _output_path(path: str | Path, book: WorkbookData) -> Path:
    """The copy's path, its folder made; never the input."""
    path = Path(path)
    if same_file(path, book.path):
        raise InputError("{path}: refusing to overwrite the input workbook; choose another --out path", path=path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("{path}: cannot be written ({reason})", path=path, reason=exc.strerror or exc) from None
    return path


#: Of a copy's task sheet (0-based): row 0 labels, row 1 keys, data from row 2.
_FIRST_DATA = 2
_COMMENT_SIZE = {"x_scale": 2.5, "y_scale": 1.5}


def _write_results(
    path: str | Path,
    book: WorkbookData,
    appended: Mapping[int, Mapping[str, object]],
    findings: Iterable[Finding],
    *,
    rows: Iterable[int] | None,
    extra_sheets: Mapping[str, Sequence[Sequence[object]]] | None,
    row_results: Mapping[int, str] | None,
    language: str,
) -> Path:
    import xlsxwriter

    path = _output_path(path, book)
    wanted = set(rows) if rows is not None else None
    out_rows = [r for r in book.cells if wanted is None or r in wanted]
    out_row_of = {r: _FIRST_DATA + i for i, r in enumerate(out_rows)}
    layout = _plan_layout(book, appended)
    findings = list(findings)
    try:
        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                             "strings_to_urls": False, "strings_to_numbers": False,
                                             "default_format_properties": TEXT_DEFAULT_FORMAT})
    except Exception as exc:  # pragma: no cover - xlsxwriter opens lazily; kept for odd file systems
        raise InputError("{path}: cannot be written ({reason})", path=path, reason=exc) from None
    fmts = _Formats(wb)
    ws = wb.add_worksheet(TASK_SHEET)
    banner = next((getattr(v, "banner", None) for v in (extra_sheets or {}).values()
                   if getattr(v, "banner", None)), None)
    _write_task_sheet_head(ws, fmts, book, layout, len(out_rows), banner)
    # Rows are tinted by their result. A format on every cell costs a fifth of the write, so
    # the tint comes from one conditional format per colour keyed on the `result` column;
    # only rows with a red (error) cell - INVALID rows - are formatted cell by cell, because a
    # conditional fill would paint over their red cells.
    by_conditional = "result" in layout.col_of and bool(out_rows)
    if by_conditional:
        col_of = layout.col_of
        _tint_by_result(wb, ws, _FIRST_DATA, _FIRST_DATA + len(out_rows) - 1, layout.last_col,
                        xl_col_to_name(col_of["result"]),
                        xl_col_to_name(col_of["task_status"]) if "task_status" in col_of else None)
    rows_writer = _TaskRows(ws, fmts, book, layout, _findings_by_row(findings, out_row_of, layout.col_of),
                            by_conditional=by_conditional, language=language)
    for excel_row in out_rows:
        rows_writer.write(out_row_of[excel_row], excel_row, _appended_values(book, appended, layout.extra, excel_row),
                          row_results.get(excel_row) if row_results else None)

    _write_findings_sheet(wb, fmts, book, findings, out_row_of, layout.col_of, language)
    for sheet_name, sheet_rows in (extra_sheets or {}).items():
        _write_extra_sheet(wb, fmts, sheet_name, sheet_rows)
    if book.template_version or language != EN:
        _write_meta_sheet(wb, book, language)
    try:
        wb.close()
    except Exception as exc:
        raise InputError("{path}: cannot be written ({reason})", path=path, reason=exc) from None
    return path


def _write_task_sheet_head(ws, fmts: _Formats, book: WorkbookData, layout: _Layout, n_rows: int,
                           banner: str | None) -> None:
    """Column widths, the two header rows, frozen panes, the filter and a rehearsal's banner."""
    # The header rows, the task name and the first result columns stay in view when scrolling.
    name_pos = layout.name_pos
    if name_pos is not None and name_pos <= 3:
        frozen = [layout.col_of[n] for n in FROZEN_WITH_NAME if n in layout.col_of]
        ws.freeze_panes(_FIRST_DATA, max([name_pos, *frozen]) + 1)
    else:
        ws.freeze_panes(_FIRST_DATA, 0)
    for c in layout.operator_cols:
        i = layout.col_of[c.key]
        ws.set_column(i, i, _operator_width(book, c, fields.FIELDS.get(c.key) if c.kind == "field" else None))
    for name in layout.extra:
        ws.set_column(layout.col_of[name], layout.col_of[name], RESULT_WIDTHS.get(name, 16))
    # constant_memory: a row is final once a later row is written, so row 1 first, then row 2.
    for i, (label, _) in enumerate(layout.headers):
        ws.write_string(0, i, label, fmts.header)
    for i, (_, key) in enumerate(layout.headers):
        ws.write_string(1, i, key, fmts.key_header)
    # A filter on the key row: show only the INVALID, REJECTED or failed rows.
    ws.autofilter(1, 0, _FIRST_DATA + max(n_rows, 1) - 1, layout.last_col)
    if banner:  # a rehearsal: its task sheet says so when printed, and its tab is red
        ws.set_header(f"&C&14&B{banner.replace('&', '&&')}")
        ws.set_tab_color("#C62828")


def _findings_by_row(findings: Iterable[Finding], out_row_of: Mapping[int, int],
                     col_of: Mapping[str, int]) -> dict[int, dict[str | None, list[Finding]]]:
    """Excel row -> column key (None: the row, or a column the copy does not have) -> its
    findings, for the rows in the copy."""
    by_row: dict[int, dict[str | None, list[Finding]]] = defaultdict(dict)
    for finding in findings:
        if finding.row is not None and finding.row in out_row_of:
            column = finding.column if finding.column in col_of else None
            by_row[finding.row].setdefault(column, []).append(finding)
    return by_row


#: How an operator column's cells are written: output column, field, and for secrets and
#: enums (whose shown value differs from the cell) a memo of shown value by cell text.
_CellPlan = tuple[int, "fields.Field | None", "dict[str, object] | None"]


class _TaskRows:
    """Writes the task sheet's data rows, cell by cell through `_write_value` (the one
    per-cell write: strings as text, never a formula)."""

    def __init__(self, ws, fmts: _Formats, book: WorkbookData, layout: _Layout,
                 findings: Mapping[int, Mapping[str | None, list[Finding]]], *, by_conditional: bool,
                 language: str = EN) -> None:
        self.ws, self.fmts, self.book, self.layout = ws, fmts, book, layout
        self.findings = findings
        self.language = language
        self.by_conditional = by_conditional
        self.plan_of = {c.key: self._plan(c) for c in layout.operator_cols}
        #: Per position of a row's tuple (book.cells.column_keys): its plan, None for an
        #: input result column (rewritten with the appended columns).
        self.plans = [self.plan_of.get(k) for k in book.cells.column_keys]
        self.extra_cols = [(name, layout.col_of[name]) for name in layout.extra]
        self.comments = 0

    def _plan(self, column: Column) -> _CellPlan:
        # A column holds few distinct values (env:NAME references, allowed values), and the
        # shown value is looked up on every cell: hence the memo.
        f = fields.FIELDS.get(column.key) if column.kind == "field" else None
        shown: dict[str, object] | None = None
        if f is not None and f.kind is fields.Kind.ENUM:
            shown = {v: v for v in f.allowed}
        elif f is not None and f.secret:
            shown = {}
        return self.layout.col_of[column.key], f, shown

    def write(self, r: int, excel_row: int, values: Mapping[str, object], fallback_result: str | None) -> None:
        """Row `excel_row` of the book as output row `r`, with its appended `values`;
        `fallback_result` colours a row whose `result` is blank."""
        result = values.get("result")
        if (result is None or result == "") and fallback_result:
            result = fallback_result
        tint = row_tint(result, values.get("task_status")) if result else None
        # The conditional format tints the row unless its colour comes from elsewhere (a
        # fallback result, or a result it does not cover): then the row's format does.
        direct = tint is not None and not (self.by_conditional and str(result) in _CONDITIONAL_RESULTS
                                           and str(values.get("result")) == str(result))
        plain = self.fmts.cell(tint) if direct else None
        if plain is not None:
            self.ws.set_row(r, None, plain)  # blank cells of the row show the tint too
        row_findings = self.findings.get(excel_row)
        if row_findings is None:
            self._plain_cells(r, excel_row, plain)
        else:
            self._cells_with_findings(r, excel_row, row_findings, plain)
        wrapped = self.fmts.cell(tint if plain is not None else None, wrap=True)
        for name, col in self.extra_cols:
            value = values[name]
            if (value is None or value == "") and plain is None:
                continue  # nothing to show and no tint to carry
            _write_value(self.ws, r, col, value, wrapped if name == "error_msg" else plain)
        if row_findings and None in row_findings:
            self._comment(r, self.layout.col_of[self.layout.extra[0]], row_findings[None])

    def _plain_cells(self, r: int, excel_row: int, fmt) -> None:
        """A row with no finding (most rows): its non-blank cells, picked out in C."""
        raw = self.book.cells.values_of(excel_row)
        ws = self.ws
        write_string = ws.write_string
        for plan, value in compress(zip(self.plans, raw, strict=True), map(ne, raw, repeat(""))):
            if plan is None:
                continue  # a result column of a results workbook: rewritten with the appended ones
            i, f, shown = plan
            if shown is not None:
                value = shown.get(value) or _shown_value(shown, f, value)  # type: ignore[call-overload]
            if type(value) is str:  # most cells: written here, without a call to _write_value each
                write_string(r, i, value, fmt)
            else:
                _write_value(ws, r, i, value, fmt)

    def _cells_with_findings(self, r: int, excel_row: int, row_findings: Mapping[str | None, list[Finding]],
                             plain) -> None:
        """A row with findings: its non-blank cells, and each cell with a finding (blank or
        not) filled red (error) or amber (warning) with its sentences as a comment."""
        raw = self.book.cells.values_of(excel_row)
        for key, value in zip(self.book.cells.column_keys, raw, strict=True):
            found = row_findings.get(key)
            if value == "":
                if not found:
                    continue
                value = None
            plan = self.plan_of.get(key)
            if plan is None:
                continue
            i, f, shown = plan
            if shown is not None:
                value = shown.get(value) or _shown_value(shown, f, value)  # type: ignore[call-overload]
            fmt = plain
            if found:
                fmt = self.fmts.cell(ERROR_FILL if any(x.severity == Severity.ERROR for x in found) else WARNING_FILL)
            _write_value(self.ws, r, i, value, fmt)
            if found:
                self._comment(r, i, found)

    def _comment(self, r: int, col: int, found: Sequence[Finding]) -> None:
        if self.comments < MAX_COMMENTS:
            self.ws.write_comment(r, col, _comment(found, self.language), _COMMENT_SIZE)
            self.comments += 1


def _write_meta_sheet(wb, book: WorkbookData, language: str = EN) -> None:
    """The hidden `_meta` sheet, so a copy is still recognised as made from (a version of) the
    template, and keeps the language its messages are written in (status and report go on in it)."""
    meta = wb.add_worksheet(META_SHEET)
    meta_rows = [(META_VERSION_KEY, book.template_version), (META_LANGUAGE_KEY, language),
                 # so a copy of a stale workbook is still known stale
                 (META_CATALOGUE_KEY, book.catalogue_sha256)]
    for i, (key, value) in enumerate((k, v) for k, v in meta_rows if v):
        meta.write_string(i, 0, key)
        meta.write_string(i, 1, value)
    meta.hide()


def _operator_width(book: WorkbookData, column: Column, f: fields.Field | None) -> float:
    """An operator column's width: the task name's follows its longest name (so a whole name
    shows), the others a fixed width that fits an ID or an address."""
    if column.key == "name":
        names = [str(v) for v in book.cells.columns(["name"])["name"] if v is not None] if book.cells else []
        return min(max([len(n) for n in names] + [len(column.label), 16]) + 2, 52)
    return 22 if f is not None else 16


def _write_extra_sheet(wb, fmts: _Formats, name: str, rows: Sequence[Sequence[object]]) -> None:
    """An extra sheet (the Summary): plain rows, or a SheetRows with styles and widths."""
    sheet = wb.add_worksheet(name)
    styles = getattr(rows, "styles", None) or [None] * len(rows)
    widths = getattr(rows, "widths", ())
    for c, width in enumerate(widths):
        sheet.set_column(c, c, width)
    span = max(len(widths), 1) - 1
    for r, (values, style) in enumerate(zip(rows, styles, strict=True)):
        fmt = fmts.style(style)
        if style in ("banner", "note", "outcome", "title") and len(values) == 1 and span:
            sheet.merge_range(r, 0, r, span, "", fmt)
            _write_value(sheet, r, 0, values[0], fmt)
            if style == "note":
                sheet.set_row(r, 32)
            elif style == "banner":
                sheet.set_row(r, 30)
            continue
        for c, value in enumerate(values):
            if value is not None:
                _write_value(sheet, r, c, value, fmt)
    if getattr(rows, "tab_color", None):
        sheet.set_tab_color(rows.tab_color)  # type: ignore[attr-defined]
    if getattr(rows, "active", False):
        sheet.activate()


def _tint_by_result(wb, ws, first: int, last: int, last_col: int, result_col: str,
                    status_col: str | None = None) -> None:
    """One formula-based conditional format per colour over the data rows.

    The rules are mutually exclusive (a live task's health decides its colour before its
    result does), so Excel and LibreOffice, which resolve overlapping rules differently,
    show the same colour.
    """
    row = first + 1
    by_colour: dict[str, list[str]] = defaultdict(list)
    for result, colour in RESULT_COLOURS.items():
        if str(result) in _CONDITIONAL_RESULTS:
            by_colour[colour].append(str(result))
    def any_of(results: Iterable[str]) -> str:
        return "OR(" + ",".join(f'${result_col}{row}="{r}"' for r in results) + ")"

    live = any_of(_LIVE_RESULTS)
    failed = f'AND({live},RIGHT(${status_col}{row},7)="_FAILED")' if status_col else None
    pending = f'AND({live},${status_col}{row}="CREATING")' if status_col else None
    for colour, results in by_colour.items():
        test = any_of(results)
        if status_col:
            if colour == FAILED_FILL:
                test = f"OR({test},{failed})"
            elif colour == PENDING_FILL:
                test = f"OR({test},{pending})"
            elif any(r in _LIVE_RESULTS for r in results):
                test = f"AND({test},NOT({failed}),NOT({pending}))"
        ws.conditional_format(first, 0, last, last_col, {
            "type": "formula", "criteria": f"={test}",
            "format": wb.add_format({"bg_color": colour, "pattern": 1}),
        })


def _comment(findings: Sequence[Finding], language: str = EN) -> str:
    """A cell's note: one sentence per finding in `language` (warnings say so); codes are on
    the Findings sheet."""
    lines = [f.listed_for(language) for f in findings]
    text = "\n".join(lines)
    return text if len(text) <= 32_000 else text[:31_997] + "..."


def _write_findings_sheet(
    wb, fmts: _Formats, book: WorkbookData, findings: Sequence[Finding],
    out_row_of: Mapping[int, int], col_of: Mapping[str, int], language: str = EN,
) -> None:
    """One line per finding (its message in `language`), each with a link to its cell in the Jobs sheet."""
    ws = wb.add_worksheet("Findings")
    headers = ["cell", "row", "source_row", "column", "code", "severity", "message"]
    for i, h in enumerate(headers):
        ws.write_string(0, i, h, fmts.header)
    ws.set_column(0, 2, 10)
    ws.set_column(3, 3, 30)
    ws.set_column(4, 5, 16)
    ws.set_column(6, 6, 100)
    ws.freeze_panes(1, 0)
    links = 0
    r = 1
    for f in findings:
        if f.row is not None and f.row not in out_row_of:
            continue  # a row left out of this copy (the failed-rows workbook)
        out_row = out_row_of.get(f.row) if f.row is not None else None
        if out_row is not None:
            col = col_of.get(f.column or "", col_of.get("result", 0))
            ref = f"{xl_col_to_name(col)}{out_row + 1}"
            if links < MAX_LINKS:
                ws.write_url(r, 0, f"internal:'{TASK_SHEET}'!{ref}", string=ref)
                links += 1
            else:
                ws.write_string(r, 0, ref)
            ws.write_number(r, 1, out_row + 1)
            ws.write_number(r, 2, book.source_row(f.row))  # type: ignore[arg-type]
        if f.column is not None:
            ws.write_string(r, 3, f.column)
        ws.write_string(r, 4, f.code)
        ws.write_string(r, 5, str(f.severity))
        ws.write_string(r, 6, f.sentence_for(language))
        r += 1
