"""Reading a filled workbook and writing annotated / results copies of it.

Reading uses python-calamine (an order of magnitude faster than openpyxl, and it does not
trust the dimensions LibreOffice records). Cells are kept as read; parsing them is
`parse.py`'s job. What calamine cannot tell us - a formula that has no cached value reads
as an empty cell - is found by a scan of the sheet's XML, done only when the XML contains
a formula at all, so ordinary files pay nothing for it.

Writing never touches the operator's file: it builds a new workbook with xlsxwriter in
constant-memory mode (re-saving the operator's file with openpyxl would drop images and
charts, and is the slowest path). Every string is written with `write_string`, so text
that looks like a formula stays text.
"""

from __future__ import annotations

import gc
import re
import zipfile
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import itemgetter, ne
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from xml.etree import ElementTree

from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name

from bulkimport import fields, parse
from bulkimport.archive import check_archive
from bulkimport.campaign import file_sha256
from bulkimport.errors import InputError
from bulkimport.findings import Finding, Severity
from bulkimport.outcomes import RESULT_COLUMNS, Result
from bulkimport.sheettrim import trimmed_copy

#: The sheet the template puts the tasks on; found case-insensitively.
TASK_SHEET = "Jobs"
#: The template's hidden metadata sheet: column A key, column B value.
META_SHEET = "_meta"
META_VERSION_KEY = "template_version"
META_CATALOGUE_KEY = "catalogue_sha256"
#: How far down the key row is looked for.
KEY_ROW_SEARCH = 10
#: A row is the key row when at least this many of its cells are catalogue keys.
KEY_ROW_MIN_KEYS = 3
#: Excel ignores hyperlinks beyond this many per worksheet.
MAX_LINKS = 65_000
#: Cell comments are the costliest part of a copy (memory and time); past this many, offending
#: cells are still filled and every finding is still on the Findings sheet and in error_msg.
MAX_COMMENTS = 20_000

ColumnKind = Literal["field", "result", "unknown"]

_RESULT_SET = frozenset(RESULT_COLUMNS)
_KEYS_FOLDED = {k.casefold(): k for k in fields.KEYS}
_RESULTS_FOLDED = {k.casefold(): k for k in RESULT_COLUMNS}


@dataclass(frozen=True)
class Column:
    """One column of the operator's sheet, in the operator's order."""

    index: int  # 0-based column index in the operator's sheet
    label: str  # the header above the key (the template's label row), or the key
    key: str  # catalogue key, result column name, or the header of an unknown column
    kind: ColumnKind


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

    @property
    def field_keys(self) -> list[str]:
        """Catalogue keys present in the sheet, in the operator's order."""
        return [c.key for c in self.columns if c.kind == "field"]

    def source_row(self, row: int) -> int:
        return self.source_rows.get(row, row)


def require_results_workbook(book: WorkbookData) -> None:
    """A follow-up command (report, rollback) on a workbook no command of ours wrote is a
    mistake worth stopping on (exit 2), not a campaign with nothing in it."""
    if not any(c.key == "result" for c in book.columns):
        raise InputError(f"{book.path}: not a results workbook (it has no result column); give the workbook "
                         "that validate, submit, status or rollback wrote")


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


# --------------------------------------------------------------------------- reading


def _sniff(path: Path) -> None:
    """Turn every way a file can be unusable into one clear line, before any library sees it."""
    try:
        if not path.exists():
            raise InputError(f"{path}: no such file")
        if path.is_dir():
            raise InputError(f"{path}: is a directory, not a workbook")
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
    except PermissionError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise InputError(f"{path}: the file is empty (0 bytes)")
    if head.startswith(b"PK\x03\x04"):
        check_archive(path)  # before any library inflates it: zip bombs, damaged archives
        return
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        data = path.read_bytes()
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise InputError(
                f"{path}: the workbook is password-protected (encrypted); "
                "save a copy without a password to open and use that"
            )
        raise InputError(
            f"{path}: is a legacy Excel 97-2003 (.xls) file; open it in Excel or LibreOffice and save as .xlsx"
        )
    raise InputError(f"{path}: is not an Excel workbook (it looks like text or CSV); save it as .xlsx")


def _open(path: Path):
    import python_calamine

    trimmed = trimmed_copy(path)  # a sheet far larger than its data: see sheettrim
    try:
        if trimmed is not None:
            return python_calamine.CalamineWorkbook.from_filelike(trimmed)
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception:  # calamine raises several unrelated types for damaged files
        raise InputError(f"{path}: cannot be read as a workbook: its parts are damaged or it is not an Excel or "
                         "OpenDocument spreadsheet (open it in Excel or LibreOffice and save it again)") from None


def _cell_text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _find_key_row(grid: Sequence[Sequence[object]]) -> int | None:
    """0-based index of the first row (within the first few) made of catalogue keys."""
    for i, row in enumerate(grid[:KEY_ROW_SEARCH]):
        hits = sum(1 for v in row if _cell_text(v).casefold() in _KEYS_FOLDED)
        if hits >= KEY_ROW_MIN_KEYS:
            return i
    return None


def _choose_sheet(book, path: Path, sheet: str | None) -> tuple[str, Any]:
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
        raise InputError(f"{path}: no sheet named {sheet!r} (sheets: {', '.join(names) or 'none'})")
    import python_calamine

    visible = {m.name for m in book.sheets_metadata if m.visible == python_calamine.SheetVisibleEnum.Visible}
    candidates: dict[str, Any] = {}
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
        raise InputError(
            f"{path}: no task sheet: no sheet named {TASK_SHEET!r} and no sheet with a row of column keys "
            f"(sheets: {', '.join(names) or 'none'}); use --sheet NAME"
        )
    listed = ", ".join(repr(n) for n in candidates)
    raise InputError(
        f"{path}: several sheets look like task sheets ({listed}): each has a row of column keys; "
        "use --sheet NAME to pick one"
    )


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
            findings.append(Finding(
                None, key, "unknown_column",
                f"column {letter} ({key!r}) is not a template column; it is kept in copies but ignored",
                Severity.WARNING,
            ))
        if key in seen and kind != "unknown":
            raise InputError(
                f"{path}: sheet {sheet!r}: column {key!r} appears twice (columns {seen[key]} and {letter})"
            )
        seen[key] = letter
        columns.append(Column(index, label, key, kind))  # type: ignore[arg-type]
    present = {c.key for c in columns if c.kind == "field"}
    missing = [k for k in fields.REQUIRED_COLUMNS if k not in present]
    if missing:
        raise InputError(
            f"{path}: sheet {sheet!r}: mandatory column {missing[0]!r} is missing"
            + (f" (and {len(missing) - 1} more: {', '.join(missing[1:])})" if len(missing) > 1 else "")
        )
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


def _stale_template(version: str | None, catalogue_sha256: str | None) -> Finding | None:
    """A warning when the workbook's template differs from the current catalogue: by version,
    or by the catalogue's hash (a rule or column changed without a version bump)."""
    if version is not None and version != fields.TEMPLATE_VERSION:
        made = f"template version {version}; the current version is {fields.TEMPLATE_VERSION}"
    elif catalogue_sha256 is not None and catalogue_sha256 != fields.catalogue_hash():
        made = f"a template of version {version} whose columns or rules differ from this tool's"
    else:
        return None
    return Finding(None, None, "stale_template",
                   f"the workbook was made from {made} (run `bulkimport template` for a fresh one)",
                   Severity.WARNING)


_CELL_REF_RE = re.compile(r"^([A-Z]+)(\d+)$")


def _sheet_xml_path(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """Where the sheet's XML lives inside the zip (workbook.xml + its relationships)."""
    ns_main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    ns_rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    try:
        wb = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return None
    rel_id = None
    for el in wb.iter(f"{ns_main}sheet"):
        if el.get("name") == sheet:
            rel_id = el.get(f"{ns_rel}id")
    if rel_id is None:
        return None
    for rel in rels:
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            if target.startswith("/"):
                return target.lstrip("/")
            return str(PurePosixPath("xl") / target)
    return None


_F_CANDIDATE = re.compile(rb"f[\s>/]")
_PREFIX = re.compile(rb"<[A-Za-z_][\w.-]*:$")
#: What a sheet's XML must contain for the detailed scans to run at all.
_ERROR_MARKS = (b't="e"', b"t='e'")
_HIDDEN_MARK = b"hidden="
_MERGE_MARK = b"mergeCell"
#: The values Excel stores in an error cell (t="e"); a text cell holding exactly one of them
#: (a results copy, a paste as text) is the same error.
EXCEL_ERRORS = frozenset({"#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!",
                          "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#UNKNOWN!"})


@dataclass
class SheetMarks:
    """What the sheet's XML says that a cell reader does not: rows and columns as the
    reader's grid counts them (Excel row number, 0-based column)."""

    #: Formula cells saved without a value (a reader sees an empty cell).
    formulas_without_value: set[tuple[int, int]] = field(default_factory=set)
    #: Cells holding an Excel error (#N/A, #REF!, ...), cached formula result or literal:
    #: python-calamine reads them as empty cells.
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    #: Rows hidden by a filter or by hand.
    hidden_rows: set[int] = field(default_factory=set)
    #: Merged ranges: (first row, first column, last row, last column).
    merged: set[tuple[int, int, int, int]] = field(default_factory=set)


def _marks_present(archive: zipfile.ZipFile, member: str) -> set[str]:
    """Stream the sheet XML for what could need a closer look, without parsing it:
    "f" (a formula), "e" (an error cell), "hidden", "merge".

    This runs on every file, so the formula test searches for the rare two-byte shape `f>` /
    `f ` and only then looks back for the `<` (a regex over every `<` is ten times slower,
    and `<formula1>` of data validations must not count); the others are plain byte searches.
    """
    found: set[str] = set()
    tail = b""
    with archive.open(member) as fh:
        while chunk := fh.read(1 << 20):
            window = tail + chunk
            if "f" not in found:
                for m in _F_CANDIDATE.finditer(window):
                    i = m.start()
                    before = window[i - 1:i]
                    if before == b"<" or (before == b":" and _PREFIX.search(window[max(0, i - 40):i])):
                        found.add("f")
                        break
            # an error's value starts with "#", rare in a sheet's XML, and one byte is found at memchr speed
            if "e" not in found and b"#" in window and any(mark in window for mark in _ERROR_MARKS):
                found.add("e")
            if "hidden" not in found and _HIDDEN_MARK in window:
                found.add("hidden")
            if "merge" not in found and _MERGE_MARK in window:
                found.add("merge")
            tail = chunk[-64:]
    return found


def _ref_to_index(ref: str) -> tuple[int, int] | None:
    """(Excel row, 0-based column) of an A1 reference; None for anything else (the XML is untrusted,
    and xlsxwriter's parser answers (0, 0) with a warning for a reference it cannot read)."""
    if not _CELL_REF_RE.match(ref):
        return None
    row, col = xl_cell_to_rowcol(ref)
    return row + 1, col


def _merge_range(ref: str | None) -> tuple[int, int, int, int] | None:
    first, _, last = (ref or "").partition(":")
    a, b = _ref_to_index(first), _ref_to_index(last or first)
    if a is None or b is None:
        return None
    return min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])


def _is_hidden(value: str | bytes | None) -> bool:
    return value in ("1", "true", b"1", b"true")


def _full_scan(archive: zipfile.ZipFile, member: str, marks: SheetMarks) -> None:
    """Every mark, from an element-by-element parse (when the sheet has formulas, which
    need each cell's <f> and <v>; also the fallback of the fast scan)."""
    with archive.open(member) as fh:
        row_no, col_no = 0, -1
        has_f = has_v = False
        v_text = ""
        cell_type = None
        cell_pos: tuple[int, int] | None = None
        for event, el in ElementTree.iterparse(fh, events=("start", "end")):
            tag = el.tag.rpartition("}")[2]
            if event == "start":
                if tag == "row":
                    row_no = int(el.get("r", row_no + 1))
                    col_no = -1
                    if _is_hidden(el.get("hidden")):
                        marks.hidden_rows.add(row_no)
                elif tag == "c":
                    ref = el.get("r")
                    pos = _ref_to_index(ref) if ref else None
                    col_no = pos[1] if pos else col_no + 1
                    cell_pos = (pos[0] if pos else row_no, col_no)
                    has_f = has_v = False
                    v_text = ""
                    cell_type = el.get("t")
                elif tag == "mergeCell":
                    merged = _merge_range(el.get("ref"))
                    if merged is not None:
                        marks.merged.add(merged)
                continue
            if tag == "f":
                has_f = True
            elif tag == "v":
                has_v = True
                v_text = el.text or ""
            elif tag == "c":
                if cell_pos is not None:
                    if cell_type == "e":
                        marks.errors[cell_pos] = v_text.strip() or "#N/A"
                    elif has_f and (not has_v or (not v_text and cell_type != "str")):
                        marks.formulas_without_value.add(cell_pos)
                el.clear()
            elif tag == "row":
                el.clear()


_ELEMENT_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(c|row|mergeCell)[\s/>]")
_ATTR_R = re.compile(rb"""\sr\s*=\s*["']([^"']*)["']""")
_ATTR_REF = re.compile(rb"""\sref\s*=\s*["']([^"']*)["']""")
_ATTR_HIDDEN = re.compile(rb"""\shidden\s*=\s*["']([^"']*)["']""")
_CELL_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?c>|/>")
_V_TEXT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>([^<]*)<")
_MERGE_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*>")
#: How far back from a mark its element's start is looked for (a start tag is short).
_LOOKBACK = 4096


class _NeedFullScan(Exception):
    """An element the fast scan cannot place (no `r` attribute): use the full parse."""


def _fast_scan(archive: zipfile.ZipFile, member: str, present: set[str], marks: SheetMarks) -> None:
    """Error cells, hidden rows and merged ranges of a sheet without formulas, found by
    searching the XML for their marks and reading only the elements around them: a sheet
    of 50,000 rows takes about the time of inflating it, where parsing every element would
    take seconds. Raises _NeedFullScan for an element without a cell or row reference."""

    def element_at(buf: bytes, mark: int) -> tuple[int, bytes, bytes] | None:
        """(start, name, start tag) of the element whose start tag holds position `mark`;
        None when the tag does not end in `buf`; name b"" when it starts before `buf` (a
        window starts at most _LOOKBACK before the last one ended, so that element was
        read whole in the last window)."""
        gt = buf.find(b">", mark)
        if gt < 0:
            return None
        start = buf.rfind(b"<", max(0, mark - _LOOKBACK), mark)
        if start < 0:
            return (0, b"", b"")
        m = _ELEMENT_START.match(buf, start)
        return (start, m.group(1), buf[start:gt + 1]) if m else (start, b"", buf[start:gt + 1])

    def scan(buf: bytes, final: bool) -> int:
        """Record every complete mark in `buf`; return where the next window must start."""
        keep = max(0, len(buf) - _LOOKBACK) if not final else len(buf)
        if "e" in present:
            for mark in _ERROR_MARKS:
                i = buf.find(mark)
                while i >= 0:
                    found = element_at(buf, i)
                    end = _CELL_END.search(buf, i) if found and found[1] == b"c" else None
                    if found is None or (found[1] == b"c" and end is None):
                        keep = min(keep, max(0, i - _LOOKBACK))
                        break
                    start, name, tag = found
                    if name == b"c" and end is not None:
                        r = _ATTR_R.search(tag)
                        pos = _ref_to_index(r.group(1).decode("ascii", "replace")) if r else None
                        if pos is None:
                            raise _NeedFullScan
                        v = _V_TEXT.search(buf, start, end.end())
                        text = v.group(1).decode("utf-8", "replace").strip() if v else ""
                        marks.errors[pos] = text or "#N/A"
                    i = buf.find(mark, i + 1)
        if "hidden" in present:
            i = buf.find(_HIDDEN_MARK)
            while i >= 0:
                found = element_at(buf, i)
                if found is None:
                    keep = min(keep, max(0, i - _LOOKBACK))
                    break
                _, name, tag = found
                if name == b"row":
                    hidden = _ATTR_HIDDEN.search(tag)
                    if hidden and _is_hidden(hidden.group(1)):
                        r = _ATTR_R.search(tag)
                        if r is None or not r.group(1).isdigit():
                            raise _NeedFullScan
                        marks.hidden_rows.add(int(r.group(1)))
                i = buf.find(_HIDDEN_MARK, i + 1)
        if "merge" in present and _MERGE_MARK in buf:
            for m in _MERGE_ELEMENT.finditer(buf):
                ref = _ATTR_REF.search(m.group(0))
                merged = _merge_range(ref.group(1).decode("ascii", "replace")) if ref else None
                if merged is not None:
                    marks.merged.add(merged)
            last = buf.rfind(b"<")
            if last >= 0 and buf.find(b">", last) < 0:
                keep = min(keep, last)
        return keep

    buf = b""
    with archive.open(member) as fh:
        while chunk := fh.read(1 << 20):
            buf += chunk
            buf = buf[scan(buf, final=False):]
        scan(buf, final=True)


def scan_sheet_marks(path: Path, sheet: str) -> SheetMarks:
    """Formula cells without a value, Excel error cells, hidden rows and merged ranges of
    one sheet, from its XML. An ordinary sheet costs one stream through its XML with byte
    searches; only what the searches find is looked at closely."""
    marks = SheetMarks()
    try:
        with zipfile.ZipFile(path) as archive:
            member = _sheet_xml_path(archive, sheet)
            if member is None:
                return marks
            present = _marks_present(archive, member)
            if not present:
                return marks
            if "f" not in present:
                try:
                    _fast_scan(archive, member, present, marks)
                    return marks
                except _NeedFullScan:
                    marks = SheetMarks()
            _full_scan(archive, member, marks)
    except (zipfile.BadZipFile, ElementTree.ParseError, OSError):
        return marks
    return marks


def _put_error_texts(grid: list[list[object]], errors: Mapping[tuple[int, int], str], width: int) -> None:
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
        Finding(r, None, "hidden_row",
                f"row {r} is hidden (by a filter or by hand); it is checked and sent like every other row",
                Severity.WARNING)
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
            Finding(r, field_cols[0].key, "merged_cells",
                    f"merged cells {ref}: each row needs its own value; unmerge the cells and type the "
                    "value in every row")
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
            raise InputError(f"{path}: sheet {name!r} cannot be read: its cells are damaged (open the workbook in "
                             "Excel or LibreOffice and save it again)") from None
        key_row = _find_key_row(grid)
        if key_row is None and not any(not parse.is_blank(v) for row in grid for v in row):
            raise InputError(f"{path}: sheet {name!r} is empty")
        if key_row is None:
            raise InputError(
                f"{path}: sheet {name!r} has no key row (a row of column keys such as "
                f"name, db_use_type, engine_type) in its first {KEY_ROW_SEARCH} rows"
            )
        width = max((len(r) for r in grid), default=0)
        columns, findings = _map_columns(path, name, grid, key_row, width)
        meta = _template_meta(book)
        version, catalogue_sha256 = meta.get(META_VERSION_KEY), meta.get(META_CATALOGUE_KEY)
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
                findings.append(Finding(
                    excel_row, column.key, "formula_no_value",
                    f"cell {xl_col_to_name(column.index)}{excel_row} holds a formula with no saved value; "
                    "type the value itself (or open and save the file in Excel)",
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
        columns=columns,
        cells=cells,
        findings=findings,
        key_row=key_row + 1,
        source_rows=source_rows,
        formula_cells=formula_cells,
        error_columns={by_col[col].key for _, col in marks.errors if col in by_col},
    )


# --------------------------------------------------------------------------- writing

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


def same_file(a: Path, b: Path) -> bool:
    """True when both paths name the same file (symlinks and relative paths resolved)."""
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


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
) -> Path:
    """Write a results workbook: the operator's columns, then the appended result columns.

    `appended` maps an Excel row of `book` to the values of appended columns (`result`,
    `task_id`, ...); a results workbook read back keeps its earlier result columns unless
    `appended` gives a new value; `source_row` is added. `rows` limits the output to some
    rows (the failed-rows workbook). `row_results` colours rows when `appended` has no
    `result` value. Returns the path written. Refuses to write over the input.
    """
    with paused_gc():
        return _write_results(path, book, appended, findings, rows=rows, extra_sheets=extra_sheets,
                              row_results=row_results)


#: The note on a password cell of a failed-rows workbook that held a password (shown ******).
RETYPE_SECRET = ("The password is not written back ({mask}): type it again, or better write env:NAME "
                 "to read it from environment variable NAME when sending.")


def write_failed_rows(
    path: str | Path,
    book: WorkbookData,
    appended: Mapping[int, Mapping[str, object]],
    findings: Iterable[Finding],
    rows: Iterable[int],
    *,
    extra_sheets: Mapping[str, Sequence[Sequence[object]]] | None = None,
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
        raise InputError(f"{path}: refusing to overwrite the input workbook; choose another --out path")
    wanted = list(dict.fromkeys(rows))
    by_row: dict[int, dict[str, tuple[bool, str]]] = defaultdict(dict)
    for f in findings:
        if f.row is None or f.column not in fields.FIELDS:
            continue
        is_error = f.severity == Severity.ERROR
        known = by_row[f.row].get(f.column)
        text = f.sentence if is_error else f"Warning: {f.sentence}"
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
                row_notes.setdefault(key, (False, RETYPE_SECRET.format(mask=fields.SECRET_MASK)))
        new = appended.get(excel_row, {})
        extras = {name: new[name] if name in new else book.cells.value(excel_row, name) for name in extra}
        extras["source_row"] = book.source_row(excel_row)
        out_rows.append(row)
        notes.append(row_notes)
        values.append(extras)
    summary: list[list[object]] = []
    for sheet_rows in (extra_sheets or {}).values():
        styles = getattr(sheet_rows, "styles", None)
        if styles is None:
            summary = [list(r) for r in sheet_rows]
        else:
            summary = [["Failed rows of this campaign: fix them and submit this workbook again"]]
            summary += [list(r) for r, st in zip(sheet_rows, styles, strict=True) if st in ("fact", "banner")]
        break
    try:
        ordered = [n for n in NEAR_NAME if n in extra] + [n for n in extra if n not in NEAR_NAME]
        return write_fix_workbook(path, out_rows, extra_columns=ordered, extra_values=values, notes=notes,
                                  summary=summary)
    except InputError:
        raise
    except OSError as exc:  # pragma: no cover - write_fix_workbook maps OSError already
        raise InputError(f"{path}: cannot be written ({exc})") from None


def _write_results(
    path: str | Path,
    book: WorkbookData,
    appended: Mapping[int, Mapping[str, object]],
    findings: Iterable[Finding],
    *,
    rows: Iterable[int] | None,
    extra_sheets: Mapping[str, Sequence[Sequence[object]]] | None,
    row_results: Mapping[int, str] | None,
) -> Path:
    import xlsxwriter

    path = Path(path)
    if same_file(path, book.path):
        raise InputError(f"{path}: refusing to overwrite the input workbook; choose another --out path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{path}: cannot be written ({exc.strerror or exc})") from None

    wanted = set(rows) if rows is not None else None
    out_rows = [r for r in book.cells if wanted is None or r in wanted]
    operator_cols = [c for c in book.columns if c.kind != "result"]
    extra = _appended_names(book, appended)
    first_data = 2  # 0-based: row 1 labels, row 2 keys, data from row 3
    out_row_of = {r: first_data + i for i, r in enumerate(out_rows)}
    # Column layout: the operator's columns in their order, with the main result columns
    # right after the task name (where the eye is), the other appended columns at the end.
    name_pos = next((i for i, c in enumerate(operator_cols) if c.key == "name"), None)
    near = [n for n in NEAR_NAME if n in extra] if name_pos is not None else []
    rest = [n for n in extra if n not in near]
    layout: list[tuple[str, str, Column | None]] = [(c.label, c.key, c) for c in operator_cols]
    if name_pos is not None:
        layout[name_pos + 1:name_pos + 1] = [(n, n, None) for n in near]
    layout += [(n, n, None) for n in rest]
    col_of = {key: i for i, (_, key, _) in enumerate(layout)}
    last_col = len(layout) - 1
    findings = list(findings)
    by_cell: dict[tuple[int, str | None], list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.row is not None and finding.row in out_row_of:
            by_cell[(finding.row, finding.column if finding.column in col_of else None)].append(finding)

    try:
        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                             "strings_to_urls": False, "strings_to_numbers": False,
                                             "default_format_properties": TEXT_DEFAULT_FORMAT})
    except Exception as exc:  # pragma: no cover - xlsxwriter opens lazily; kept for odd file systems
        raise InputError(f"{path}: cannot be written ({exc})") from None
    fmts = _Formats(wb)
    ws = wb.add_worksheet(TASK_SHEET)
    # The header rows, the task name and the first result columns stay in view when scrolling.
    frozen = [col_of[n] for n in FROZEN_WITH_NAME if n in col_of and name_pos is not None]
    if name_pos is not None and name_pos <= 3:
        ws.freeze_panes(first_data, max([name_pos, *frozen]) + 1)
    else:
        ws.freeze_panes(first_data, 0)
    # Per column: its index, field, text format, and for secrets and enums (whose shown value
    # differs from the cell) a memo of shown value by cell text: a column holds few distinct
    # values (env:NAME references, allowed values), and this runs on every cell.
    plan_of: dict[str, tuple[int, fields.Field | None, dict[str, object] | None]] = {}
    for c in operator_cols:
        i = col_of[c.key]
        f = fields.FIELDS.get(c.key) if c.kind == "field" else None
        ws.set_column(i, i, _operator_width(book, c, f))
        special = f is not None and (f.secret or f.kind is fields.Kind.ENUM)
        shown: dict[str, object] | None = None
        if special:
            shown = {v: v for v in f.allowed} if f.kind is fields.Kind.ENUM else {}  # type: ignore[union-attr]
        plan_of[c.key] = (i, f, shown)
    for name in extra:
        ws.set_column(col_of[name], col_of[name], RESULT_WIDTHS.get(name, 16))
    all_keys = book.cells.column_keys  # the order of every row's tuple
    plans = [plan_of.get(k) for k in all_keys]  # None: an input result column, rewritten below

    # constant_memory: a row is final once a later row is written, so row 1 first, then row 2.
    for i, (label, _, _) in enumerate(layout):
        ws.write_string(0, i, label, fmts.header)
    for i, (_, key, _) in enumerate(layout):
        ws.write_string(1, i, key, fmts.key_header)
    # A filter on the key row: show only the INVALID, REJECTED or failed rows.
    ws.autofilter(1, 0, first_data + max(len(out_rows), 1) - 1, last_col)
    banner = next((getattr(v, "banner", None) for v in (extra_sheets or {}).values()
                   if getattr(v, "banner", None)), None)
    if banner:  # a rehearsal: its task sheet says so when printed, and its tab is red
        ws.set_header(f"&C&14&B{banner.replace('&', '&&')}")
        ws.set_tab_color("#C62828")

    # Rows are tinted by their result. A format on every cell costs a fifth of the write, so
    # the tint comes from one conditional format per colour keyed on the `result` column;
    # only rows with a red (error) cell - INVALID rows - are formatted cell by cell, because a
    # conditional fill would paint over their red cells.
    by_conditional = "result" in col_of and bool(out_rows)
    if by_conditional:
        _tint_by_result(wb, ws, first_data, first_data + len(out_rows) - 1, last_col,
                        xl_col_to_name(col_of["result"]),
                        xl_col_to_name(col_of["task_status"]) if "task_status" in col_of else None)
    by_row: dict[int, dict[str | None, list[Finding]]] = defaultdict(dict)
    for (excel_row, column), cell_findings in by_cell.items():
        by_row[excel_row][column] = cell_findings
    comment_size = {"x_scale": 2.5, "y_scale": 1.5}
    extra_cols = [(name, col_of[name]) for name in extra]
    comments = 0
    write_string, write_number = ws.write_string, ws.write_number
    for excel_row in out_rows:
        r = out_row_of[excel_row]
        raw = book.cells.values_of(excel_row)
        new = appended.get(excel_row, {})
        values_extra = {name: new[name] if name in new else book.cells.value(excel_row, name) for name in extra}
        values_extra["source_row"] = book.source_row(excel_row)
        result = values_extra.get("result")
        if (result is None or result == "") and row_results:
            result = row_results.get(excel_row)
        tint = row_tint(result, values_extra.get("task_status")) if result else None
        row_findings = by_row.get(excel_row)
        direct = tint is not None and not (by_conditional and str(result) in _CONDITIONAL_RESULTS
                                           and str(values_extra.get("result")) == str(result))
        if direct:
            plain = fmts.cell(tint)
            ws.set_row(r, None, plain)  # blank cells of the row show the tint too
        else:
            plain = None
        # The hot loop (every cell of the sheet): only non-blank cells and cells with a
        # finding are written; strings go through write_string, never write(). A row with no
        # finding (most rows) takes the short path: its non-blank cells picked out in C.
        if row_findings is None:
            for info, value in compress(zip(plans, raw, strict=True), map(ne, raw, repeat(""))):
                if info is None:
                    continue  # a result column of a results workbook: rewritten below
                i, f, shown = info
                if shown is not None:
                    value = shown.get(value) or _shown_value(shown, f, value)  # type: ignore[call-overload]
                kind = type(value)
                if kind is str:
                    write_string(r, i, value, plain)
                elif kind is float or kind is int:
                    write_number(r, i, value, plain)
                else:
                    _write_value(ws, r, i, value, plain)
        else:
            for key, value in zip(all_keys, raw, strict=True):
                if value == "":
                    if key not in row_findings:
                        continue
                    value = None
                info = plan_of.get(key)
                if info is None:
                    continue
                i, f, shown = info
                if shown is not None:
                    value = shown.get(value) or _shown_value(shown, f, value)  # type: ignore[call-overload]
                found = row_findings.get(key)
                if found:
                    fmt = fmts.cell(ERROR_FILL if any(x.severity == Severity.ERROR for x in found) else WARNING_FILL)
                else:
                    fmt = plain
                if type(value) is str:
                    write_string(r, i, value, fmt)
                else:
                    _write_value(ws, r, i, value, fmt)
                if found and comments < MAX_COMMENTS:
                    ws.write_comment(r, i, _comment(found), comment_size)
                    comments += 1
        for name, col in extra_cols:
            value = values_extra[name]
            if (value is None or value == "") and plain is None:
                continue  # nothing to show and no tint to carry
            _write_value(ws, r, col, value, fmts.cell(tint if plain is not None else None, wrap=True)
                         if name == "error_msg" else plain)
        if row_findings and None in row_findings and comments < MAX_COMMENTS:
            ws.write_comment(r, col_of[extra[0]], _comment(row_findings[None]), comment_size)
            comments += 1

    _write_findings_sheet(wb, fmts, book, findings, out_row_of, col_of)
    for sheet_name, sheet_rows in (extra_sheets or {}).items():
        _write_extra_sheet(wb, fmts, sheet_name, sheet_rows)
    if book.template_version:
        meta = wb.add_worksheet(META_SHEET)
        meta.write_string(0, 0, META_VERSION_KEY)
        meta.write_string(0, 1, book.template_version)
        if book.catalogue_sha256:  # so a copy of a stale workbook is still known stale
            meta.write_string(1, 0, META_CATALOGUE_KEY)
            meta.write_string(1, 1, book.catalogue_sha256)
        meta.hide()
    try:
        wb.close()
    except Exception as exc:
        raise InputError(f"{path}: cannot be written ({exc})") from None
    return path


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


def _comment(findings: Sequence[Finding]) -> str:
    """A cell's note: one sentence per finding (warnings say so); codes are on the Findings sheet."""
    lines = [f.sentence if f.severity == Severity.ERROR else f"Warning: {f.sentence}" for f in findings]
    text = "\n".join(lines)
    return text if len(text) <= 32_000 else text[:31_997] + "..."


def _write_findings_sheet(
    wb, fmts: _Formats, book: WorkbookData, findings: Sequence[Finding],
    out_row_of: Mapping[int, int], col_of: Mapping[str, int],
) -> None:
    """One line per finding, each with a link to its cell in the Jobs sheet."""
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
        ws.write_string(r, 6, f.sentence)
        r += 1
