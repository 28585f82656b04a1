"""The rules: a pandera schema built from the catalogue, plus the cross-field and cross-row
rules of `fields.RULES`, turned into findings.

The schema runs on *typed* columns (see `parse.py`): running it on raw text would let a
value that fails coercion hide every later check on its column. Field checks come from
the catalogue entry's attributes (`cell_checks`) and skip blanks (`ignore_na=True`:
presence is the `missing` check's job).

Each rule of `fields.RULES` is implemented here by its code as a `CrossCheck`: a vectorised
test (a pandera wide check, `ignore_na=False` so that conditional-mandatory rules see the
blank cells they are about) and an `explain` that names the offending cell(s) of one failing
row. A wide check runs on a frame of only its own input columns, because pandera reports a
wide-check failure once per column of the frame; the failures are then collapsed to one
per (row, rule) before `explain` writes the messages.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import pandas as pd
import pandera.pandas as pa
from pandera.extensions import register_check_method

from bulkimport import fields, parse
from bulkimport.fields import Field, Kind
from bulkimport.findings import Finding, Label, Labels, Message, Severity, msg

DR = "cloudDataGuard"
SOURCE, TARGET = fields.ENDPOINTS


# --------------------------------------------------------------------------- field checks
#
# Each single-cell rule is a pandera check built from the field's catalogue attributes:
# pandera's built-ins where they fit (`isin`, `str_length`, `in_range`/`ge`/`le`,
# `str_matches`), and for the kinds pandera has no check for (an IP address, Base64, tags,
# objects, forbidden characters) checks registered with `pandera.extensions.
# register_check_method`, pandera's own extension mechanism. Registered checks are vectorised
# and judge each distinct value once: a campaign repeats a handful of subnets, certificates
# and tag lists over thousands of rows.


def _each_distinct(s: pd.Series, ok: Callable[[object], bool]) -> pd.Series:
    """`ok` per cell of a column whose blanks pandera has already dropped (`ignore_na`),
    called once per distinct value."""
    verdicts: dict[object, bool] = {}

    def judged(value: object) -> bool:
        verdict = verdicts.get(value)
        if verdict is None:
            verdict = verdicts[value] = ok(value)
        return verdict

    return s.map(judged).astype(bool)


_IPV4_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4_RE = re.compile(rf"^{_IPV4_OCTET}(?:\.{_IPV4_OCTET}){{3}}$")


def _is_ip(value: object) -> bool:
    if _IPV4_RE.match(str(value)):  # the common case, without ipaddress' per-call cost
        return True
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def _is_base64_or_env(value: object) -> bool:
    if parse.is_env_reference(value):
        return True
    compact = re.sub(r"\s+", "", str(value))
    if not compact:
        return False
    try:
        base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _register(check_fn: Callable[..., pd.Series], statistics: Sequence[str] = ()) -> None:
    """Register a vectorised Series check on `pa.Check` (once per process: pandera refuses a
    second registration of a name, e.g. when this module is reloaded)."""
    if check_fn.__name__ not in pa.Check.REGISTERED_CUSTOM_CHECKS:
        register_check_method(check_fn, statistics=list(statistics), supported_types=pd.Series)


def ip_address(s: pd.Series) -> pd.Series:
    """IPv4 or IPv6 address."""
    return _each_distinct(s, _is_ip)


def base64_or_env(s: pd.Series) -> pd.Series:
    """Base64 text (whitespace between lines allowed), or an `env:NAME` reference."""
    return _each_distinct(s, _is_base64_or_env)


def contains_none_of(s: pd.Series, *, chars: str) -> pd.Series:
    """No character of `chars` anywhere in the value."""
    forbidden = re.compile("[" + re.escape(chars) + "]")
    return _each_distinct(s, lambda v: forbidden.search(str(v)) is None)


def tag_list(s: pd.Series) -> pd.Series:
    """A parsed tags list within Table 6's limits (`tags_problem`). Judged once per distinct
    list: equal cells share one parsed list (the parser memoises by cell text), so it is
    keyed by identity, lists being unhashable."""
    verdicts: dict[int, bool] = {}

    def ok(tags: object) -> bool:
        verdict = verdicts.get(id(tags))
        if verdict is None:
            verdict = verdicts[id(tags)] = tags_problem(tags) is None
        return verdict

    return s.map(ok).astype(bool)


def object_list(s: pd.Series) -> pd.Series:
    """An `objects` cell whose entries are acceptable on their own (`objects_problem`)."""
    return _each_distinct(s, lambda v: objects_problem(v) is None)


_register(ip_address)
_register(base64_or_env)
_register(contains_none_of, statistics=("chars",))
_register(tag_list)
_register(object_list)


def tags_problem(tags: object) -> Message | None:
    """Why a parsed tags list breaks Table 6's limits, or None when it is fine."""
    if not isinstance(tags, list):
        return msg("tags:not_pairs")
    if len(tags) > fields.MAX_TAGS:
        return msg("tags:too_many", n=len(tags), max=fields.MAX_TAGS)
    seen: set[str] = set()
    for tag in tags:
        key, value = tag["key"], tag["value"]
        if len(key) > fields.TAG_KEY_MAX:
            return msg("tags:key_long", key=repr(key), max=fields.TAG_KEY_MAX)
        if not fields.TAG_TEXT_RE.match(key):
            return msg("tags:key_chars", key=repr(key))
        if len(value) > fields.TAG_VALUE_MAX:
            return msg("tags:value_long", key=repr(key), max=fields.TAG_VALUE_MAX)
        if not fields.TAG_TEXT_RE.match(value):
            return msg("tags:value_chars", key=repr(key))
        if key.casefold() in seen:
            return msg("tags:repeated", key=repr(key))
        seen.add(key.casefold())
    return None


def objects_problem(text: object) -> Message | None:
    """Why a parsed `objects` cell is not acceptable on its own (name length, an entry given
    twice or inside another one), or None. The engine's depth is a cross-field rule."""
    entries = parse.object_entries(str(text))
    seen: set[tuple[str, ...]] = set()
    for parts in entries:
        entry = fields.OBJECT_PART_SEPARATOR.join(parts)
        for part in parts:
            if len(part) > fields.OBJECT_NAME_MAX:
                return msg("objects:name_long", name=repr(part[:20]), entry=repr(entry[:40]),
                           max=fields.OBJECT_NAME_MAX)
        if parts in seen:
            return msg("objects:twice", entry=repr(entry))
        for depth in range(1, len(parts)):
            if parts[:depth] in seen:
                return msg("objects:covered", entry=repr(entry),
                           by=repr(fields.OBJECT_PART_SEPARATOR.join(parts[:depth])))
        seen.add(parts)
    for parts in seen:  # a whole database listed after one of its tables
        for depth in range(1, len(parts)):
            if parts[:depth] in seen:
                covered = fields.OBJECT_PART_SEPARATOR.join(parts)
                return msg("objects:covered", entry=repr(covered),
                           by=repr(fields.OBJECT_PART_SEPARATOR.join(parts[:depth])))
    return None


@dataclass(frozen=True)
class CellCheck:
    """One single-cell rule of a column: `check`, a pandera check that finds the failing
    cells (blanks skipped: presence is the `missing` check's job), and `message`, which says
    why one value failed. `code` is the finding code (also the check's pandera `error`)."""

    code: str
    check: pa.Check
    message: Callable[[Field, object], Message]


def _length_message(f: Field, v: object) -> Message:
    lo, hi = f.min_length, f.max_length
    variant = "between" if lo is not None and hi is not None else "at_most" if hi else "at_least"
    return msg(f"length:{variant}", label=Label(f.key), lo=lo, hi=hi, n=len(str(v)))


def _range_check(f: Field) -> pa.Check:
    lo, hi = f.minimum, f.maximum
    if lo is not None and hi is not None:
        return pa.Check.in_range(lo, hi, error="range", ignore_na=True)
    if lo is not None:
        return pa.Check.ge(lo, error="range", ignore_na=True)
    return pa.Check.le(hi, error="range", ignore_na=True)


def _forbidden_message(f: Field, v: object) -> Message:
    bad = sorted({ch for ch in str(v) if ch in f.forbidden})
    return msg("pattern:forbidden", label=Label(f.key), bad=" ".join(bad), forbidden=" ".join(f.forbidden))


#: The finding code and message of a value that does not match its field's `pattern`, by kind;
#: any other kind: `pattern`, with the message the field names (`Field.pattern_message`).
_PATTERN_FINDINGS: dict[Kind, tuple[str, Callable[[Field, object], Message]]] = {
    Kind.UUID: ("uuid", lambda f, v: msg("uuid", label=Label(f.key), value=parse.shown(f, v))),
    Kind.ENTERPRISE_PROJECT: ("enterprise_project",
                              lambda f, v: msg("enterprise_project", label=Label(f.key), value=parse.shown(f, v))),
}


def _pattern_check(f: Field, pattern: str) -> CellCheck:
    code, message = _PATTERN_FINDINGS.get(
        f.kind, ("pattern", lambda f, v: msg(f.pattern_message, label=Label(f.key), value=parse.shown(f, v))))
    return CellCheck(code, pa.Check.str_matches(pattern, error=code, ignore_na=True), message)


@cache
def cell_checks(f: Field) -> tuple[CellCheck, ...]:
    """Every single-cell rule of a column, derived from its catalogue entry (built once)."""
    checks: list[CellCheck] = []
    if f.kind is Kind.ENUM and f.allowed:
        checks.append(CellCheck(
            "enum", pa.Check.isin(list(f.allowed), error="enum", ignore_na=True),
            lambda f, v: msg("enum", label=Label(f.key), value=parse.shown(f, v), allowed=", ".join(f.allowed)),
        ))
    if f.min_length is not None or f.max_length is not None:
        checks.append(CellCheck(
            "length",
            pa.Check.str_length(min_value=f.min_length, max_value=f.max_length, error="length", ignore_na=True),
            _length_message,
        ))
    if f.minimum is not None or f.maximum is not None:
        checks.append(CellCheck(
            "range", _range_check(f),
            lambda f, v: msg("range", label=Label(f.key), lo=f.minimum, hi=f.maximum, value=v),
        ))
    if f.pattern is not None:
        checks.append(_pattern_check(f, f.pattern))
    if f.forbidden:
        checks.append(CellCheck(
            "pattern", pa.Check.contains_none_of(chars=f.forbidden, error="pattern", ignore_na=True),
            _forbidden_message,
        ))
    if f.kind is Kind.IP:
        checks.append(CellCheck(
            "ip", pa.Check.ip_address(error="ip", ignore_na=True),
            lambda f, v: msg("ip", label=Label(f.key), value=parse.shown(f, v)),
        ))
    if f.kind is Kind.BASE64:
        checks.append(CellCheck(
            "base64", pa.Check.base64_or_env(error="base64", ignore_na=True),
            lambda f, v: msg("base64", label=Label(f.key)),
        ))
    if f.kind is Kind.TAGS:
        checks.append(CellCheck(
            "tags", pa.Check.tag_list(error="tags", ignore_na=True),
            lambda f, v: tags_problem(v) or msg("tags:not_pairs"),
        ))
    if f.kind is Kind.OBJECTS:
        checks.append(CellCheck(
            "objects", pa.Check.object_list(error="objects", ignore_na=True),
            lambda f, v: msg("labelled", label=Label(f.key), text=objects_problem(v) or msg(
                "check_failed", label=Label(f.key), code="objects")),
        ))
    return tuple(checks)


def _dtype(f: Field) -> str:
    if f.kind in (Kind.INTEGER, Kind.INTEGER_STRING):
        return "Int64"
    if f.kind is Kind.BOOLEAN:
        return "boolean"
    return "object"


@cache
def build_schema() -> pa.DataFrameSchema:
    """The pandera schema of a typed frame: one column per catalogue field.

    Each check's `error` is its finding code, and failures map back to their `CellCheck`
    by the check's position in the column (pandera's `check_number`).
    """
    columns = {
        f.key: pa.Column(_dtype(f), checks=[c.check for c in cell_checks(f)], nullable=not f.mandatory,
                         required=True, coerce=False)
        for f in fields.CATALOGUE
    }
    return pa.DataFrameSchema(columns, strict=True, name="jobs")


def typed_frame(rows: Mapping[int, Mapping[str, object]]) -> pd.DataFrame:
    """Typed rows -> a frame indexed by Excel row number, with nullable typed columns."""
    records = list(rows.values())
    if records and all(tuple(r) == fields.KEYS for r in records):
        # Typed rows share the catalogue's key order: transpose them in C.
        columns = dict(zip(fields.KEYS, zip(*(r.values() for r in records), strict=True), strict=True))
    else:
        columns = {k: tuple(r.get(k) for r in records) for k in fields.KEYS}
    return frame_from_columns(list(rows), columns)


def frame_from_columns(row_numbers: list[int], columns: Mapping[str, Sequence[object]]) -> pd.DataFrame:
    """Typed columns (catalogue key -> values in row order) -> the schema's frame."""
    index = pd.Index(row_numbers, dtype="int64", name="excel_row")
    data = {}
    for f in fields.CATALOGUE:
        values = list(columns.get(f.key, [None] * len(row_numbers)))
        dtype = _dtype(f)
        if dtype == "object":
            data[f.key] = pd.Series(values, index=index, dtype=object)
        else:
            data[f.key] = pd.Series(pd.array(values, dtype=dtype), index=index)  # type: ignore[call-overload]
    return pd.DataFrame(data, index=index)


# --------------------------------------------------------------------------- cross-field rules

Explanation = list[tuple[str, Message]]  # (column key, message) per offending cell


@dataclass(frozen=True)
class CrossCheck:
    """One rule of `fields.RULES`: `fails(frame)` is True on violating rows; `explain`
    names the offending cells of one such row. `inputs` are the columns the test reads."""

    code: str
    inputs: tuple[str, ...]
    fails: Callable[[pd.DataFrame], pd.Series]
    explain: Callable[[int, Mapping[str, object], object], Explanation]
    prepare: Callable[[pd.DataFrame], object] | None = None

    @property
    def rule(self) -> fields.Rule:
        return fields.RULES_BY_CODE[self.code]


def _is(frame: pd.DataFrame, key: str, value: str | bool) -> pd.Series:
    return frame[key].eq(value).fillna(False).astype(bool)


def _isin(frame: pd.DataFrame, key: str, values: Iterable[object]) -> pd.Series:
    return frame[key].isin(list(values)).fillna(False).astype(bool)


def _set(frame: pd.DataFrame, key: str) -> pd.Series:
    return frame[key].notna()


def _blank(frame: pd.DataFrame, key: str) -> pd.Series:
    return frame[key].isna()


def _endpoint_type(frame: pd.DataFrame, side: str) -> pd.Series:
    """An endpoint's DB type: its own cell, else what the engine implies."""
    position = 0 if side == SOURCE else 1
    implied = frame["engine_type"].map({e: types[position] for e, types in fields.ENGINE_DB_TYPES.items()})
    own = frame[f"{side}.db_type"]
    return own.where(own.isin(fields.DB_TYPES), implied)


def _row_endpoint_type(row: Mapping[str, object], side: str) -> str | None:
    own = row.get(f"{side}.db_type")
    if own in fields.DB_TYPES:
        return own
    engine = row.get("engine_type")
    if engine in fields.ENGINE_DB_TYPES:
        return fields.ENGINE_DB_TYPES[engine][0 if side == SOURCE else 1]
    return None


def _side_name(side: str) -> Message:
    return msg("side.source") if side == SOURCE else msg("side.destination")


# Each rule: the vectorised test, then its explanation of one failing row.

def _engine_scenario_fails(df: pd.DataFrame) -> pd.Series:
    ok_pairs = {(e, s) for e, scenarios in fields.ENGINE_SCENARIOS.items() for s in scenarios}
    known = _isin(df, "engine_type", fields.ENGINE_TYPES) & _isin(df, "db_use_type", fields.DB_USE_TYPES)
    pairs = pd.Series(list(zip(df["engine_type"], df["db_use_type"], strict=True)), index=df.index)
    return known & ~pairs.isin(ok_pairs)


def _engine_scenario_explain(_: int, row: Mapping[str, object], __: object) -> Explanation:
    engine, scenario = row["engine_type"], row["db_use_type"]
    serves = "/".join(fields.ENGINE_SCENARIOS[engine])  # type: ignore[index]
    return [("engine_type", msg("cross_field.engine_scenario", engine=engine, serves=serves, scenario=scenario))]


def _engine_db_type_fails(df: pd.DataFrame) -> pd.Series:
    bad = pd.Series(False, index=df.index)
    for position, side in enumerate(fields.ENDPOINTS):
        expected = df["engine_type"].map({e: types[position] for e, types in fields.ENGINE_DB_TYPES.items()})
        own = df[f"{side}.db_type"]
        bad |= (own.isin(fields.DB_TYPES) & expected.notna() & own.ne(expected)).fillna(False).astype(bool)
    return bad


def _engine_db_type_explain(_: int, row: Mapping[str, object], __: object) -> Explanation:
    out = []
    engine = row["engine_type"]
    for position, side in enumerate(fields.ENDPOINTS):
        own = row.get(f"{side}.db_type")
        expected = fields.ENGINE_DB_TYPES[engine][position]  # type: ignore[index]
        if own in fields.DB_TYPES and own != expected:
            out.append((f"{side}.db_type", msg("cross_field.engine_db_type", engine=engine, expected=expected,
                                               side=_side_name(side), own=own)))
    return out


def _eip_bind_fails(df: pd.DataFrame) -> pd.Series:
    return _is(df, "net_type", "eip") & ~_is(df, "bind_eip", True)


def _dr_no_vpc_fails(df: pd.DataFrame) -> pd.Series:
    return _is(df, "db_use_type", DR) & _is(df, "net_type", "vpc")


def _dr_multi_write_fails(df: pd.DataFrame) -> pd.Series:
    return _is(df, "db_use_type", DR) & _blank(df, "multi_write")


def _single_active_fails(df: pd.DataFrame) -> pd.Series:
    return (_is(df, "db_use_type", DR) & _is(df, "multi_write", False)
            & _isin(df, "task_type", fields.TASK_TYPES) & ~_is(df, "task_type", fields.SINGLE_ACTIVE_DR_TASK_TYPE))


_CLOUD_SIDE = {"up": TARGET, "down": SOURCE}


def _cloud_side_fails(df: pd.DataFrame) -> pd.Series:
    bad = pd.Series(False, index=df.index)
    for direction, side in _CLOUD_SIDE.items():
        bad |= _is(df, "job_direction", direction) & (_blank(df, f"{side}.region") | _blank(df, f"{side}.inst_id"))
    return bad


def _cloud_side_explain(_: int, row: Mapping[str, object], __: object) -> Explanation:
    direction = row["job_direction"]
    side = _CLOUD_SIDE[direction]  # type: ignore[index]
    return [
        (f"{side}.{attr}", msg("cross_field.cloud_side_instance", label=Label(f"{side}.{attr}"),
                               direction=direction, side=_side_name(side)))
        for attr in ("region", "inst_id") if row.get(f"{side}.{attr}") is None
    ]


def _dr_standby_readonly_fails(df: pd.DataFrame) -> pd.Series:
    return _is(df, "db_use_type", DR) & _is(df, "job_direction", "up") & ~_is(df, "is_target_readonly", True)


def _readonly_scope_fails(df: pd.DataFrame) -> pd.Series:
    target = _endpoint_type(df, TARGET)
    not_up = _isin(df, "job_direction", fields.JOB_DIRECTIONS) & ~_is(df, "job_direction", "up")
    not_mysql = (target.notna() & target.ne("mysql")).fillna(False).astype(bool)
    return _set(df, "is_target_readonly") & (not_up | not_mysql)


def _readonly_scope_explain(_: int, row: Mapping[str, object], __: object) -> Explanation:
    target = _row_endpoint_type(row, TARGET)
    why = (msg("cross_field.readonly_scope:direction", direction=row.get("job_direction"))
           if row.get("job_direction") != "up" else msg("cross_field.readonly_scope:target", target=target))
    return [("is_target_readonly", msg("cross_field.readonly_scope", label=Label("is_target_readonly"), why=why))]


def _az_mysql_only_fails(df: pd.DataFrame) -> pd.Series:
    known_other = _isin(df, "engine_type", fields.ENGINE_TYPES) & ~_isin(df, "engine_type", fields.AZ_ENGINES)
    return known_other & (_set(df, "master_az") | _set(df, "slave_az"))


def _az_mysql_only_explain(_: int, row: Mapping[str, object], __: object) -> Explanation:
    return [(key, msg("cross_field.az_mysql_only", label=Label(key), engines=", ".join(fields.AZ_ENGINES),
                      engine=row["engine_type"]))
            for key in ("master_az", "slave_az") if row.get(key) is not None]


def _az_pair_fails(df: pd.DataFrame) -> pd.Series:
    return _set(df, "master_az") ^ _set(df, "slave_az")


def _az_pair_explain(_: int, row: Mapping[str, object], __: object) -> Explanation:
    given, other = ("master_az", "slave_az") if row.get("master_az") is not None else ("slave_az", "master_az")
    return [(given, msg("cross_field.az_pair", label=Label(given), other=Label(other)))]


def _ssl_checksum_fails(df: pd.DataFrame) -> pd.Series:
    return _is(df, f"{SOURCE}.ssl_link", True) & _blank(df, f"{SOURCE}.ssl_cert_check_sum")


def _ssl_p12_fails(df: pd.DataFrame) -> pd.Series:
    bad = pd.Series(False, index=df.index)
    for side in fields.ENDPOINTS:
        password = _set(df, f"{side}.ssl_cert_password")
        if not password.any():
            continue  # the usual case: no certificate password, nothing to judge
        name = df[f"{side}.ssl_cert_name"].map(lambda v: isinstance(v, str) and v.lower().endswith(".p12"))
        bad |= password & ~name.astype(bool)
    return bad


def _ssl_p12_explain(_: int, row: Mapping[str, object], __: object) -> Explanation:
    out = []
    for side in fields.ENDPOINTS:
        name = row.get(f"{side}.ssl_cert_name")
        if row.get(f"{side}.ssl_cert_password") is not None and not (
            isinstance(name, str) and name.lower().endswith(".p12")
        ):
            shown = f"{name!r}" if name is not None else msg("value.blank")
            out.append((f"{side}.ssl_cert_name",
                        msg("cross_field.ssl_password_p12", side=_side_name(side),
                            label=Label(f"{side}.ssl_cert_name"), shown=shown)))
    return out


def _cluster_mode_fails(df: pd.DataFrame) -> pd.Series:
    bad = pd.Series(False, index=df.index)
    for side in fields.ENDPOINTS:
        kind = _endpoint_type(df, side)
        bad |= _set(df, f"{side}.cluster_mode") & (kind.notna() & kind.ne("mongodb")).fillna(False).astype(bool)
    return bad


def _cluster_mode_explain(_: int, row: Mapping[str, object], __: object) -> Explanation:
    out = []
    for side in fields.ENDPOINTS:
        kind = _row_endpoint_type(row, side)
        if row.get(f"{side}.cluster_mode") is not None and kind is not None and kind != "mongodb":
            out.append((f"{side}.cluster_mode", msg("cross_field.cluster_mode_mongodb",
                                                    label=Label(f"{side}.cluster_mode"), side=_side_name(side),
                                                    kind=kind)))
    return out


def _mongodb_nodes_fails(df: pd.DataFrame) -> pd.Series:
    source = _endpoint_type(df, SOURCE)
    return source.eq("mongodb").fillna(False).astype(bool) & _set(df, f"{SOURCE}.cluster_mode") & _blank(
        df, "node_num")


def _objects_too_deep(row_objects: object, engine: object) -> bool:
    limit = fields.OBJECT_DEPTH.get(str(engine))
    if limit is None or not isinstance(row_objects, str):
        return False
    return any(len(parts) > limit for parts in parse.object_entries(row_objects))


def _objects_depth_fails(df: pd.DataFrame) -> pd.Series:
    if not df["objects"].notna().any():
        return pd.Series(False, index=df.index)
    return pd.Series([_objects_too_deep(o, e) for o, e in zip(df["objects"], df["engine_type"], strict=True)],
                     index=df.index, dtype=bool)


def _objects_depth_explain(_: int, row: Mapping[str, object], __: object) -> Explanation:
    engine = str(row.get("engine_type"))
    limit = fields.OBJECT_DEPTH.get(engine, 2)
    deep = [".".join(p) for p in parse.object_entries(str(row.get("objects"))) if len(p) > limit]
    shape = msg("cross_field.objects_depth:three" if limit == 3 else "cross_field.objects_depth:two")
    if engine == "mongodb":
        shape = msg("cross_field.objects_depth:mongodb")
    elif engine == "postgresql":
        shape = msg("cross_field.objects_depth:postgresql")
    return [("objects", msg("cross_field.objects_depth", label=Label("objects"),
                            entries=", ".join(repr(d) for d in deep), engine=engine, shape=shape))]


def _name_groups(df: pd.DataFrame) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for excel_row, name in df["name"].items():
        if isinstance(name, str):
            groups.setdefault(name.casefold(), []).append(int(excel_row))  # type: ignore[call-overload]
    return groups


def _duplicate_fails(df: pd.DataFrame) -> pd.Series:
    folded = df["name"].map(lambda v: v.casefold() if isinstance(v, str) else None)
    return (folded.notna() & folded.duplicated(keep=False)).astype(bool)


def _duplicate_explain(excel_row: int, row: Mapping[str, object], groups: object) -> Explanation:
    others = [r for r in groups[str(row["name"]).casefold()] if r != excel_row]  # type: ignore[index]
    listed = ", ".join(str(r) for r in others)
    return [("name", msg("duplicate_name:rows" if len(others) > 1 else "duplicate_name", name=repr(row["name"]),
                         rows=listed))]


def _connection_incomplete_fails(df: pd.DataFrame) -> pd.Series:
    bad = pd.Series(False, index=df.index)
    for side in fields.ENDPOINTS:
        for attribute in fields.CONNECTION_FIELDS:
            bad |= _blank(df, f"{side}.{attribute}")
    return bad


def _connection_incomplete_explain(_: int, row: Mapping[str, object], __: object) -> Explanation:
    out = []
    for side in fields.ENDPOINTS:
        blank = [f"{side}.{a}" for a in fields.CONNECTION_FIELDS if row.get(f"{side}.{a}") is None]
        if blank:
            out.append((blank[0], msg("connection_incomplete" if len(blank) == 1 else "connection_incomplete:many",
                                      labels=Labels(tuple(blank)), side=_side_name(side))))
    return out


def _fixed(column: str, message: Message) -> Callable[[int, Mapping[str, object], object], Explanation]:
    return lambda _, __, ___: [(column, message)]


CROSS_CHECKS: dict[str, CrossCheck] = {c.code: c for c in (
    CrossCheck("cross_field.engine_scenario", ("engine_type", "db_use_type"),
               _engine_scenario_fails, _engine_scenario_explain),
    CrossCheck("cross_field.engine_db_type", ("engine_type", f"{SOURCE}.db_type", f"{TARGET}.db_type"),
               _engine_db_type_fails, _engine_db_type_explain),
    CrossCheck("cross_field.eip_bind", ("net_type", "bind_eip"), _eip_bind_fails,
               _fixed("bind_eip", msg("cross_field.eip_bind"))),
    CrossCheck("cross_field.dr_no_vpc", ("db_use_type", "net_type"), _dr_no_vpc_fails,
               _fixed("net_type", msg("cross_field.dr_no_vpc"))),
    CrossCheck("cross_field.dr_multi_write", ("db_use_type", "multi_write"), _dr_multi_write_fails,
               _fixed("multi_write", msg("cross_field.dr_multi_write"))),
    CrossCheck("cross_field.single_active_task_type", ("db_use_type", "multi_write", "task_type"),
               _single_active_fails,
               _fixed("task_type", msg("cross_field.single_active_task_type",
                                       mode=fields.SINGLE_ACTIVE_DR_TASK_TYPE))),
    CrossCheck("cross_field.cloud_side_instance",
               ("job_direction", f"{SOURCE}.region", f"{SOURCE}.inst_id", f"{TARGET}.region", f"{TARGET}.inst_id"),
               _cloud_side_fails, _cloud_side_explain),
    CrossCheck("cross_field.dr_standby_readonly", ("db_use_type", "job_direction", "is_target_readonly"),
               _dr_standby_readonly_fails,
               _fixed("is_target_readonly", msg("cross_field.dr_standby_readonly"))),
    CrossCheck("cross_field.readonly_scope", ("is_target_readonly", "job_direction", "engine_type",
                                              f"{TARGET}.db_type"),
               _readonly_scope_fails, _readonly_scope_explain),
    CrossCheck("cross_field.az_mysql_only", ("engine_type", "master_az", "slave_az"),
               _az_mysql_only_fails, _az_mysql_only_explain),
    CrossCheck("cross_field.az_pair", ("master_az", "slave_az"), _az_pair_fails, _az_pair_explain),
    CrossCheck("cross_field.ssl_checksum", (f"{SOURCE}.ssl_link", f"{SOURCE}.ssl_cert_check_sum"),
               _ssl_checksum_fails,
               _fixed(f"{SOURCE}.ssl_cert_check_sum",
                      msg("cross_field.ssl_checksum", label=Label(f"{SOURCE}.ssl_cert_check_sum")))),
    CrossCheck("cross_field.ssl_password_p12",
               tuple(f"{side}.{a}" for side in fields.ENDPOINTS for a in ("ssl_cert_password", "ssl_cert_name")),
               _ssl_p12_fails, _ssl_p12_explain),
    CrossCheck("cross_field.cluster_mode_mongodb",
               ("engine_type",)
               + tuple(f"{side}.{a}" for side in fields.ENDPOINTS for a in ("db_type", "cluster_mode")),
               _cluster_mode_fails, _cluster_mode_explain),
    CrossCheck("cross_field.mongodb_cluster_nodes",
               ("engine_type", f"{SOURCE}.db_type", f"{SOURCE}.cluster_mode", "node_num"),
               _mongodb_nodes_fails,
               _fixed("node_num", msg("cross_field.mongodb_cluster_nodes"))),
    CrossCheck("cross_field.objects_depth", ("objects", "engine_type"), _objects_depth_fails,
               _objects_depth_explain),
    CrossCheck("cross_field.objects_dr", ("objects", "db_use_type"),
               lambda df: _set(df, "objects") & _is(df, "db_use_type", DR),
               _fixed("objects", msg("cross_field.objects_dr"))),
    CrossCheck("connection_incomplete",
               tuple(f"{side}.{a}" for side in fields.ENDPOINTS for a in fields.CONNECTION_FIELDS),
               _connection_incomplete_fails, _connection_incomplete_explain),
    CrossCheck("duplicate_name", ("name",), _duplicate_fails, _duplicate_explain, prepare=_name_groups),
)}

_missing_rules = {r.code for r in fields.RULES} - set(CROSS_CHECKS)
if _missing_rules:  # pragma: no cover - a rule added to the catalogue without its code here
    raise RuntimeError(f"schema.py implements no check for rule(s): {', '.join(sorted(_missing_rules))}")


@cache
def cross_schema(code: str) -> pa.DataFrameSchema:
    """A wide check on a frame of only the rule's inputs (one failure case per input, not per column)."""
    check = CROSS_CHECKS[code]
    return pa.DataFrameSchema(
        checks=[pa.Check(lambda df, c=check: ~c.fails(df), name=code, ignore_na=False, error=code)],
        name=code,
    )


# --------------------------------------------------------------------------- running


_OUR_CHECKS = frozenset(
    {c.code for f in fields.CATALOGUE for c in cell_checks(f)} | set(CROSS_CHECKS) | {"not_nullable"}
)


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame | None:
    """pandera's failure cases, or None. A check that raised is reported by pandera as a
    failure with no row; that would silently switch a rule off, so it is raised instead."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        broken = cases[cases["index"].isna() & cases["check"].isin(list(_OUR_CHECKS))]
        if len(broken):
            first = broken.iloc[0]
            raise RuntimeError(
                f"check {first['check']} on {first['column']} could not run: {first['failure_case']}"
            ) from exc
        return cases
    return None


def check_rows(
    rows: Mapping[int, Mapping[str, object]], skip_cells: Iterable[tuple[int, str]] = (),
    *, frame: pd.DataFrame | None = None,
) -> list[Finding]:
    """Run every field, cross-field and cross-row rule on typed rows.

    `skip_cells` are cells already reported (a parse failure, a formula without a value):
    no further finding is made on them, and no rule that reads them is judged on that row
    (an unreadable cell is not a blank one), so the operator sees one reason per cell.
    """
    if not rows:
        return []
    skip = set(skip_cells)
    if frame is None:
        if not all(tuple(r) == fields.KEYS for r in rows.values()):
            # rows built by a caller: give every row every key, so rules may rely on them
            rows = {n: {k: r.get(k) for k in fields.KEYS} for n, r in rows.items()}
        frame = typed_frame(rows)
    findings: list[Finding] = []

    failures = _failures(build_schema(), frame)
    if failures is not None:
        seen: set[tuple[int, str, str]] = set()
        for column, check, number, index in failures[["column", "check", "check_number", "index"]].itertuples(
                index=False):
            if index is None or pd.isna(index) or column not in fields.FIELDS:
                continue
            f = fields.FIELDS[column]
            cell: CellCheck | None = None
            if check != "not_nullable":
                if number is None or pd.isna(number):  # pragma: no cover - not ours (pandera's dtype check)
                    continue
                cell = cell_checks(f)[int(number)]
            code = "missing" if cell is None else cell.code
            excel_row = int(index)
            if (excel_row, column) in skip or (excel_row, column, code) in seen:
                continue
            seen.add((excel_row, column, code))
            message = (msg("missing", label=Label(column)) if cell is None
                       else cell.message(f, rows[excel_row].get(column)))
            findings.append(Finding.of(excel_row, column, code, message, Severity.ERROR))

    for code, check in CROSS_CHECKS.items():
        sub = frame[list(check.inputs)]
        failures = _failures(cross_schema(code), sub)
        if failures is None:
            continue
        failing = sorted({int(i) for i in failures["index"].dropna()})
        context = check.prepare(frame) if check.prepare else None
        severity = Severity(check.rule.severity)
        for excel_row in failing:
            if skip and any((excel_row, column) in skip for column in check.inputs):
                continue  # an unreadable input was reported already; the rule cannot be judged
            explained = check.explain(excel_row, rows[excel_row], context)
            if not explained:  # the test and its explanation drifted apart: a bug, never a vague finding
                raise RuntimeError(f"rule {code} failed row {excel_row} but its explanation names no cell")
            for column, message in explained:
                if (excel_row, column) in skip:
                    continue
                findings.append(Finding.of(excel_row, column, code, message, severity))
    return findings
