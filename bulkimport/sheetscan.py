"""The sheet-XML scan: what a cell reader does not tell about a sheet.

python-calamine reads a formula saved without a value as an empty cell and an Excel error
cell (#N/A, #REF!, ...) as blank, and it says nothing of hidden rows or merged ranges. This
module finds them in the sheet's XML. Every file pays one stream through the XML with byte
searches (`_marks_present`); only when they find something is it looked at closely: by
reading just the elements around each mark (`_fast_scan`), or, when the sheet has formulas
(which need each cell's <f> and <v>), by an element-by-element parse (`_full_scan`).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from xlsxwriter.utility import xl_cell_to_rowcol

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
