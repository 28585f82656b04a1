"""Findings: typed records of what is wrong (or worth a look) in a workbook.

Modelled on frictionless' errors: every finding has a stable `code` that tests, scripts and
the README can rely on, the Excel row number, the column key and a human note. Codes never
change meaning; wording may.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"  # the row is INVALID and is not sent
    WARNING = "warning"  # reported, the row is still sent


#: Stable finding codes and what they mean (cross-field codes are in fields.RULES).
CODES: dict[str, str] = {
    "missing": "A mandatory field is blank (or a password cell holds ****** copied from a results workbook).",
    "enum": "The value is not one of the allowed values.",
    "type": "The value is not of the column's type (whole number, true/false), or Excel made it a date.",
    "range": "A number is outside its range (port 1-65535, nodes 1-32, auto-stop days 14-100).",
    "length": "A text is shorter or longer than allowed (name 4-50, description up to 256).",
    "pattern": "Characters or a shape the API refuses (name starts with a letter; description without !<>'&\"\\).",
    "uuid": "The value is not a UUID.",
    "ip": "The value is not an IPv4 or IPv6 address.",
    "base64": "The SSL certificate is not valid Base64.",
    "tags": "Not key=value;..., over 20 tags, a key or value too long or with other characters, or a repeated key.",
    "enterprise_project": "More than one enterprise project, or an invalid one.",
    "objects": "Objects to replicate are not database[.table] entries separated by ';', a name is too long, "
               "or an entry is repeated or covered by another.",
    "duplicate_name": "Another row has the same task name (names are case-insensitive).",
    "env_reference": "A password or certificate cell looks like an env:NAME reference but is not a valid one "
                     "(ENV:NAME, env: NAME, env:NAME-X); it is never sent as a password.",
    "excel_error": "The cell holds an Excel error (#N/A, #REF!, #DIV/0!, #VALUE!, #NAME?, #NUM!, #NULL!), "
                   "as a formula's result or typed; it is never read as blank.",
    "merged_cells": "Merged cells span several task rows; each row needs its own value.",
    "hidden_row": "The row is hidden (by a filter or by hand); it is still checked and sent.",
    "formula_no_value": "The cell holds a formula with no saved value; type the value instead.",
    "unknown_column": "A column the template does not know; it is ignored.",
    "stale_template": "The workbook was made from another template version, or its catalogue hash differs.",
    "default_applied": "A blank field was filled with the API's default (task_type: FULL_INCR_TRANS).",
    "drift": "Since its task was created, the row's cells changed (the task was not), or a task this campaign "
             "created is no longer named in the workbook (renamed or removed row).",
}

#: Codes that never make a row INVALID (cross-field rules carry their own severity).
WARNING_CODES: frozenset[str] = frozenset({"hidden_row", "unknown_column", "stale_template", "default_applied",
                                           "drift"})


def row_errors(findings: Iterable[Finding]) -> dict[int, tuple[str, str]]:
    """Per row, its errors as the result columns show them: (`error_code`: the codes,
    comma-separated, each once; `error_msg`: one sentence per finding, joined by "; ")."""
    codes: dict[int, dict[str, None]] = {}
    texts: dict[int, list[str]] = {}
    for f in findings:
        if f.row is not None and f.severity == Severity.ERROR:
            codes.setdefault(f.row, {})[f.code] = None
            texts.setdefault(f.row, []).append(f.sentence)
    return {row: (",".join(codes[row]), "; ".join(texts[row])) for row in codes}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem, on one cell (or one row when `column` is None)."""

    row: int | None  # Excel row number (1-based), None for workbook-level findings
    column: str | None  # catalogue key, or the header of an unknown column
    code: str
    message: str
    severity: Severity = Severity.ERROR

    @property
    def sentence(self) -> str:
        """The finding as one sentence a DBA reads: the column's label and the problem, once.

        Messages that already start with the label are kept; others get it in front. The
        code and the key are not part of it: they have their own columns.
        """
        from bulkimport.fields import FIELDS

        field = FIELDS.get(self.column or "")
        if field is None or self.message.casefold().startswith(field.label.casefold()):
            return self.message
        return f"{field.label}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["severity"] = str(self.severity)
        return data
