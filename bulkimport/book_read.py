"""Reading a filled workbook: the task sheet's raw cells, its columns mapped by the key row.

Reading uses python-calamine (an order of magnitude faster than openpyxl, and it does not
trust the dimensions LibreOffice records). Cells are kept as read; parsing them is
`parse.py`'s job. What calamine cannot tell us - a formula that has no cached value reads
as an empty cell, an Excel error cell reads as blank, hidden rows and merged ranges - comes
from the scan of the sheet's XML (`sheetscan.py`), which ordinary files pass at the cost of
one stream through the XML.
"""

from __future__ import annotations

import gc
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from itertools import compress, repeat
from operator import itemgetter, ne
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from xlsxwriter.utility import xl_col_to_name

from bulkimport import fields, parse
from bulkimport.archive import check_archive
from bulkimport.campaign import file_sha256
from bulkimport.errors import InputError
from bulkimport.findings import Finding, Severity, msg
from bulkimport.outcomes import RESULT_COLUMNS
from bulkimport.sheetscan import SheetMarks, scan_sheet_marks
from bulkimport.sheettrim import trimmed_copy

if TYPE_CHECKING:  # python_calamine is imported where a workbook is opened
    from python_calamine import CalamineSheet, CalamineWorkbook

#: A cell as python-calamine reads it (`CalamineSheet.to_python`).
CellValue = int | float | str | bool | time | date | datetime | timedelta

#: The sheet the template puts the tasks on; found case-insensitively.
TASK_SHEET = "Jobs"
#: The template's hidden metadata sheet: column A key, column B value.
META_SHEET = "_meta"
META_VERSION_KEY = "template_version"
META_CATALOGUE_KEY = "catalogue_sha256"
META_LANGUAGE_KEY = "language"
#: How far down the key row is looked for.
KEY_ROW_SEARCH = 10
#: A row is the key row when at least this many of its cells are catalogue keys.
KEY_ROW_MIN_KEYS = 3

ColumnKind = Literal["field", "result", "unknown"]

_KEYS_FOLDED = {k.casefold(): k for k in fields.KEYS}
_RESULTS_FOLDED = {k.casefold(): k for k in RESULT_COLUMNS}


@dataclass(frozen=True)
class Column:
    """One column of the operator's sheet, in the operator's order."""

    index: int  # 0-based column index in the operator's sheet
    label: str  # the header above the key (the template's label row), or the key
    key: str  # catalogue key, result column name, or the header of an unknown column
    kind: ColumnKind



class LazyRows(Mapping[int, dict[str, object]]):
    """A read-only mapping of Excel row number -> row dict, each dict made on access from
    whatever `_by_row` keeps per row (a tuple of cells, a position in parsed columns)."""

    _by_row: Mapping[int, object]

    def __iter__(self) -> Iterator[int]:
        return iter(self._by_row)

    def __len__(self) -> int:
        return len(self._by_row)

    def __contains__(self, row: object) -> bool:
        return row in self._by_row


class RawRows(LazyRows):
    """Excel row -> {column key: raw value, None for a blank cell}, over the sheet's own rows.

    Each row stays the tuple the reader gave (blank cells are ""), and a row's dict is made
    only when asked for: a dict per row would cost validate more than reading the sheet's
    cells into Python does, and three times a tuple's memory. The hot paths - parsing and
    writing copies - take the tuples through `columns()` and `values_of()` instead.
    """

    def __init__(self, keys: Sequence[str], rows: dict[int, tuple[object, ...]]) -> None:
        self.column_keys: list[str] = list(keys)  # the sheet's column order, as every tuple
        self._position = {k: i for i, k in enumerate(self.column_keys)}
        self._rows = self._by_row = rows

    def __getitem__(self, row: int) -> dict[str, object]:
        return dict(zip(self.column_keys, [None if v == "" else v for v in self._rows[row]], strict=True))

    def values_of(self, row: int) -> tuple[object, ...]:
        """The row's cells in `column_keys` order; a blank cell is ""."""
        return self._rows[row]

    def value(self, row: int, key: str) -> object:
        """One cell, None when blank or when the sheet has no such column."""
        i = self._position.get(key)
        v = self._rows[row][i] if i is not None else None
        return None if v == "" else v

    def columns(self, keys: Sequence[str]) -> dict[str, list[object]]:
        """Column key -> its cells in row order (None for blank): one C-level transpose."""
        n = len(self._rows)
        if not keys:
            return {}
        if not n:
            return {k: [] for k in keys}
        positions = [self._position[k] for k in keys]
        pick = itemgetter(*positions) if len(positions) > 1 else (lambda values: (values[positions[0]],))
        out: dict[str, list[object]] = {}
        for key, column in zip(keys, zip(*map(pick, self._rows.values()), strict=True), strict=True):
            blanks = column.count("")
            if not blanks:
                out[key] = list(column)
            elif blanks == n:
                out[key] = [None] * n
            else:
                out[key] = [None if v == "" else v for v in column]
        return out


@dataclass
class WorkbookData:
    """A task sheet as read: raw cells by Excel row, columns in the operator's order."""

    path: Path
    sha256: str
    sheet_name: str
    template_version: str | None
    columns: list[Column]
    #: Excel row number -> column key -> raw value (str/int/float/bool/date/datetime or None)
    cells: RawRows
    findings: list[Finding] = field(default_factory=list)
    key_row: int = 2
    #: Excel row number -> the operator's original row (a results workbook's `source_row`
    #: column; the row's own number otherwise).
    source_rows: dict[int, int] = field(default_factory=dict)
    #: Cells whose formula has no cached value: (Excel row, column key).
    formula_cells: set[tuple[int, str]] = field(default_factory=set)
    #: Columns with a cell holding an Excel error (#N/A, ...): that cell reads as its error's
    #: text, which validate reports as `excel_error`.
    error_columns: set[str] = field(default_factory=set)
    #: The `_meta` sheet's catalogue hash (None for a workbook not made from a template).
    catalogue_sha256: str | None = None
    #: The `_meta` sheet's language (en-us / zh-cn: the template's, or the language a copy's
    #: messages were written in); None for a workbook without one (then en-us).
    language: str | None = None
    #: Every sheet of the workbook, in order (a failed-rows workbook is told by its Instructions).
    sheet_names: tuple[str, ...] = ()

    @property
    def field_keys(self) -> list[str]:
        """Catalogue keys present in the sheet, in the operator's order."""
        return [c.key for c in self.columns if c.kind == "field"]

    def source_row(self, row: int) -> int:
        return self.source_rows.get(row, row)

    @cached_property
    def findings_sheet(self) -> tuple[dict[str, int], Sequence[Sequence[object]]] | None:
        """This workbook's `Findings` sheet (`findings_sheet_lines`), read once: a follow-up both
        carries its markers over and quotes its drift lines, from the same reading."""
        return findings_sheet_lines(self.path)


def require_results_workbook(book: WorkbookData) -> None:
    """A follow-up command (report, rollback) on a workbook no command of ours wrote is a
    mistake worth stopping on (exit 2), not a campaign with nothing in it."""
    if not any(c.key == "result" for c in book.columns):
        raise InputError("{path}: not a results workbook (it has no result column); give the workbook that "
                         "validate, submit, status or rollback wrote", path=book.path)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of cell objects are created.

    Nothing built while reading, parsing or writing a sheet forms reference cycles worth
    collecting, and each full collection walks every live object - the whole sheet's cells
    and typed rows: on 50,000 rows that is a quarter of the validation time, and 0.2 s of
    writing the copy (the sheet's cells are still alive then).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _sniff(path: Path) -> None:
    """Turn every way a file can be unusable into one clear line, before any library sees it."""
    try:
        if not path.exists():
            raise InputError("{path}: no such file", path=path)
        if path.is_dir():
            raise InputError("{path}: is a directory, not a workbook", path=path)
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
    except PermissionError as exc:
        raise InputError("{path}: cannot be read ({reason})", path=path, reason=exc.strerror) from None
    except OSError as exc:
        raise InputError("{path}: cannot be read ({reason})", path=path, reason=exc.strerror or exc) from None
    if size == 0:
        raise InputError("{path}: the file is empty (0 bytes)", path=path)
    if head.startswith(b"PK\x03\x04"):
        check_archive(path)  # before any library inflates it: zip bombs, damaged archives
        return
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        data = path.read_bytes()
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise InputError("{path}: the workbook is password-protected (encrypted); save a copy without a "
                             "password to open and use that", path=path)
        raise InputError("{path}: is a legacy Excel 97-2003 (.xls) file; open it in Excel or LibreOffice and "
                         "save as .xlsx", path=path)
    raise InputError("{path}: is not an Excel workbook (it looks like text or CSV); save it as .xlsx", path=path)


def _open(path: Path):
    import python_calamine

    trimmed = trimmed_copy(path)  # a sheet far larger than its data: see sheettrim
    try:
        if trimmed is not None:
            return python_calamine.CalamineWorkbook.from_filelike(trimmed)
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception:  # calamine raises several unrelated types for damaged files
        raise InputError("{path}: cannot be read as a workbook: its parts are damaged or it is not an Excel or "
                         "OpenDocument spreadsheet (open it in Excel or LibreOffice and save it again)",
                         path=path) from None


def recorded_language(path: str | Path) -> str | None:
    """The language the workbook at `path` records in its `_meta` sheet (the template's, or the
    one a copy was written in), or None when it records none or cannot be read at all. For an
    error line: it never raises, and it passes the same checks as `read_workbook` first."""
    try:
        path = Path(path)
        _sniff(path)
        book = _open(path)
        try:
            language = _template_meta(book).get(META_LANGUAGE_KEY)
        finally:
            book.close()
    except Exception:  # unreadable: the error being printed says why, in English
        return None
    return language if language in fields.LANGUAGES else None


def _cell_text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _find_key_row(grid: Sequence[Sequence[object]]) -> int | None:
    """0-based index of the first row (within the first few) made of catalogue keys."""
    for i, row in enumerate(grid[:KEY_ROW_SEARCH]):
        hits = sum(1 for v in row if _cell_text(v).casefold() in _KEYS_FOLDED)
        if hits >= KEY_ROW_MIN_KEYS:
            return i
    return None


def _choose_sheet(book: CalamineWorkbook, path: Path, sheet: str | None) -> tuple[str, CalamineSheet | None]:
    """The task sheet's name and, when it was loaded to look at it, the loaded sheet.

    Without `--sheet`, every visible sheet (and one named `Jobs`, even hidden) with a key
    row is a candidate, and there must be exactly one: Excel's copy of a sheet (`Jobs (2)`)
    carries the key row too, and silently reading one of the two would send the wrong
    tasks. Hidden sheets are otherwise the template's own (`_lists` has a row of keys).
    """
    names: list[str] = list(book.sheet_names)
    if sheet is not None:
        if sheet in names:
            return sheet, None
        folded = [n for n in names if n.casefold() == sheet.casefold()]
        if folded:
            return folded[0], None
        raise InputError("{path}: no sheet named {sheet} (sheets: {names})", path=path, sheet=repr(sheet),
                         names=", ".join(names) or "-")
    import python_calamine

    visible = {m.name for m in book.sheets_metadata if m.visible == python_calamine.SheetVisibleEnum.Visible}
    candidates: dict[str, CalamineSheet] = {}
    for name in names:
        if name not in visible and name.casefold() != TASK_SHEET.casefold():
            continue
        try:
            loaded = book.get_sheet_by_name(name)
            head = loaded.to_python(skip_empty_area=False, nrows=KEY_ROW_SEARCH)
        except Exception:  # a chart sheet or a damaged one is simply not a candidate
            continue
        if _find_key_row(head) is not None:
            candidates[name] = loaded
    if len(candidates) == 1:
        return next(iter(candidates.items()))
    if not candidates:
        named = [n for n in names if n.casefold() == TASK_SHEET.casefold()]
        if named:
            return named[0], None  # reported below: the sheet has no key row (or is empty)
        raise InputError("{path}: no task sheet: no sheet named {jobs} and no sheet with a row of column keys "
                         "(sheets: {names}); use --sheet NAME", path=path, jobs=repr(TASK_SHEET),
                         names=", ".join(names) or "-")
    listed = ", ".join(repr(n) for n in candidates)
    raise InputError("{path}: several sheets look like task sheets ({listed}): each has a row of column keys; "
                     "use --sheet NAME to pick one", path=path, listed=listed)


def _map_columns(
    path: Path, sheet: str, grid: Sequence[Sequence[object]], key_row: int, width: int
) -> tuple[list[Column], list[Finding]]:
    keys_row = list(grid[key_row]) + [""] * (width - len(grid[key_row]))
    labels_row = list(grid[key_row - 1]) + [""] * width if key_row > 0 else [""] * width
    columns: list[Column] = []
    findings: list[Finding] = []
    seen: dict[str, str] = {}
    for index in range(width):
        header = "" if parse.is_blank(keys_row[index]) else parse.as_text(keys_row[index])
        letter = xl_col_to_name(index)
        label = _cell_text(labels_row[index])
        folded = header.casefold()
        if folded in _KEYS_FOLDED:
            key, kind = _KEYS_FOLDED[folded], "field"
            label = label or fields.FIELDS[key].label
        elif folded in _RESULTS_FOLDED:
            key, kind = _RESULTS_FOLDED[folded], "result"
            label = label or key
        else:
            has_data = any(
                index < len(row) and not parse.is_blank(row[index]) for row in grid[key_row + 1:]
            )
            if not header and not has_data and not label:
                continue  # an empty column between the operator's columns
            key, kind = header or f"column {letter}", "unknown"
            if key in seen:
                key = f"{key} (column {letter})"
            label = label or key
            findings.append(Finding.of(
                None, key, "unknown_column", msg("unknown_column", letter=letter, key=repr(key)), Severity.WARNING,
            ))
        if key in seen and kind != "unknown":
            raise InputError("{path}: sheet {sheet}: column {key} appears twice (columns {first} and {second})",
                             path=path, sheet=repr(sheet), key=repr(key), first=seen[key], second=letter)
        seen[key] = letter
        columns.append(Column(index, label, key, kind))  # type: ignore[arg-type]
    present = {c.key for c in columns if c.kind == "field"}
    missing = [k for k in fields.REQUIRED_COLUMNS if k not in present]
    if missing:
        if len(missing) > 1:
            raise InputError("{path}: sheet {sheet}: mandatory column {key} is missing (and {n} more: {more})",
                             path=path, sheet=repr(sheet), key=repr(missing[0]), n=len(missing) - 1,
                             more=", ".join(missing[1:]))
        raise InputError("{path}: sheet {sheet}: mandatory column {key} is missing", path=path, sheet=repr(sheet),
                         key=repr(missing[0]))
    return columns, findings


def _template_meta(book) -> dict[str, str]:
    """The `_meta` sheet's key/value rows (template version, catalogue hash, ...), or {}."""
    for name in book.sheet_names:
        if name.casefold() == META_SHEET.casefold():
            try:
                grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except Exception:
                return {}
            return {_cell_text(row[0]): parse.as_text(row[1]) for row in grid
                    if len(row) >= 2 and not parse.is_blank(row[0]) and not parse.is_blank(row[1])}
    return {}


def _version_key(version: str) -> tuple[int, ...] | None:
    """"2026.11.3" -> (2026, 11, 3); None for a version that is not numbers and dots."""
    parts = version.strip().split(".")
    return tuple(int(p) for p in parts) if all(p.isascii() and p.isdigit() for p in parts) else None


def _stale_template(version: str | None, catalogue_sha256: str | None) -> Finding | None:
    """A warning when the workbook's template differs from the current catalogue: by version,
    or by the catalogue's hash (a rule or column changed without a version bump). Its message
    says what to do (docs/decisions.md, "Template versions"): from an older template, copy the
    rows into a fresh one; from a newer one, update the tool."""
    if version is not None and version != fields.TEMPLATE_VERSION:
        mine, theirs = _version_key(fields.TEMPLATE_VERSION), _version_key(version)
        newer = mine is not None and theirs is not None and theirs > mine
        made = msg("stale_template:newer" if newer else "stale_template:version", version=version,
                   current=fields.TEMPLATE_VERSION)
    elif catalogue_sha256 is not None and catalogue_sha256 != fields.catalogue_hash():
        made = msg("stale_template:catalogue", version=version)
    else:
        return None
    return Finding.of(None, None, "stale_template", made, Severity.WARNING)



def _put_error_texts(grid: list[list[CellValue]], errors: Mapping[tuple[int, int], str], width: int) -> None:
    """Give each error cell its error's text (`#N/A`), where the reader left it empty: the
    row is then not blank, validate reports the text as `excel_error`, and a copy shows it."""
    for (excel_row, col), text in errors.items():
        while len(grid) < excel_row:
            grid.append([""] * width)
        row = grid[excel_row - 1]
        if len(row) <= col:
            row.extend([""] * (col + 1 - len(row)))
        if row[col] == "":
            row[col] = text


def _layout_findings(marks: SheetMarks, columns: Sequence[Column],
                     kept_rows: Mapping[int, object]) -> list[Finding]:
    """Hidden task rows (a warning: they are sent) and merged cells spanning task rows."""
    findings = [
        Finding.of(r, None, "hidden_row", msg("hidden_row", row=r), Severity.WARNING)
        for r in sorted(marks.hidden_rows) if r in kept_rows
    ]
    rows = sorted(kept_rows)
    for first_row, first_col, last_row, last_col in sorted(marks.merged):
        if last_row == first_row:
            continue
        spanned = rows[bisect_left(rows, first_row):bisect_right(rows, last_row)]
        field_cols = [c for c in columns if first_col <= c.index <= last_col and c.kind == "field"]
        if len(spanned) < 2 or not field_cols:
            continue
        ref = f"{xl_col_to_name(first_col)}{first_row}:{xl_col_to_name(last_col)}{last_row}"
        findings.extend(
            Finding.of(r, field_cols[0].key, "merged_cells", msg("merged_cells", ref=ref))
            for r in spanned
        )
    return findings


def read_workbook(path: str | Path, sheet: str | None = None) -> WorkbookData:
    """Read the task sheet of a filled template (or of a results workbook).

    Columns are mapped by the key row, so reordered and extra columns work; rows entirely
    blank are dropped; every kept row keeps its Excel row number. Raises InputError (exit 2)
    for anything that makes the input unusable.
    """
    path = Path(path)
    _sniff(path)
    book = _open(path)
    try:
        name, loaded = _choose_sheet(book, path, sheet)
        try:
            grid = (loaded or book.get_sheet_by_name(name)).to_python(skip_empty_area=False)
        except Exception:
            raise InputError("{path}: sheet {sheet} cannot be read: its cells are damaged (open the workbook in "
                             "Excel or LibreOffice and save it again)", path=path, sheet=repr(name)) from None
        key_row = _find_key_row(grid)
        if key_row is None and not any(not parse.is_blank(v) for row in grid for v in row):
            raise InputError("{path}: sheet {sheet} is empty", path=path, sheet=repr(name))
        if key_row is None:
            raise InputError("{path}: sheet {sheet} has no key row (a row of column keys such as name, db_use_type, "
                             "engine_type) in its first {n} rows", path=path, sheet=repr(name), n=KEY_ROW_SEARCH)
        width = max((len(r) for r in grid), default=0)
        columns, findings = _map_columns(path, name, grid, key_row, width)
        meta = _template_meta(book)
        version, catalogue_sha256 = meta.get(META_VERSION_KEY), meta.get(META_CATALOGUE_KEY)
        language = meta.get(META_LANGUAGE_KEY)
        sheet_names = tuple(book.sheet_names)
    finally:
        book.close()

    stale = _stale_template(version, catalogue_sha256)
    if stale is not None:
        findings.append(stale)

    marks = scan_sheet_marks(path, name)
    _put_error_texts(grid, marks.errors, width)
    by_col = {c.index: c for c in columns}
    formula_rows: dict[int, list[Column]] = defaultdict(list)
    for excel_row, col in marks.formulas_without_value:
        column = by_col.get(col)
        if column is not None and excel_row > key_row + 1:
            formula_rows[excel_row].append(column)

    indices = [c.index for c in columns]
    keys = [c.key for c in columns]
    kept_rows: dict[int, tuple[object, ...]] = {}
    formula_cells: set[tuple[int, str]] = set()
    pick = itemgetter(*indices) if len(indices) > 1 else (lambda row: (row[indices[0]],))
    for offset, row in enumerate(grid[key_row + 1:]):
        excel_row = key_row + 2 + offset
        flagged = formula_rows.get(excel_row)
        if len(row) < width:
            row = list(row) + [""] * (width - len(row))
        values = pick(row)
        # Only "" is blank (0 and False are values); a row of blanks and spaces is dropped.
        # The test stops at the first real value, the first cell in a filled row.
        if not flagged and all(type(v) is str and not v.strip() for v in compress(values, map(ne, values, repeat("")))):
            continue
        kept_rows[excel_row] = values
        for column in flagged or ():
            formula_cells.add((excel_row, column.key))
            if column.kind == "field":
                findings.append(Finding.of(
                    excel_row, column.key, "formula_no_value",
                    msg("formula_no_value", cell=f"{xl_col_to_name(column.index)}{excel_row}"),
                ))
    findings.extend(_layout_findings(marks, columns, kept_rows))

    cells = RawRows(keys, kept_rows)
    source_rows: dict[int, int] = {}
    if "source_row" in keys:
        for excel_row in cells:
            number = parse.whole_number(cells.value(excel_row, "source_row"))
            source_rows[excel_row] = number if number is not None and number > 0 else excel_row
    else:
        source_rows = {r: r for r in cells}

    return WorkbookData(
        path=path,
        sha256=file_sha256(path),
        sheet_name=name,
        template_version=version,
        catalogue_sha256=catalogue_sha256,
        language=language if language in fields.LANGUAGES else None,
        columns=columns,
        cells=cells,
        findings=findings,
        key_row=key_row + 1,
        source_rows=source_rows,
        formula_cells=formula_cells,
        error_columns={by_col[col].key for _, col in marks.errors if col in by_col},
        sheet_names=sheet_names,
    )


#: The sheet where every copy lists its findings, one per line (see results_book).
FINDINGS_SHEET = "Findings"


def findings_sheet_lines(path: Path) -> tuple[dict[str, int], Sequence[Sequence[object]]] | None:
    """The `Findings` sheet of a workbook the tool wrote: its header (name -> column index) and
    its lines, or None when there is no usable sheet (an operator's workbook, a damaged one).

    The one reader of that sheet: follow-up commands carry its findings over, the report
    quotes its `drift` lines."""
    import python_calamine

    try:
        with python_calamine.CalamineWorkbook.from_path(str(path)) as wb:
            name = next((n for n in wb.sheet_names if n.casefold() == FINDINGS_SHEET.casefold()), None)
            if name is None:
                return None
            grid = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception:  # a damaged extra sheet must not stop the command; the cells were read already
        return None
    if not grid:
        return None
    header = [_cell_text(h) for h in grid[0]]
    at = {h: i for i, h in enumerate(header) if h}
    if not {"code", "message"} <= at.keys():
        return None
    return at, grid[1:]


def read_findings_sheet(book: WorkbookData) -> list[Finding]:
    """The findings a results workbook carries on its `Findings` sheet, placed on `book`'s rows.

    A follow-up command (status, rollback, start) rewrites the workbook it starts from; these
    are the markers validate and submit left on it (red cells, comments, the Findings lines),
    so the new copy keeps them. A finding is placed by its `source_row` (the operator's row,
    which every copy keeps), else by its `row`; one on a row the book does not hold is left
    out. A workbook without the sheet (an operator's) carries none."""
    read = book.findings_sheet
    if read is None:
        return []
    at, lines = read
    by_source = {source: excel_row for excel_row, source in book.source_rows.items()}

    def cell(values: Sequence[object], key: str) -> object:
        i = at.get(key)
        return values[i] if i is not None and i < len(values) else ""

    found: list[Finding] = []
    for values in lines:
        code = _cell_text(cell(values, "code"))
        if not code:
            continue
        source, row = parse.whole_number(cell(values, "source_row")), parse.whole_number(cell(values, "row"))
        excel_row: int | None = None
        if source is not None:
            excel_row = by_source.get(source)
        elif row is not None and row in book.cells:
            excel_row = row
        if excel_row is None and (source is not None or row is not None):
            continue  # a row this copy does not hold
        severity = Severity.WARNING if _cell_text(cell(values, "severity")).lower() == Severity.WARNING \
            else Severity.ERROR
        found.append(Finding(excel_row, _cell_text(cell(values, "column")) or None, code,
                             parse.as_text(cell(values, "message")), severity))
    return found
