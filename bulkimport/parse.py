"""Cell parsing: a raw cell (as a fast reader returns it) -> the typed value of its column.

Every cell is parsed here, by the column's `fields.Kind`, before any rule runs. Doing it
ourselves rather than letting pandas or pandera coerce is deliberate: type guessing turns
the text "007" into 7 and ports into 3306.0, and in pandera a value that fails coercion
hides every later check on that column. A parse failure is one finding on one cell; the
typed value is then None, and nothing downstream reports that cell again.

Parsing never rejects a value it can carry: an enum that matches no allowed value (case
aside) stays as trimmed text, so that the schema reports it as `enum` with the list of
allowed values. Only values that cannot live in the column's type (a port of "abc", a
boolean of "maybe", a tags cell that is not key=value pairs) fail here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta

from bulkimport import fields
from bulkimport.errors import InputError
from bulkimport.fields import Field, Kind
from bulkimport.findings import Message, msg

MASK = fields.SECRET_MASK
is_env_reference = fields.is_env_reference


#: The `env_reference` message: the cell is not echoed (it may be a password after all).
ENV_REFERENCE_MESSAGE = msg("env_reference")
#: Whole numbers as the operator types them: ASCII digits only (int() and float() would also
#: take full-width digits, `3_306` and `1e3`), an optional sign and a zero fraction (`3306.0`).
_WHOLE_TEXT_RE = re.compile(r"^[+-]?[0-9]+(?:\.0*)?$")


class ParseError(InputError, ValueError):
    """A cell cannot be read as its column's type; `code` is the finding code. Validation turns
    it into a finding on that cell; it reaches the CLI only if a caller skipped validation."""

    def __init__(self, code: str, message: Message) -> None:
        super().__init__(str(message))
        self.code = code
        #: The message in both languages (findings.MESSAGES); str(self) is its en-us text.
        self.text = message

    def said(self, language: str) -> str:
        """The cell's message in `language` (findings.MESSAGES has both texts)."""
        return self.text.render(language)


def _number_text(value: float) -> str:
    """Excel stores every number as a double: 3306.0 was typed as 3306."""
    if math.isfinite(value) and value == int(value):
        return str(int(value))
    return repr(value)


def as_text(value: object) -> str:
    """The text the operator typed, as far as it can be recovered from the cell."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(f: Field, value: object) -> str:
    if isinstance(value, datetime | date | time | timedelta):
        raise ParseError("type", msg("type:date"))
    text = as_text(value)
    if f.secret and text == MASK:
        raise ParseError("missing", msg("missing:masked", mask=MASK))
    if f.secret and fields.is_broken_env_reference(text):
        raise ParseError("env_reference", ENV_REFERENCE_MESSAGE)
    return text


def _enum(f: Field, value: object) -> str:
    text = as_text(value)
    folded = text.casefold()
    for allowed in f.allowed:
        if allowed.casefold() == folded:
            return allowed
    return text  # the schema reports it as `enum`, naming the allowed values


_ANY = Field("cell", "cell", "cell", fields.Group.TASK, Kind.INTEGER, help="", help_zh="")

_TRUE = frozenset({"true"})
_FALSE = frozenset({"false"})


def _boolean(f: Field, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        folded = value.strip().casefold()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
    raise ParseError("type", msg("type:boolean", value=_shown(f, value)))


def _integer(f: Field, value: object) -> int:
    if isinstance(value, bool):
        raise ParseError("type", msg("type:integer", value=_shown(f, value)))
    if isinstance(value, int):
        return value
    number: float | None = None
    if isinstance(value, float):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if _WHOLE_TEXT_RE.match(text):
            return int(text.partition(".")[0], 10)
    if number is not None and math.isfinite(number) and number == int(number):
        return int(number)
    raise ParseError("type", msg("type:integer", value=_shown(f, value)))


def whole_number(value: object) -> int | None:
    """A cell as a whole number (3306, 3306.0, "3306"), or None when it is not one."""
    try:
        return _integer(_ANY, value) if not is_blank(value) else None
    except ParseError:
        return None


def _tags(f: Field, value: object) -> list[dict[str, str]]:
    """`key=value;key=value` -> [{"key", "value"}]; limits are the schema's job."""
    text = as_text(value)
    tags: list[dict[str, str]] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, val = part.partition("=")
        if not sep or not key.strip():
            raise ParseError("tags", msg("tags:pair", part=repr(part)))
        tags.append({"key": key.strip(), "value": val.strip()})
    return tags


def _enterprise_project(f: Field, value: object) -> str:
    text = as_text(value)
    parts = [p.strip() for p in text.replace(",", ";").split(";") if p.strip()]
    if len(parts) > 1:
        raise ParseError("enterprise_project", msg("enterprise_project:several", n=len(parts)))
    return parts[0] if parts else text


def object_entries(text: str) -> list[tuple[str, ...]]:
    """A typed `objects` value ("sales;crm.customers") -> its entries as name parts
    ([("sales",), ("crm", "customers")]). Blank -> [] (the whole instance)."""
    return [tuple(entry.split(fields.OBJECT_PART_SEPARATOR))
            for entry in (text or "").split(fields.OBJECTS_SEPARATOR) if entry]


def _objects(f: Field, value: object) -> str | None:
    """`db;db.table` -> the same text with spaces around names and empty entries removed.
    Only the shape is judged here (no empty name, at most three levels); name lengths,
    repeats and the engine's depth are the schema's checks."""
    text = _text(f, value)
    entries = []
    for raw in text.split(fields.OBJECTS_SEPARATOR):
        if not raw.strip():
            continue
        parts = [part.strip() for part in raw.split(fields.OBJECT_PART_SEPARATOR)]
        if any(not part for part in parts):
            raise ParseError("objects", msg("objects:empty_name", entry=repr(raw.strip())))
        if len(parts) > 3:
            raise ParseError("objects", msg("objects:levels", entry=repr(raw.strip()), n=len(parts)))
        entries.append(fields.OBJECT_PART_SEPARATOR.join(parts))
    return fields.OBJECTS_SEPARATOR.join(entries) or None


_PARSERS: dict[Kind, Callable[[Field, object], object]] = {
    Kind.TEXT: _text,
    Kind.ENUM: _enum,
    Kind.BOOLEAN: _boolean,
    Kind.INTEGER: _integer,
    Kind.INTEGER_STRING: _integer,
    Kind.UUID: _text,
    Kind.IP: _text,
    Kind.BASE64: _text,
    Kind.TAGS: _tags,
    Kind.ENTERPRISE_PROJECT: _enterprise_project,
    Kind.OBJECTS: _objects,
}


def parser_for(f: Field) -> Callable[[Field, object], object]:
    return _PARSERS[f.kind]


def parse_cell(f: Field, value: object) -> object:
    """Typed value of one cell, None for blank; raises ParseError when it cannot be typed."""
    if is_blank(value):
        return None
    return _PARSERS[f.kind](f, value)


def _shown(f: Field, value: object) -> str | Message:
    """How a value may appear in a message: secrets never do."""
    if f.secret and not is_env_reference(value):
        return msg("value.secret")
    text = as_text(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return repr(text)


def shown(f: Field, value: object) -> str | Message:
    """Public form of `_shown` for the schema's messages."""
    return _shown(f, value)


def display_value(f: Field | None, value: object) -> object:
    """What a written copy shows for a cell: secrets masked, enums in the API's spelling,
    whole numbers without ".0". Anything else as read; the writer writes strings as text."""
    if value is None:
        return None
    if f is not None and f.secret:
        if is_blank(value):
            return None
        return value.strip() if isinstance(value, str) and is_env_reference(value) else MASK
    if f is not None and f.kind is Kind.ENUM and not isinstance(value, bool):
        return _enum(f, value)
    if isinstance(value, float) and math.isfinite(value) and value == int(value) and abs(value) < 2**53:
        return int(value)
    if isinstance(value, datetime | date | time | timedelta):
        return value.isoformat() if not isinstance(value, timedelta) else str(value)
    return value


# --------------------------------------------------------------------------- a column at a time

def parse_column(f: Field, values: list[object]) -> tuple[list[object], dict[int, ParseError]]:
    """Every cell of one column, typed: (values, {position: the ParseError of that cell}).

    The same answer as `parse_cell` on each cell (tests/test_parse_column.py holds the two to
    it), but fast enough to touch every cell of a large sheet: one comprehension settles the
    common cells (text, an enum or boolean in a known spelling, a whole number as Excel
    stores it); the rest go through the per-cell parse, each distinct value once, since a
    column repeats few distinct values (tags, enterprise projects, ports).
    """
    n = len(values)
    blanks = values.count(None)
    errors: dict[int, ParseError] = {}
    if blanks == n:
        return list(values), errors
    fast, spellings, parser = _fast_kind(f), _enum_spellings(f), parser_for(f)
    out = _settle_common(fast, spellings, values)
    if out is None:
        out, pending = [None] * n, list(range(n))
    elif out.count(None) == blanks:
        pending = []  # every non-blank cell settled
    else:
        pending = [i for i, (o, v) in enumerate(zip(out, values, strict=True)) if o is None and v is not None]
    # Equal cells then share one typed value, which nothing downstream mutates (the payload
    # builder copies).
    memo: dict[object, object] = {}
    for i in pending:
        value = values[i]
        if value is None:
            continue
        memo_key = (type(value), value)  # 1, 1.0 and True are equal keys but different cells
        known = memo.get(memo_key, _UNPARSED)
        if known is _UNPARSED:
            try:
                known = _parse_cell(f, fast, spellings, parser, value)
            except ParseError as exc:
                known = exc
            memo[memo_key] = known
        if isinstance(known, ParseError):
            errors[i] = known
        else:
            out[i] = known
    return out, errors


def _settle_common(fast: int, spellings: Mapping[str, object], values: list[object]) -> list[object] | None:
    """The column's common cells typed in one pass; None where a cell is left to `_parse_cell`
    (blank, or not in a common shape). Each value here is what `_parse_cell` gives that cell.
    Returns None for kinds without a common shape."""
    if fast == _TEXT:
        return [v.strip() or None if type(v) is str else None for v in values]
    if fast == _SECRET:
        out: list[object] = [v.strip() or None if type(v) is str else None for v in values]
        # Left to the parser, which reports them: a masked secret copied from a results
        # workbook, and a cell that looks like an env: reference but is not a valid one.
        # A secret column holds few distinct values, so each is judged once.
        unsettled = {v for v in set(out) if v is not None and (v == MASK or fields.is_broken_env_reference(v))}
        if unsettled:
            out = [None if v in unsettled else v for v in out]
        return out
    if fast in (_ENUM, _BOOL):
        get = spellings.get
        return [get(v.strip()) if type(v) is str else None for v in values]
    if fast == _INT:
        return [int(v) if type(v) is float and v.is_integer() else None for v in values]
    return None


def _parse_cell(
    f: Field, fast: int, spellings: Mapping[str, object],
    parser: Callable[[Field, object], object], value: object,
) -> object:
    """One non-blank raw cell -> its typed value (None for a cell of only spaces); raises
    parse.ParseError. The common cases are handled inline before the column's parser."""
    kind = type(value)
    if kind is str:
        value = value.strip()  # type: ignore[attr-defined]
        if not value:
            return None
        if fast == _TEXT or (fast == _SECRET and value != MASK and not fields.is_broken_env_reference(value)):
            return value
        if fast in (_ENUM, _BOOL):
            known = spellings.get(value)  # type: ignore[call-overload]
            if known is not None:
                return known
    elif kind is float and fast == _INT and value.is_integer():  # type: ignore[attr-defined]
        return int(value)  # type: ignore[call-overload]
    elif kind is bool and fast == _BOOL:
        return value
    return parser(f, value)


_TEXT, _ENUM, _INT, _BOOL, _SECRET, _OTHER = range(6)
_UNPARSED = object()


def _fast_kind(f: Field) -> int:
    if f.secret:
        # plain text, except a masked secret (******) copied from a results workbook
        return _SECRET if f.kind is Kind.TEXT else _OTHER
    if f.kind in (Kind.TEXT, Kind.UUID, Kind.IP, Kind.BASE64):
        return _TEXT
    if f.kind is Kind.ENUM:
        return _ENUM
    if f.kind in (Kind.INTEGER, Kind.INTEGER_STRING):
        return _INT
    if f.kind is Kind.BOOLEAN:
        return _BOOL
    return _OTHER


def _enum_spellings(f: Field) -> dict[str, object]:
    """Common spellings of each allowed value (booleans: true/false) -> the typed value."""
    if f.kind is Kind.BOOLEAN:
        return {spelling: value for value, word in ((True, "true"), (False, "false"))
                for spelling in (word, word.upper(), word.capitalize())}
    spellings: dict[str, object] = {v: v for v in f.allowed}
    spellings.update({v.lower(): v for v in f.allowed})
    spellings.update({v.upper(): v for v in f.allowed})
    return spellings
