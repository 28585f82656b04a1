"""Typed rows -> CreateJobReq dicts, and chunking of jobs into batch requests.

The wire format is derived from the field catalogue alone: a column's `Kind` decides its
JSON type and its key decides where it goes (`source_endpoint.db_port` -> nested object).
Only filled cells become keys, so the server applies its own documented defaults to the
rest instead of ours.

Secrets are handled in one place so that nothing else needs to know which keys are
secret: `build_job` can mask them (for the ledger, the dry-run file and any display) or
resolve `env:NAME` references (for the request actually sent).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from bulkimport import fields
from bulkimport.errors import InputError
from bulkimport.fields import Kind

MASK = fields.SECRET_MASK
is_env_reference = fields.is_env_reference

T = TypeVar("T")


class Secrets(StrEnum):
    """What to do with secret cells when building a job."""

    #: Put the real value on the wire (env: references resolved) - only for sending.
    RESOLVE = "resolve"
    #: Replace literal secrets by MASK, keep env: references (they are not secrets).
    MASK = "mask"


class UnresolvedSecret(InputError):
    """An `env:NAME` reference names an environment variable that is not set."""


def mask_secret(value: object) -> object:
    """The displayable form of a secret cell: env: references stay, anything else is MASK."""
    if value is None or value == "":
        return value
    return value if is_env_reference(value) else MASK


def resolve_secret(value: str, env: Mapping[str, str], *, where: str = "") -> str:
    """The real secret behind a cell: the cell itself, or the variable an env: reference names."""
    match = fields.ENV_REFERENCE_RE.match(value.strip())
    if match is None:
        return value
    name = match.group(1)
    try:
        value = env[name]
    except KeyError:
        raise UnresolvedSecret("{where}: refers to environment variable {name}, which is not set", where=where,
                               name=name) from None
    if not value.strip():  # an empty password is never meant: refuse it like an unset one
        raise UnresolvedSecret("{where}: refers to environment variable {name}, which is set but empty",
                               where=where, name=name)
    return value


def _integer(value: object, key: str) -> int:
    # Typed rows hold ints (parse.py is the only parser): anything else here is a caller's bug,
    # and sending 3306.0 or "3306" would be a wire-type error the server might not forgive.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"{key}: expected a parsed whole number, got {value!r}")


def _boolean(value: object, key: str) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"{key}: expected a parsed true/false, got {value!r}")


def _tags(value: object, key: str) -> list[dict[str, str]]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError(f"{key}: expected parsed key/value tags, got {value!r}")
    tags = []
    for tag in value:
        if not isinstance(tag, Mapping) or "key" not in tag:
            raise TypeError(f"{key}: expected parsed key/value tags, got {value!r}")
        tags.append({"key": str(tag["key"]), "value": "" if tag.get("value") is None else str(tag["value"])})
    return tags


def wire_value(field: fields.Field, value: object) -> Any:
    """The JSON value for one filled cell of `field`, in the API's declared type."""
    kind = field.kind
    if kind is Kind.INTEGER:
        return _integer(value, field.key)
    if kind is Kind.INTEGER_STRING:  # expired_days: a number in the workbook, a string on the wire
        return str(_integer(value, field.key))
    if kind is Kind.BOOLEAN:
        return _boolean(value, field.key)
    if kind is Kind.TAGS:
        return _tags(value, field.key)
    if kind is Kind.ENTERPRISE_PROJECT:
        return [{"key": fields.ENTERPRISE_PROJECT_TAG_KEY, "value": str(value)}]
    if not isinstance(value, str):  # the parser makes every text-like cell a str ("123", never 123.0)
        raise TypeError(f"{field.key}: expected parsed text, got {value!r}")
    return value


#: The fields of the batch-creation body, in catalogue order, and the secret ones among them
#: (read once: a campaign builds a job per row).
_CREATE_FIELDS = tuple(f for f in fields.CATALOGUE if f.stage is fields.Stage.CREATE)
_SECRET_CREATE_FIELDS = tuple(f for f in _CREATE_FIELDS if f.secret)


def _blank(value: object) -> bool:
    if value is None:
        return True
    kind = type(value)
    if kind is str or kind is list:  # the usual cells first: this runs for every cell of every job
        return not value
    if isinstance(value, str):
        return value == ""
    return isinstance(value, Sequence) and len(value) == 0


def build_job(
    row: Mapping[str, object],
    *,
    secrets: Secrets = Secrets.MASK,
    env: Mapping[str, str] | None = None,
    where: str = "",
) -> dict[str, Any]:
    """One typed row -> one CreateJobReq dict.

    Keys follow the catalogue's order; blank cells are left out; `source_endpoint` and
    `target_endpoint` are always present because the API requires both objects.
    With `Secrets.RESOLVE`, env: references are looked up in `env` (UnresolvedSecret when
    missing); `where` (e.g. "row 7") prefixes that error so the operator can find the cell.
    """
    job: dict[str, Any] = {}
    endpoints: dict[str, dict[str, Any]] = {name: {} for name in fields.ENDPOINTS}
    for field in _CREATE_FIELDS:  # a Launch column is read by prepare/start, never part of this body
        value = row.get(field.key)
        if _blank(value):
            continue
        if field.secret:
            if secrets is Secrets.MASK:
                value = mask_secret(value)
            else:
                value = resolve_secret(str(value), env or {}, where=f"{where} {field.key}".strip())
            wired: Any = str(value)
        else:
            wired = wire_value(field, value)
        if field.kind is Kind.ENTERPRISE_PROJECT:
            job["sys_tags"] = wired
        elif field.endpoint is not None:
            endpoints[field.endpoint][field.attribute] = wired
        else:
            job[field.key] = wired
    job.update(endpoints)
    return job


def resolve_job(masked: Mapping[str, Any], row: Mapping[str, object], env: Mapping[str, str], *,
                where: str = "") -> dict[str, Any]:
    """The same job as `build_job(row, secrets=Secrets.RESOLVE, env=env, where=where)`, made
    from the row's masked job (`build_job(row)`), which differs from it only in the secret
    cells. Submit builds every row's masked job anyway (ledger, drift, dry run); building the
    whole body a second time per row cost about a tenth of its client CPU. Only the objects
    that hold a secret are copied; the rest is shared with `masked` (no caller mutates a
    built job)."""
    job = dict(masked)
    for field in _SECRET_CREATE_FIELDS:
        value = row.get(field.key)
        if _blank(value):
            continue
        wired = resolve_secret(str(value), env, where=f"{where} {field.key}".strip())
        if field.endpoint is None:
            job[field.key] = wired
            continue
        holder = job[field.endpoint]
        if holder is masked[field.endpoint]:
            holder = job[field.endpoint] = dict(holder)
        holder[field.attribute] = wired
    return job


def env_references(row: Mapping[str, object]) -> list[tuple[str, str]]:
    """(column key, variable name) of every env: reference in the row's secret cells."""
    refs = []
    for key in sorted(fields.SECRET_KEYS):
        value = row.get(key)
        if isinstance(value, str):
            match = fields.ENV_REFERENCE_RE.match(value.strip())
            if match:
                refs.append((key, match.group(1)))
    return refs


def secret_values(job: Mapping[str, Any]) -> list[str]:
    """The secret strings inside a resolved job, so callers can scrub them from server text."""
    found = []
    for key in fields.SECRET_KEYS:
        head, _, attribute = key.partition(".")
        holder = job.get(head) if attribute else job
        value = holder.get(attribute or key) if isinstance(holder, Mapping) else None
        if isinstance(value, str) and value and value != MASK and not is_env_reference(value):
            found.append(value)
    return found


def check_batch_size(size: int) -> int:
    """A batch size the API accepts: 1 to MAX_JOBS_PER_REQUEST (InputError otherwise)."""
    if not 1 <= size <= fields.MAX_JOBS_PER_REQUEST:
        raise InputError("batch size must be between 1 and {most}, not {n}", most=fields.MAX_JOBS_PER_REQUEST, n=size)
    return size


def chunk(items: Sequence[T], size: int = fields.MAX_JOBS_PER_REQUEST) -> Iterator[list[T]]:
    """Consecutive chunks of at most `size` items, never more than the API's per-request limit."""
    check_batch_size(size)
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def batch_body(jobs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The batch-creation request body for some jobs."""
    if len(jobs) > fields.MAX_JOBS_PER_REQUEST:
        raise ValueError(f"{len(jobs)} jobs in one request; the limit is {fields.MAX_JOBS_PER_REQUEST}")
    return {"jobs": [dict(job) for job in jobs]}


# -- launch bodies (prepare / start), see docs/launch-api.md -----------------------------------

#: The TestEndPoint keys a connection test takes from an endpoint's columns (the SDK's model;
#: `net_type` and `db_type` come from the task, `id`/`end_point_type` are added).
CONNECTION_KEYS = ("ip", "db_port", "inst_id", "db_user", "db_password", "ssl_link", "ssl_cert_key",
                   "ssl_cert_name", "ssl_cert_check_sum", "ssl_cert_password", "vpc_id", "subnet_id",
                   "region", "project_id")
#: end_point_type per endpoint.
END_POINT_TYPES = {"source_endpoint": "so", "target_endpoint": "ta"}


def endpoint_db_type(row: Mapping[str, object], endpoint: str) -> str | None:
    """An endpoint's db_type: its own cell, else what the engine implies."""
    own = row.get(f"{endpoint}.db_type")
    if own:
        return str(own)
    engine = row.get("engine_type")
    pair = fields.ENGINE_DB_TYPES.get(str(engine)) if engine else None
    return pair[fields.ENDPOINTS.index(endpoint)] if pair else None


def connection_item(row: Mapping[str, object], endpoint: str, task_id: str, *,
                    secrets: Secrets = Secrets.MASK, env: Mapping[str, str] | None = None,
                    where: str = "") -> dict[str, Any]:
    """One TestEndPoint for batch-connection, from the row's endpoint columns.

    MongoDB takes its address as `host:port` in `ip` with `db_port` 0 (docs/launch-api.md).
    With Secrets.MASK (the default) the item is fit for the ledger or a display."""
    db_type = endpoint_db_type(row, endpoint)
    item: dict[str, Any] = {"id": task_id, "end_point_type": END_POINT_TYPES[endpoint]}
    if row.get("net_type"):
        item["net_type"] = str(row["net_type"])
    if db_type:
        item["db_type"] = db_type
    for attribute in CONNECTION_KEYS:
        key = f"{endpoint}.{attribute}"
        value = row.get(key)
        if _blank(value):
            continue
        field = fields.FIELDS[key]
        if field.secret:
            if secrets is Secrets.MASK:
                item[attribute] = str(mask_secret(value))
            else:
                item[attribute] = resolve_secret(str(value), env or {}, where=f"{where} {key}".strip())
        else:
            item[attribute] = wire_value(field, value)
    if db_type == "mongodb" and "ip" in item:
        port = item.get("db_port")
        if port and ":" not in str(item["ip"]).rpartition("]")[2]:
            item["ip"] = f"{item['ip']}:{port}"
        item["db_port"] = 0
    return item


def database_info(objects: object, engine: str | None) -> list[dict[str, str]]:
    """The `objects` cell -> DatabaseInfo items for batch-select-objects (docs/launch-api.md:
    a whole database wins over its parts; `db-*-*-t` ids for tables, `db-*-s` for schemas)."""
    from bulkimport.parse import object_entries

    entries = object_entries(str(objects)) if objects else []
    whole = {parts for parts in entries if len(parts) == 1}
    schemas = {parts for parts in entries if len(parts) == 2 and engine == "postgresql"}
    items: dict[str, dict[str, str]] = {}

    def add(item_id: str, kind: str, name: str, select: str, parent: str | None = None) -> None:
        item = {"id": item_id}
        if parent is not None:
            item["parent_id"] = parent
        item.update(object_type=kind, object_name=name, select=select)
        existing = items.get(item_id)
        if existing is None or (existing["select"] == "partial" and select == "true"):
            items[item_id] = item

    for parts in entries:
        db = parts[0]
        if len(parts) == 1:
            add(db, "database", db, "true")
            continue
        if (db,) in whole:
            continue
        add(db, "database", db, "partial")
        if engine == "postgresql":
            schema = parts[1]
            if len(parts) == 2:
                add(f"{db}-*-{schema}", "schema", schema, "true", db)
            elif (db, schema) not in schemas:
                add(f"{db}-*-{schema}", "schema", schema, "partial", db)
                add(f"{db}-*-{schema}-*-{parts[2]}", "table", parts[2], "true", db)
        else:
            add(f"{db}-*-*-{parts[1]}", "table", parts[1], "true", db)
    return list(items.values())


def select_objects_item(task_id: str, objects: object, engine: str | None) -> dict[str, Any]:
    """One UpdateDatabaseObjectReq: blank = the whole instance (`selected` false)."""
    job = database_info(objects, engine)
    return {"job_id": task_id, "selected": bool(job), "job": job}
