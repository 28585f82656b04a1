"""Every file a command will write is known and proven writable before anything is sent.

A command that creates tasks and only then finds it cannot write its results leaves the
operator with tasks and no record of them, and with an exit code that says nothing was sent.
So each command lists its outputs (results workbook, failed rows, report folder, ledger,
dry-run file) and calls `check_outputs` before its first request: every folder is created and
a probe file is opened and removed in it, two outputs on one path and an output that is the
input are refused, and a file that holds an operator's work is never replaced without
`--force`. A failure is an `InputError`: one line, exit 2, nothing sent.

`replace_problem` is the one statement of "which existing file may be replaced": a workbook
this tool wrote (it has the appended `result` column), or one with no task rows (a blank
template). Anything else — a filled task workbook, a text file — is the operator's.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bulkimport.errors import InputError, Phrase

#: What an output is, which decides the checks it gets.
WORKBOOK = "workbook"  # replaced only when it is one of the tool's outputs (or --force)
FILE = "file"  # a derived file (report, dry-run bodies): must be writable
FOLDER = "folder"  # created, then probed
LEDGER = "ledger"  # created when missing, appended to when present: never "replaced"

_PROBE_PREFIX = ".bulkimport-probe-"
#: The key row of a task sheet (row 2): the tool finds columns by it.
_KEY_ROW = 1


@dataclass(frozen=True)
class Output:
    """One path a command will write. `label` names it in messages the way the operator knows
    it (`--out`, `--report-dir`, `failed-rows workbook`); `suffixes`, when given, are the only
    extensions allowed (checked on names the operator chose)."""

    path: Path
    label: str
    kind: str = FILE
    suffixes: tuple[str, ...] = ()
    #: LEDGER only: create the folder when the ledger does not exist yet (submit), or leave a
    #: missing ledger alone (status and rollback never create one).
    create: bool = True


def _resolved(path: Path) -> Path:
    return Path(os.path.abspath(path.expanduser()))


def same_file(a: Path, b: Path) -> bool:
    """True when both paths name the same file (symlinks, relative paths and ~ resolved)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return _resolved(a) == _resolved(b) or a.resolve() == b.resolve()


def _blocking_file(folder: Path) -> Path | None:
    """The first part of `folder` that exists and is not a folder (so nothing can go below it)."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


def prove_folder(folder: Path, label: str, shown: Path | None = None) -> None:
    """Create `folder` (and its parents) and open-and-remove a probe file in it; InputError
    naming `label` when either fails."""
    shown = shown if shown is not None else folder
    blocker = _blocking_file(folder)
    if blocker is not None:
        raise InputError("{label} {path}: {blocker} is a file, not a folder; choose another path", label=label,
                         path=shown, blocker=blocker)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=_PROBE_PREFIX, dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise InputError("{label} {path}: cannot write in {folder} ({reason}); choose a writable folder",
                         label=label, path=shown, folder=folder, reason=exc.strerror or exc) from None


def _task_sheet_rows(path: Path) -> tuple[bool, int] | None:
    """(has result columns, filled data rows) of an existing workbook's task sheets; None when
    the file is not a readable workbook. A task sheet is one whose row 2 holds catalogue keys
    (the `Jobs` sheet or the first sheet when none does, as `template` always judged)."""
    from python_calamine import CalamineWorkbook

    from bulkimport import fields

    keys = set(fields.KEYS)
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
        has_results = False
        filled = 0
        task_sheets = 0
        for name in names:
            rows = book.get_sheet_by_name(name).iter_rows()
            head = [next(rows, []), next(rows, [])]
            key_row = {str(c).strip() for c in head[_KEY_ROW] if c not in ("", None)}
            if len(key_row & keys) < 2:  # the Fields sheet names one key per row, not a key row
                continue
            task_sheets += 1
            if "result" in key_row:
                has_results = True
                continue
            filled += sum(1 for row in rows if any(c not in ("", None) for c in row))
        if not has_results and "Summary" in names:
            has_results = _written_by_this_tool(path)
        if not task_sheets and names:
            jobs = next((n for n in names if n.lower() == "jobs"), names[0])
            grid = book.get_sheet_by_name(jobs).to_python(skip_empty_area=True)
            filled = sum(1 for row in grid[_KEY_ROW + 1:] if any(c not in ("", None) for c in row))
    except Exception:  # calamine raises its own error types for anything that is not a workbook
        return None
    return has_results, filled


def _written_by_this_tool(path: Path) -> bool:
    """A `Summary` sheet holding campaign facts with the command that wrote it: every results
    and failed-rows workbook carries one (read by the report's own reader, the one source of
    truth for that sheet), an operator's task workbook does not."""
    from bulkimport.report import read_summary_facts

    try:
        facts = read_summary_facts(path)
    except Exception:
        return False
    return facts is not None and bool(facts.command.strip())


def filled_rows(path: str | Path) -> int | None:
    """Rows below the two header rows of an existing workbook's task sheets that hold anything
    (0 for a results workbook: its rows are the tool's output); None for a non-workbook."""
    found = _task_sheet_rows(Path(path))
    if found is None:
        return None
    has_results, filled = found
    return 0 if has_results else filled


def replace_problem(path: str | Path, label: str = "--out") -> Phrase | None:
    """Why the existing file at `path` (the output `label`) must not be replaced without --force,
    or None when it may be (it does not exist, it is a workbook this tool wrote, or a workbook
    with no task rows). A `Phrase`: the refusal is said in the run's language."""
    path = Path(path)
    if not path.exists():
        return None
    if path.is_dir():
        return Phrase("{label} {path} is a folder; give a file name", label=label, path=path)
    rows = filled_rows(path)
    if rows is None:
        return Phrase("{label} {path} exists and is not a workbook; not replacing it (choose another path, or --force)",
                    label=label, path=path)
    if rows:
        return Phrase("{label} {path} holds {n} filled task row(s) and no result columns: it is an operator's "
                    "workbook, not one of this tool's outputs; not replacing it (choose another path, or --force)",
                    label=label, path=path, n=rows)
    return None


_SQLITE_HEADER = b"SQLite format 3\x00"


def sqlite_problem(path: str | Path, label: str = "--ledger") -> Phrase | None:
    """Why an existing file cannot be a SQLite database (the ledger, the simulator's state), or
    None (missing, empty, or starting with SQLite's header). Read before any connection, so a
    workbook given as --ledger is refused instead of failing deep inside sqlite3."""
    path = Path(path)
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return None
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_HEADER))
    except OSError as exc:
        return Phrase("{label} {path}: cannot be read ({reason})", label=label, path=path, reason=exc.strerror or exc)
    if head != _SQLITE_HEADER:
        return Phrase("{label} {path} is not a SQLite database; choose another path", label=label, path=path)
    return None


def check_outputs(outputs: Sequence[Output], *, inputs: Iterable[str | Path] = (), force: bool = False) -> None:
    """Prove every output writable before the first request (InputError, exit 2, otherwise).

    Refuses: an output that is an input; two outputs on one path; a disallowed extension; an
    existing workbook that holds an operator's work (unless `force`); an existing file or a
    folder that cannot be written. Folders are created (that is part of the proof).
    """
    sources = [Path(p) for p in inputs]
    seen: dict[Path, Output] = {}
    for output in outputs:
        path = Path(output.path)
        for source in sources:
            if same_file(path, source):
                raise InputError("{label} {path} is the input workbook; refusing to overwrite it (choose another "
                                 "path)", label=output.label, path=path)
        key = _resolved(path)
        other = seen.get(key)
        if other is not None:
            raise InputError("{label} and {other} are the same path ({path}); each output needs its own",
                             label=other.label, other=output.label, path=path)
        seen[key] = output
        if output.suffixes and path.suffix.lower() not in output.suffixes:
            allowed = " or ".join(output.suffixes)
            raise InputError("{label} {path}: the name must end in {allowed}", label=output.label, path=path,
                             allowed=allowed)
    for output in outputs:
        _check_one(output, force)


def _check_one(output: Output, force: bool) -> None:
    path = Path(output.path)
    label = output.label
    if output.kind == FOLDER:
        if path.exists() and not path.is_dir():
            raise InputError("{label} {path} is a file, not a folder; choose another path", label=label, path=path)
        prove_folder(path, label)
        return
    if path.is_dir():
        raise InputError("{label} {path} is a folder; give a file name", label=label, path=path)
    if output.kind == LEDGER:
        if not output.create and not path.exists():
            return  # nothing will be written there
        problem = sqlite_problem(path, label)
        if problem is not None:
            raise InputError(problem)
    prove_folder(path.parent, label, shown=path)
    if path.exists():
        if not os.access(path, os.W_OK):
            raise InputError("{label} {path}: the file is not writable; choose another path", label=label, path=path)
        if output.kind == WORKBOOK and not force:
            problem = replace_problem(path, label)
            if problem is not None:
                raise InputError(problem)


def write_failed(what: str, exc: OSError, *, ledger: Path | None, rebuild: str) -> Phrase:
    """The one line for an output that could not be written after requests were sent (disk
    full): the ledger already holds every outcome, so it says where and how to rebuild. `what`
    and `rebuild` are texts of the terminal's table (terminal._ZH), said in the run's language."""
    reason = exc.strerror or str(exc)
    if ledger is not None:
        return Phrase("could not write the {what} ({reason}); the ledger {ledger} holds every outcome: {rebuild}",
                      what=Phrase(what), reason=reason, ledger=ledger, rebuild=Phrase(rebuild))
    return Phrase("could not write the {what} ({reason}); nothing was lost on the server: {rebuild}",
                  what=Phrase(what), reason=reason, rebuild=Phrase(rebuild))
