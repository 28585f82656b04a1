"""The zip check every .xlsx passes before a spreadsheet library opens it.

An .xlsx is a zip archive, and a zip can be built to inflate a 1 MB file into gigabytes
(a "zip bomb"): python-calamine inflates `sharedStrings.xml` in full when it opens a
workbook, so a crafted 1 MB file took 3.2 GB of memory and, under a memory limit, ended in
a Rust abort. Here only the archive's directory is read (a few KB): the file is refused in
one line if any member, or all of them together, would inflate beyond the limits below.

The sizes the directory declares bound what either reader inflates: python-calamine stops a
member that inflates beyond its declared size ("File is larger than its declared
uncompressed size", with no memory spent), and so does Python's zipfile; a test keeps it so.

The limits are generous for real workbooks. Measured: the benchmark's 50,000-row workbook
(24 of 58 columns filled) has a 71 MB sheet at 14.6:1; 100,000 rows with all 58 columns
holding the same text, the most compressible real sheet we could make, 318 MB at 24:1 with
inline strings, 192 MB at 16.5:1 with shared strings; 1,000,000 formatted empty rows 44 MB
at 8.8:1. Deflate cannot do better than about 1032:1, and bombs sit near that.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from bulkimport.errors import InputError

#: Members of the archive (a workbook has a few dozen; each sheet, image, chart is one).
MAX_MEMBERS = 10_000
#: Inflated size of one member: the biggest sheet of 100,000 full rows is about 320 MB.
MAX_MEMBER_BYTES = 512 << 20
#: Inflated size of all members together.
MAX_TOTAL_BYTES = 1 << 30
#: Inflated / compressed size of a member bigger than RATIO_FLOOR_BYTES: real sheets and
#: shared strings compress 3-25:1, bombs near 1000:1.
MAX_RATIO = 100
#: Small members (styles, empty sheets) may compress any amount: too small to matter.
RATIO_FLOOR_BYTES = 1 << 20


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} bytes"


def check_archive(path: Path) -> None:
    """Refuse (InputError, exit 2) an archive that is damaged or would inflate beyond the
    limits; it reads the zip's directory only, so it costs nothing on real workbooks."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise InputError("{path}: cannot be read: it is not a complete .xlsx file (a damaged or truncated zip "
                         "archive)", path=path) from None
    except OSError as exc:
        raise InputError("{path}: cannot be read ({reason})", path=path, reason=exc.strerror or exc) from None
    if len(infos) > MAX_MEMBERS:
        raise InputError("{path}: refused: the archive holds {n} files (a workbook has a few dozen; the limit is "
                         "{most})", path=path, n=f"{len(infos):,}", most=f"{MAX_MEMBERS:,}")
    total = 0
    for info in infos:
        _check_declared(path, info)
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise _too_big(path, f"its files would inflate to more than {_size(MAX_TOTAL_BYTES)} together")


def _too_big(path: Path, why: str) -> InputError:
    return InputError("{path}: refused as a zip bomb: {why}; a real workbook is far smaller (see "
                      "docs/validation.md for the limits)", path=path, why=why)


def _check_declared(path: Path, info: zipfile.ZipInfo) -> None:
    if info.flag_bits & 0x1:
        raise InputError("{path}: cannot be read: {member} inside it is encrypted", path=path, member=info.filename)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise InputError("{path}: cannot be read: {member} inside it uses compression method {method}, which Excel "
                         "and LibreOffice never write", path=path, member=info.filename, method=info.compress_type)
    if info.file_size > MAX_MEMBER_BYTES:
        raise _too_big(path, f"{info.filename} would inflate to {_size(info.file_size)} "
                             f"(limit {_size(MAX_MEMBER_BYTES)})")
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(1, info.compress_size):
        ratio = info.file_size / max(1, info.compress_size)
        raise _too_big(path, f"{info.filename} would inflate {ratio:,.0f}:1, from {_size(info.compress_size)} "
                             f"to {_size(info.file_size)} (limit {MAX_RATIO}:1)")
