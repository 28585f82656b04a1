"""Sheets whose used area is far larger than their data, trimmed before the reader sees them.

python-calamine holds a sheet as one dense block from A1 to its last cell (about 32 bytes a
cell), and the Python grid it returns is as big again. A column filled with spaces down to
row 1,000,000 under three real task rows therefore cost 2.6 GB; a single stray value in
XFD1048576 asks for hundreds of GB. Rows blank after trimming are dropped while reading
anyway, so they are dropped here first: a sheet whose declared area (its `<dimension>`, in
the first bytes of its XML) is beyond DENSE_CELLS is copied without its rows that hold
nothing but blanks and spaces, into an in-memory workbook the reader opens instead. If its
real data still spans more than MAX_DENSE_CELLS, the workbook is refused in one line.

Ordinary workbooks (their area is under DENSE_CELLS, e.g. 100,000 rows of 58 columns) pay
for reading the first few KB of each sheet's XML, nothing more.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from bulkimport.errors import InputError

#: A sheet whose declared area (rows x columns from A1) exceeds this is trimmed: 200,000
#: rows of 60 columns, about 400 MB in the reader.
DENSE_CELLS = 12_000_000
#: A trimmed sheet whose rows holding data still span more than this is refused (about 1 GB
#: in the reader, and again as much in Python).
MAX_DENSE_CELLS = 30_000_000

_P = rb"(?:[A-Za-z_][\w.-]*:)?"
_DIMENSION = re.compile(rb"<" + _P + rb"""dimension\s[^>]*?ref\s*=\s*["']([A-Z]+\d+)(?::([A-Z]+\d+))?["'][^>]*>""")
_SHEETDATA_OPEN = re.compile(rb"<" + _P + rb"sheetData\b[^>]*?(/?)>")
_SHEETDATA_CLOSE = re.compile(rb"</" + _P + rb"sheetData>")
_ROW = re.compile(rb"<" + _P + rb"row\b[^>]*?(?:/>|>.*?</" + _P + rb"row>)", re.S)
_CELL = re.compile(rb"<" + _P + rb"c\b([^>]*?)(?:/>|>(.*?)</" + _P + rb"c>)", re.S)
_TYPE = re.compile(rb"""\st\s*=\s*["'](\w+)["']""")
_REF = re.compile(rb"""\sr\s*=\s*["']([A-Z]+)(\d+)["']""")
_ROW_NUMBER = re.compile(rb"""\sr\s*=\s*["'](\d+)["']""")
_V = re.compile(rb"<" + _P + rb"v>([^<]*)<")
_T = re.compile(rb"<" + _P + rb"t(?:\s[^>]*)?>([^<]*)<")
_F = re.compile(rb"<" + _P + rb"f[\s>/]")
_WORKSHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$")


def _index(ref: bytes) -> tuple[int, int]:
    """(row, 0-based column) of a cell reference such as b"BF12"."""
    letters = ref.rstrip(b"0123456789")
    col = 0
    for ch in letters:
        col = col * 26 + ch - 64
    return int(ref[len(letters):]), col - 1


def declared_area(archive: zipfile.ZipFile, member: str) -> int:
    """Rows x columns from A1 to the end of the sheet's `<dimension>` (0 when absent)."""
    with archive.open(member) as fh:
        head = fh.read(16 << 10)
    m = _DIMENSION.search(head)
    if not m:
        return 0
    row, col = _index(m.group(2) or m.group(1))
    return row * (col + 1)


def trimmed_copy(path: Path) -> io.BytesIO | None:
    """An in-memory copy of the workbook with its oversized sheets trimmed, or None when no
    sheet needs it. Raises InputError when a sheet's real data is itself too large."""
    try:
        with zipfile.ZipFile(path) as archive:
            sheets = [n for n in archive.namelist() if _WORKSHEET.match(n)]
            big = {n for n in sheets if declared_area(archive, n) > DENSE_CELLS}
            if not big:
                return None
            blank = _blank_shared_strings(archive)
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
                for info in archive.infolist():
                    stored = zipfile.ZipInfo(info.filename, info.date_time)
                    if info.filename in big:
                        copy.writestr(stored, _trim_sheet(path, archive, info.filename, blank))
                    else:
                        copy.writestr(stored, archive.read(info))
    except (zipfile.BadZipFile, OSError, ElementTree.ParseError, ValueError):
        return None  # the reader reports a damaged file in its own words
    out.seek(0)
    return out


def _blank_shared_strings(archive: zipfile.ZipFile) -> frozenset[int]:
    """Indexes of the shared strings that are blank after trimming (" ", tabs, NBSP...)."""
    name = _shared_strings_member(archive)
    if name is None:
        return frozenset()
    blank: set[int] = set()
    with archive.open(name) as fh:
        index = 0
        for _, el in ElementTree.iterparse(fh, events=("end",)):
            if el.tag.rpartition("}")[2] != "si":
                continue
            text = "".join(t.text or "" for t in el.iter() if t.tag.rpartition("}")[2] == "t")
            if not text.strip():
                blank.add(index)
            index += 1
            el.clear()
    return frozenset(blank)


def _shared_strings_member(archive: zipfile.ZipFile) -> str | None:
    try:
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        rels = None
    for rel in rels if rels is not None else ():
        if rel.get("Type", "").endswith("/sharedStrings"):
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
    return "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in archive.namelist() else None


def _cell_has_value(attrs: bytes, body: bytes | None, blank: frozenset[int]) -> bool:
    if not body:
        return False
    if _F.search(body):
        return True  # a formula: its row is kept (a formula without a value is reported)
    kind = _TYPE.search(attrs)
    t = kind.group(1) if kind else b"n"
    if t == b"inlineStr":
        return bool(b"".join(_T.findall(body)).decode("utf-8", "replace").strip())
    v = _V.search(body)
    if v is None:
        return False
    if t == b"s":
        return not v.group(1).strip().isdigit() or int(v.group(1)) not in blank
    if t == b"str":
        return bool(v.group(1).decode("utf-8", "replace").strip())
    return True  # numbers, booleans, dates, errors


def _windows(archive: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    with archive.open(member) as fh:
        while chunk := fh.read(1 << 20):
            yield chunk


def _rows(buf: bytes) -> tuple[list[bytes], int]:
    """The complete rows at the start of `buf` (each with what precedes it up to the last
    row's end: whitespace, or a self-closing empty row) and where the incomplete rest
    begins. Splitting on `</row>` runs in C; a sheet written with a namespace prefix
    (`</x:row>`) takes the regex."""
    if b"</row>" in buf or b":row>" not in buf:
        parts = buf.split(b"</row>")
        rest = parts.pop()
        return [p + b"</row>" for p in parts], len(buf) - len(rest)
    rows = [m.group(0) for m in _ROW.finditer(buf)]
    end = 0
    for m in _ROW.finditer(buf):
        end = m.end()
    return rows, end


def _trim_sheet(path: Path, archive: zipfile.ZipFile, member: str, blank: frozenset[int]) -> bytes:
    """The sheet's XML without its `<dimension>` and without rows holding only blanks."""
    out = bytearray()
    buf = b""
    state = "head"
    last_row = max_col = 0
    seen: dict[bytes, bool] = {}
    for chunk in _windows(archive, member):
        buf += chunk
        if state == "head":
            m = _SHEETDATA_OPEN.search(buf)
            if m is None:
                continue
            out += _DIMENSION.sub(b"", buf[:m.end()])
            buf = buf[m.end():]
            state = "tail" if m.group(1) else "rows"
        if state == "rows":
            close = _SHEETDATA_CLOSE.search(buf)
            rows, used = _rows(buf if close is None else buf[:close.start()])
            for row in rows:
                start = row.find(b"<")
                number = _ROW_NUMBER.search(row, start, row.find(b">", start))
                # Junk rows repeat one shape but for their row number, which ends every r
                # attribute (r="7", r="A7"): judged once per shape.
                shape = row.replace(number.group(1) + b'"', b'"') if number else row
                verdict = seen.get(shape)
                if verdict is None:
                    verdict = seen[shape] = any(_cell_has_value(c.group(1), c.group(2), blank)
                                                for c in _CELL.finditer(row))
                if not verdict:
                    continue
                out += row
                last_row = int(number.group(1)) if number else last_row + 1
                for cell in _CELL.finditer(row):
                    if _cell_has_value(cell.group(1), cell.group(2), blank):
                        ref = _REF.search(cell.group(1))
                        max_col = max(max_col, _index(ref.group(1) + ref.group(2))[1] if ref else 0)
            if close is not None:
                out += buf[close.start():]
                buf = b""
                state = "tail"
            else:
                buf = buf[used:]
        elif state == "tail":
            out += buf
            buf = b""
    out += buf
    if last_row * (max_col + 1) > MAX_DENSE_CELLS:
        raise InputError("{path}: refused: a sheet's data spans {rows} rows and {columns} columns ({cells} cells; the "
                         "limit is {most}): delete the stray cells far below or to the right of your data", path=path,
                         rows=f"{last_row:,}", columns=f"{max_col + 1:,}", cells=f"{last_row * (max_col + 1):,}",
                         most=f"{MAX_DENSE_CELLS:,}")
    return bytes(out)
