"""The column-at-a-time parse (the fast path validate uses on every cell) and the per-cell
parse give every cell the same answer: the same typed value of the same type, or the same
finding code and message. If they drifted, a workbook's verdict would depend on which path a
cell happened to take."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulkimport import fields, parse

#: One column of each way a cell can be parsed (kind x secret).
COLUMNS = sorted({(f.kind, f.secret): f for f in fields.CATALOGUE}.values(), key=lambda f: f.key)


def _spellings(f: fields.Field) -> list[str]:
    words = list(f.allowed) or ["true", "false"]
    return [variant for w in words for variant in (w, w.upper(), w.lower(), w.capitalize(), f"  {w} ")]


AWKWARD_TEXT = [
    "", " ", "\t", "3306", " 3306 ", "3306.0", "-1", "0", "70000", "３３０６", "3_306", "1e3", "abc",
    "TRUE", "false", "yes", "******", "env:DB_PASS", " env:DB_PASS ", "ENV:DB_PASS", "env: X", "env:A-B",
    "#N/A", "#REF!", "=1+1", "a=b;c=d", "a=b;a=c", "k=", "=v", "352ad828-3467-4f03-987a-c55a5a9dd417",
    "192.168.0.1", "1.2.3.999", "::1", "aGVsbG8=", "not base64!", "db1;db2.t1", "db1;db1", "x" * 300,
    "mysql", "MySQL", "Sharding4.0+",
]


def cells_for(f: fields.Field) -> st.SearchStrategy[object]:
    return st.one_of(
        st.none(),
        st.sampled_from(AWKWARD_TEXT + _spellings(f)),
        st.text(max_size=12),
        st.integers(min_value=-(2**40), max_value=2**40),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-5, max_value=70000).map(float),
        st.booleans(),
        st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    )


def one_by_one(f: fields.Field, values: list[object]) -> tuple[list[object], dict[int, tuple[str, str]]]:
    out: list[object] = []
    errors: dict[int, tuple[str, str]] = {}
    for i, value in enumerate(values):
        try:
            out.append(parse.parse_cell(f, value))
        except parse.ParseError as exc:
            out.append(None)
            errors[i] = (exc.code, str(exc))
    return out, errors


def typed(values: list[object]) -> list[tuple[type, object]]:
    """Values with their types: 1, 1.0 and True are equal in Python but not on the wire."""
    return [(type(v), v) for v in values]


@pytest.mark.parametrize("f", COLUMNS, ids=lambda f: f"{f.kind}{'-secret' if f.secret else ''}")
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_the_column_path_and_the_cell_path_agree(f: fields.Field, data: st.DataObject) -> None:
    values = data.draw(st.lists(cells_for(f), max_size=12))
    column, column_errors = parse.parse_column(f, values)
    cells, cell_errors = one_by_one(f, values)
    assert {i: (e.code, str(e)) for i, e in column_errors.items()} == cell_errors
    assert typed(column) == typed(cells)


def test_every_kind_of_column_is_covered() -> None:
    assert {f.kind for f in COLUMNS} == set(fields.Kind)
    assert any(f.secret for f in COLUMNS)
