"""The template's typing aids hold up in Excel as far as can be shown without Excel (issue 11.6).

LibreOffice evaluates the highlights and the dependent dropdown in `test_template.py`; Excel is
not available here, so every formula the template writes (each data validation's formulas and
each conditional format's) is read back from the saved file and checked the way Excel would
read it: openpyxl's tokenizer (the grammar of Excel's formula language) parses it,
parentheses balance, every function is one Excel has (openpyxl's list of Excel's built-in
functions) and needs no newer-Excel prefix, every sheet and defined name it refers to exists in
the workbook, every cell reference lies on Excel's grid, relative rows are written for the first
row of the range the rule covers (Excel shifts them from there), the names INDIRECT builds exist
for every scenario, and the lengths are within Excel's limits. What this cannot show: how Excel
evaluates them (docs/template.md says so).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError
from openpyxl.utils import FORMULAE
from openpyxl.utils.cell import range_boundaries

from bulkimport import fields, template

#: Excel's limits: 8,192 characters in a formula; 255 in a list validation's source.
FORMULA_MAX = 8192
LIST_SOURCE_MAX = 255
#: Excel's grid: columns A..XFD, rows 1..1,048,576.
MAX_COLUMN, MAX_ROW = 16384, 1048576
_REF = r"\$?[A-Z]{1,3}\$?[0-9]{1,7}"
CELL_RANGE = re.compile(rf"^{_REF}(:{_REF})?$")
CELL_PARTS = re.compile(r"\$?[A-Z]{1,3}(\$?)([0-9]{1,7})")


def defined_names(book: openpyxl.Workbook) -> dict[str, str]:
    """Workbook-level defined names -> what they point at."""
    return {name: dn.attr_text for name, dn in book.defined_names.items()}


def formula_problems(book: openpyxl.Workbook, formula: str, first_row: int | None = None) -> list[str]:
    """Why Excel would refuse or misread `formula` (written without its leading '='), empty when
    it would not. `first_row`: the first row of the range a conditional format or validation
    covers, which relative rows must name."""
    problems: list[str] = []
    if len(formula) + 1 > FORMULA_MAX:
        problems.append(f"longer than Excel's {FORMULA_MAX} characters")
    try:
        tokens = Tokenizer("=" + formula).items
    except (TokenizerError, IndexError) as exc:  # IndexError: a ')' that closes nothing
        return [f"does not parse: {exc}"]
    names = defined_names(book)
    depth = 0
    indirect_prefixes: list[str] = []
    for i, token in enumerate(tokens):
        if token.type in (Token.FUNC, Token.PAREN):
            depth += 1 if token.subtype == Token.OPEN else -1
            if depth < 0:
                problems.append("a ')' closes nothing")
        if token.type == Token.FUNC and token.subtype == Token.OPEN:
            function = token.value[:-1].upper()
            if function.startswith("_XLFN.") or function not in FORMULAE:
                problems.append(f"{function} is not a function of Excel 2007 and later without a prefix")
            if function == "INDIRECT" and i + 1 < len(tokens) and tokens[i + 1].subtype == Token.TEXT:
                indirect_prefixes.append(tokens[i + 1].value.strip('"'))
        elif token.type == Token.OPERAND and token.subtype == Token.ERROR:
            problems.append(f"holds the error {token.value}")
        elif token.type == Token.OPERAND and token.subtype == Token.RANGE:
            problems += _reference_problems(book, names, token.value, first_row)
    if depth:
        problems.append("unbalanced parentheses")
    for prefix in indirect_prefixes:
        for scenario in ("", *fields.FIELDS["db_use_type"].allowed):
            if prefix + scenario not in names:
                problems.append(f"INDIRECT builds {prefix + scenario!r}, which is no defined name")
    return problems


def _reference_problems(book: openpyxl.Workbook, names: dict[str, str], ref: str,
                        first_row: int | None) -> list[str]:
    if "!" in ref:
        sheet, ref = ref.rsplit("!", 1)
        sheet = sheet.strip("'").replace("''", "'")
        if sheet not in book.sheetnames:
            return [f"refers to sheet {sheet!r}, which the workbook does not have"]
    elif not CELL_RANGE.match(ref):
        if ref not in names:
            return [f"{ref!r} is neither a cell reference nor a defined name of the workbook"]
        return []
    if not CELL_RANGE.match(ref):
        return [f"{ref!r} is not a cell reference"]
    low_col, low_row, high_col, high_row = range_boundaries(ref.replace("$", ""))
    if max(low_col or 1, high_col or 1) > MAX_COLUMN or max(low_row or 1, high_row or 1) > MAX_ROW:
        return [f"{ref} lies outside Excel's grid"]
    if first_row is not None and ":" not in ref:
        for dollar, row in CELL_PARTS.findall(ref):
            if not dollar and int(row) != first_row:
                return [f"{ref}: a relative row must be the first row of the range ({first_row})"]
    return []


def typing_aid_formulas(book: openpyxl.Workbook) -> Iterator[tuple[str, str, str, int]]:
    """(sheet, where, formula, first row of its range) for every data validation formula and
    every conditional format formula of the workbook."""
    for ws in book.worksheets:
        for dv in ws.data_validations.dataValidation:
            first_row = min(r.min_row for r in dv.sqref.ranges)
            for formula in (dv.formula1, dv.formula2):
                if formula is not None:
                    yield ws.title, f"validation {dv.sqref} ({dv.type})", formula, first_row
        for cf in ws.conditional_formatting:
            first_row = min(r.min_row for r in cf.sqref.ranges)
            for rule in cf.rules:
                for formula in rule.formula or ():
                    yield ws.title, f"conditional format {cf.sqref}", formula, first_row


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, openpyxl.Workbook]:
    """The template in both languages, and a failed-rows workbook, where result columns beside
    the name move every later column (so its formulas differ from the template's)."""
    folder = tmp_path_factory.mktemp("excel")
    paths = {language: template.write_template(folder / f"{language}.xlsx", language=language)
             for language in fields.LANGUAGES}
    paths["failed rows"] = template.write_fix_workbook(
        folder / "fix.xlsx", [{"name": "bad-row", "db_use_type": "sync"}],
        extra_columns=["result", "task_id", "error_msg"], extra_values=[{"result": "INVALID"}], notes=[{}])
    return {label: openpyxl.load_workbook(path) for label, path in paths.items()}


def test_every_formula_of_the_typing_aids_is_valid_excel(books: dict[str, openpyxl.Workbook]) -> None:
    for label, book in books.items():
        seen = list(typing_aid_formulas(book))
        # every dropdown, number/length check, highlight and the dependent engine list
        kinds = {where.split(" ")[0] for _, where, _, _ in seen}
        assert kinds == {"validation", "conditional"}, label
        assert any("INDIRECT" in f for _, _, f, _ in seen) and any("COUNTIF" in f for _, _, f, _ in seen), label
        problems = [(sheet, where, formula, p) for sheet, where, formula, first in seen
                    for p in formula_problems(book, formula, first)]
        assert problems == [], label
        for name, target in defined_names(book).items():
            assert formula_problems(book, target) == [], (label, name, target)
        for ws in book.worksheets:
            for dv in ws.data_validations.dataValidation:
                if dv.type == "list":
                    assert len(dv.formula1) <= LIST_SOURCE_MAX, (label, dv.sqref)


def test_the_functions_used_are_the_ones_docs_template_md_lists(books: dict[str, openpyxl.Workbook],
                                                                 repo: Path) -> None:
    """docs/template.md names the functions Excel must have; the template uses exactly those."""
    used = set()
    for book in books.values():
        for _, _, formula, _ in typing_aid_formulas(book):
            used |= {t.value[:-1].upper() for t in Tokenizer("=" + formula).items
                     if t.type == Token.FUNC and t.subtype == Token.OPEN}
    page = (repo / "docs" / "template.md").read_text(encoding="utf-8")
    paragraph = page.split("Functions the formulas use", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`([A-Z]+)`", paragraph))
    assert used == listed
    assert listed <= FORMULAE


@pytest.mark.parametrize(("formula", "problem"), [
    ("AND(LEN($A3)>0", "unbalanced parentheses"),
    ("AND(LEN($A3)>0))", "does not parse"),
    ("LENGTH($A3)>0", "LENGTH is not a function"),
    ("_xlfn.XLOOKUP($A3,$B3:$B9,$C3:$C9)", "is not a function"),
    ('INDIRECT("engine_"&TRIM($B3))', "no defined name"),
    ("COUNTIF(Nowhere!$A$3:$A$9,$A3)>1", "does not have"),
    ("COUNTIF(no_such_name,$A3)>1", "neither a cell reference nor a defined name"),
    ("LEN($A4)>0", "first row of the range"),
    ("#REF!>0", "holds the error"),
])
def test_the_check_finds_what_excel_would_refuse(books: dict[str, openpyxl.Workbook], formula: str,
                                                  problem: str) -> None:
    """The check is not blind: each broken formula is reported."""
    problems = formula_problems(books["en-us"], formula, first_row=3)
    assert any(problem in p for p in problems), problems
