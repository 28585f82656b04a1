"""The `validate` command's library: read a workbook, parse every cell, run every rule.

`validate_workbook` is what `submit` builds on: it returns the typed rows (ready for the
payload builder) beside every finding, so a row is sent only when no error names it.
`annotate` writes the operator's annotated copy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bulkimport import fields, parse, schema
from bulkimport.book_read import LazyRows, WorkbookData, paused_gc, read_workbook
from bulkimport.errors import InputError
from bulkimport.findings import EN, Finding, Label, Severity, language_of, msg, row_errors
from bulkimport.outcomes import Result
from bulkimport.outputs import WORKBOOK, Output, check_outputs, same_file
from bulkimport.results_book import write_results
from bulkimport.sheetscan import EXCEL_ERRORS

#: Default location of the annotated copy, relative to the current directory.
REPORTS_DIR = "reports"


@dataclass
class Validation:
    """Everything validate learned about one workbook."""

    book: WorkbookData
    #: Excel row -> typed row (every catalogue key present; None for blank), input order.
    rows: Mapping[int, dict[str, object]]
    findings: list[Finding]
    #: Excel rows with at least one error.
    invalid: set[int] = field(default_factory=set)
    #: The language messages are written in (comments, error_msg, terminal, --json): the
    #: workbook's template language unless `--language` chose another.
    language: str = EN

    def valid_rows(self) -> dict[int, dict[str, object]]:
        """The rows that may be sent, in input order."""
        return {r: row for r, row in self.rows.items() if r not in self.invalid}

    def result_of(self, row: int) -> Result:
        return Result.INVALID if row in self.invalid else Result.VALID

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.WARNING]

    def counts(self) -> dict[str, int]:
        """Findings by code, most frequent first."""
        return dict(Counter(f.code for f in self.findings).most_common())

    def row_messages(self) -> dict[int, str]:
        """Per row, its error sentences joined: the `error_msg` column of the annotated copy."""
        return {r: text for r, (_, text) in row_errors(self.findings, self.language).items()}

    def to_dict(self) -> dict[str, object]:
        """The `--json` document: counts and every finding (never a secret)."""
        return {
            "workbook": str(self.book.path),
            "sha256": self.book.sha256,
            "sheet": self.book.sheet_name,
            "template_version": self.book.template_version,
            "language": self.language,
            "rows": len(self.rows),
            "valid": len(self.rows) - len(self.invalid),
            "invalid": len(self.invalid),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "counts": self.counts(),
            "findings": [
                {**f.to_dict(self.language), "source_row": self.book.source_row(f.row) if f.row is not None else None}
                for f in self.findings
            ],
        }


class TypedRows(LazyRows):
    """Excel row -> typed row (every catalogue key, in catalogue order), over the parsed columns.

    A row's dict is built when it is first asked for and then kept: validate itself looks
    only at the rows a rule fails on, so building 50,000 dicts up front would be a tenth of
    its own work (and their memory); submit asks for every valid row anyway.
    """

    def __init__(self, row_numbers: list[int], columns: Mapping[str, list[object]]) -> None:
        self._position: dict[int, int] = {r: i for i, r in enumerate(row_numbers)}
        self._by_row = self._position
        self._columns = [columns[k] for k in fields.KEYS]
        self._built: dict[int, dict[str, object]] = {}

    def __getitem__(self, row: int) -> dict[str, object]:
        built = self._built.get(row)
        if built is None:
            i = self._position[row]
            built = self._built[row] = dict(zip(fields.KEYS, [c[i] for c in self._columns], strict=True))
        return built


def _parse_columns(
    book: WorkbookData,
) -> tuple[TypedRows, list[Finding], dict[str, list[object]]]:
    """Parse column by column (the typed columns feed the schema's frame directly).

    This touches every cell of the sheet, so it goes through `parse.parse_column`, the
    column-at-a-time entry of the one parser.
    """
    row_numbers = list(book.cells)
    n = len(row_numbers)
    findings: list[Finding] = []
    columns: dict[str, list[object]] = {}
    keys = book.field_keys
    raw_columns = book.cells.columns(keys)
    reported = set(book.formula_cells)
    # Error cells are known from the sheet's XML; a results copy shows them as text, so its
    # columns are searched for the texts (not every workbook's: that is a tenth of reading).
    copy = any(c.kind == "result" for c in book.columns)
    for key in keys:
        f = fields.FIELDS[key]
        values = raw_columns.pop(key)
        if key in book.error_columns or (copy and not _EXCEL_ERRORS.isdisjoint(values)):
            values = _excel_errors(f, values, row_numbers, findings, reported)
        out, errors = parse.parse_column(f, values)
        for i, exc in errors.items():
            findings.append(Finding.of(row_numbers[i], key, exc.code,
                                       msg("labelled", label=Label(f.key), text=exc.text)))
        columns[key] = out
    for f in fields.CATALOGUE:
        column = columns.setdefault(f.key, [None] * n)
        if f.default is None:
            continue
        for i, value in enumerate(column):
            if value is None and (row_numbers[i], f.key) not in reported:
                column[i] = f.default
                findings.append(Finding.of(
                    row_numbers[i], f.key, "default_applied",
                    msg("default_applied", label=Label(f.key), default=f.default), Severity.WARNING,
                ))
    return TypedRows(row_numbers, columns), findings, columns


_EXCEL_ERRORS = EXCEL_ERRORS


def _excel_errors(f: fields.Field, values: list[object], row_numbers: list[int], findings: list[Finding],
                  reported: set[tuple[int, str]]) -> list[object]:
    """An `excel_error` finding for each cell holding an Excel error (`#N/A`: the reader
    gives an error cell its error's text); the cell is then blank to every other check."""
    out = list(values)
    for i, value in enumerate(values):
        if type(value) is str and value in _EXCEL_ERRORS:
            findings.append(Finding.of(row_numbers[i], f.key, "excel_error",
                                       msg("excel_error", label=Label(f.key), value=value)))
            reported.add((row_numbers[i], f.key))
            out[i] = None
    return out


def validate_rows(
    rows: Mapping[int, Mapping[str, object]], skip_cells: set[tuple[int, str]] | None = None
) -> list[Finding]:
    """Run every rule on typed rows that are already parsed (for callers that build rows
    themselves); `skip_cells` are cells already reported by parsing."""
    return schema.check_rows(rows, skip_cells or set())


def _order(book: WorkbookData, findings: list[Finding]) -> list[Finding]:
    """Workbook-level findings first, then by row and the operator's column order."""
    position = {c.key: i for i, c in enumerate(book.columns)}
    return sorted(findings, key=lambda f: (
        f.row is not None, f.row or 0, position.get(f.column or "", -1), f.code,
    ))


def validate_workbook(path: str | Path, sheet: str | None = None, *, language: str | None = None) -> Validation:
    """Read, parse and check a filled workbook. Raises InputError (exit 2) if it is unusable.

    `language` (None: the workbook's template language) is the language of the messages."""
    with paused_gc():
        return _validate_workbook(path, sheet, language)


def _validate_workbook(path: str | Path, sheet: str | None, language: str | None) -> Validation:
    book = read_workbook(path, sheet)
    if not book.cells:
        raise InputError("{path}: sheet {sheet} has no task rows below its key row", path=book.path,
                         sheet=repr(book.sheet_name))
    rows, parse_findings, columns = _parse_columns(book)
    already = {(f.row, f.column) for f in parse_findings if f.severity == Severity.ERROR}
    already |= set(book.formula_cells)
    frame = schema.frame_from_columns(list(rows), columns)
    findings = list(book.findings) + parse_findings + schema.check_rows(rows, already, frame=frame)  # type: ignore[arg-type]
    findings = _order(book, findings)
    invalid = {f.row for f in findings if f.row is not None and f.severity == Severity.ERROR}
    return Validation(book=book, rows=rows, findings=findings, invalid=invalid,
                      language=language_of(language or book.language))


def default_output_path(workbook: str | Path, base: str | Path | None = None) -> Path:
    """`reports/<stem>-validated.xlsx` under the current directory (or `base`)."""
    return Path(base or Path.cwd()) / REPORTS_DIR / f"{Path(workbook).stem}-validated.xlsx"


def checked_output_path(workbook: str | Path, out: str | Path | None, *, force: bool = False) -> Path:
    """The annotated copy's path, proven writable before the (possibly long) validation: an
    .xlsx name, not the input, and never an operator's workbook unless `force`."""
    chosen = out is not None
    path = Path(out) if out is not None else default_output_path(workbook)
    check_outputs([Output(path, "--out" if chosen else "annotated copy", WORKBOOK, suffixes=(".xlsx",))],
                  inputs=[workbook], force=force)
    return path


def annotate(validation: Validation, out: str | Path) -> Path:
    """Write the annotated copy: offending cells red with a comment, `result` / `error_msg`
    / `source_row` appended, a Findings sheet. Refuses to overwrite the input."""
    out = Path(out)
    if same_file(out, validation.book.path):
        raise InputError("{path}: is the input workbook; refusing to overwrite it (choose another --out)", path=out)
    with paused_gc():  # a dict per row below; see paused_gc
        errors = row_errors(validation.findings, validation.language)
        appended = {
            r: {"result": str(validation.result_of(r)), "error_code": errors.get(r, ("", ""))[0],
                "error_msg": errors.get(r, ("", ""))[1]}
            for r in validation.rows
        }
        return write_results(out, validation.book, appended, validation.findings, language=validation.language)


def codes_markdown() -> str:
    """The README's table of finding codes, generated from findings.CODES and fields.RULES
    (a test keeps the README's copy equal to it)."""
    from bulkimport.findings import CODES, WARNING_CODES

    lines = ["| code | severity | meaning |", "| --- | --- | --- |"]
    for code, meaning in CODES.items():
        lines.append(f"| `{code}` | {'warning' if code in WARNING_CODES else 'error'} | {meaning.en} |")
    for rule in fields.RULES:
        if rule.code not in CODES:
            columns = ", ".join(f"`{c}`" for c in rule.columns)
            lines.append(f"| `{rule.code}` | {rule.severity} | {rule.text} (columns: {columns}) |")
    return "\n".join(lines) + "\n"
