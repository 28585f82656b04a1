"""The simulator's own description of the batch-creation wire format, and the checker built on it.

The schema lives in ``wire_schema.json`` and was written from the API page alone. It must
stay independent of the tool's field catalogue (``bulkimport.fields``): it is the oracle
the tool is tested against, so nothing here may import from outside the simulator
package. ``wire_field_names()`` and ``wire_enums()`` expose what the schema knows so the
tool's own tests can cross-check the two descriptions.

Checking is done with ``jsonschema`` (draft 2020-12). One change to the standard
vocabulary: ``integer`` excludes floats such as ``3306.0``, because a JSON client that
sends a float where the page says Integer has a bug we want to see.

Speed: jsonschema takes 5-30 ms for a 10-job body, which made the simulator, not the
client, the bottleneck of a 1,000-task rehearsal. A body is therefore first checked by a
schema compiled with ``fastjsonschema`` (about 0.5 ms); only a body it does not accept, or
one holding a float (fastjsonschema counts 2.0 as an integer), goes through jsonschema,
which then gives the detailed verdict. Valid bodies are common; the detailed path decides
every refusal, so both paths answer alike.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
import jsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

#: Error codes used for a body the simulator refuses (notes, section 2.1 table).
CODE_UNPARSABLE = "DRS.M00007"  # Invalid request parameter.
CODE_PARAMETER_ERROR = "DRS.M00200"  # Parameter error.
CODE_EMPTY = "DRS.M00201"  # The parameter %s is empty.
CODE_INVALID = "DRS.M00202"  # The value of %s is invalid.

DEFAULT_MAX_JOBS = 10


@dataclass(frozen=True)
class Problem:
    """One reason the simulator refuses a request or a job.

    ``job_index`` is None for a problem with the request as a whole; ``field`` is the dotted
    API path (``source_endpoint.db_port``), empty when the whole job is wrong.
    """

    code: str
    field: str
    message: str
    job_index: int | None = None
    job_name: str | None = None
    rule: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "job_index": self.job_index,
            "name": self.job_name,
            "field": self.field,
            "error_code": self.code,
            "error_msg": self.message,
            "rule": self.rule,
        }


@dataclass
class BatchCheck:
    """The verdict on one batch-creation body: a request-level problem, or per-job problems."""

    request_problem: Problem | None = None
    job_problems: dict[int, list[Problem]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.request_problem is None and not self.job_problems


@cache
def load_schema() -> dict[str, Any]:
    """The JSON Schema document, parsed once. Callers must not mutate it."""
    text = resources.files(__package__).joinpath("wire_schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return schema


def _is_strict_integer(_checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


_StrictValidator = jsonschema.validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer),
)


@cache
def _validator(max_jobs: int) -> Any:
    schema = load_schema()
    if max_jobs != schema["properties"]["jobs"]["maxItems"]:
        schema = copy.deepcopy(schema)
        schema["properties"]["jobs"]["maxItems"] = max_jobs
    return _StrictValidator(schema)


@cache
def _fast_validator(max_jobs: int) -> Any:
    """The same schema compiled to Python code; draft-07 semantics cover every keyword it uses."""
    schema = copy.deepcopy(load_schema())
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema.pop("$id", None)
    schema["properties"]["jobs"]["maxItems"] = max_jobs
    return fastjsonschema.compile(schema)


def warm(max_jobs: int = DEFAULT_MAX_JOBS) -> None:
    """Build the cached validators ahead of the first request."""
    _validator(max_jobs)
    _fast_validator(max_jobs)


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, Mapping):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return False


def fast_accepts(body: Any, max_jobs: int = DEFAULT_MAX_JOBS) -> bool:
    """True when the body is certainly valid; False means 'ask jsonschema'."""
    if _has_float(body):
        return False
    try:
        _fast_validator(max_jobs)(body)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _dotted(parts: Iterable[Any]) -> str:
    return ".".join(str(p) for p in parts)


def _rule_of(error: ValidationError) -> dict[str, Any] | None:
    """The CreateJobReq.allOf rule an error came from, if any (only CreateJobReq uses allOf)."""
    path = list(error.absolute_schema_path)
    if "allOf" not in path:
        return None
    index = path[path.index("allOf") + 1]
    rule: dict[str, Any] = load_schema()["$defs"]["CreateJobReq"]["allOf"][index]
    return rule


def _job_problem(error: ValidationError, index: int, name: str | None) -> Problem:
    inner = list(error.path)[2:]  # drop "jobs", index
    rule = _rule_of(error)
    if error.validator == "required":
        missing = [p for p in error.validator_value if isinstance(error.instance, Mapping) and p not in error.instance]
        field_path = _dotted([*inner, missing[0] if missing else "?"])
        detail = rule["x-message"] if rule else "mandatory parameter missing"
        return Problem(CODE_EMPTY, field_path, f"the parameter {field_path} is empty ({detail})", index, name,
                       rule["x-rule"] if rule else None)
    if rule is not None:
        field_path = _dotted(inner) if inner else rule["x-field"]
        return Problem(CODE_INVALID, field_path, f"the value of {field_path} is invalid: {rule['x-message']}",
                       index, name, rule["x-rule"])
    if not inner and error.validator == "type":
        return Problem(CODE_INVALID, "", "a job must be a JSON object", index, name)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        field_path = _dotted([*inner, extra[0]]) if extra else _dotted(inner)
        return Problem(CODE_INVALID, field_path, f"unknown parameter {field_path}", index, name)
    field_path = _dotted(inner)
    return Problem(CODE_INVALID, field_path, f"the value of {field_path} is invalid: {error.message}", index, name)


def _request_problem(error: ValidationError) -> Problem:
    path = list(error.path)
    if error.validator == "required":
        return Problem(CODE_EMPTY, "jobs", "The parameter jobs is empty.")
    if path == ["jobs"] and error.validator == "minItems":
        return Problem(CODE_EMPTY, "jobs", "The parameter jobs is empty.")
    if path == ["jobs"] and error.validator == "maxItems":
        return Problem(CODE_PARAMETER_ERROR, "jobs",
                       f"Parameter error: at most {error.validator_value} jobs per request, got {len(error.instance)}.")
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - {"jobs"})
        return Problem(CODE_PARAMETER_ERROR, extra[0] if extra else "", f"Parameter error: unknown parameter {extra}.")
    return Problem(CODE_PARAMETER_ERROR, _dotted(path), f"Parameter error: {error.message}")


def check_batch(body: Any, max_jobs: int = DEFAULT_MAX_JOBS, *, fast: bool = True) -> BatchCheck:
    """Check a parsed batch-creation body the way the simulator answers it.

    A request-level problem (not an object, no or empty ``jobs``, too many jobs, unknown
    top-level key) wins over job problems, because then no job is looked at.
    """
    result = BatchCheck()
    if fast and fast_accepts(body, max_jobs):
        return result
    if not isinstance(body, Mapping):
        result.request_problem = Problem(CODE_PARAMETER_ERROR, "", "Parameter error: the body must be a JSON object.")
        return result
    jobs = body.get("jobs")
    job_errors: list[ValidationError] = []
    for error in _validator(max_jobs).iter_errors(body):
        path = list(error.path)
        if len(path) >= 2 and path[0] == "jobs":
            job_errors.append(error)
        elif result.request_problem is None:
            result.request_problem = _request_problem(error)
    if result.request_problem is not None:
        return result
    assert isinstance(jobs, list)
    for error in sorted(job_errors, key=lambda e: [str(p) for p in e.path]):
        index = error.path[1]
        job = jobs[index]
        name = job.get("name") if isinstance(job, Mapping) and isinstance(job.get("name"), str) else None
        result.job_problems.setdefault(index, []).append(_job_problem(error, index, name))
    return result


def _properties(definition: str) -> dict[str, Any]:
    props: dict[str, Any] = load_schema()["$defs"][definition]["properties"]
    return props


def _api_page_keys(definition: str) -> set[str]:
    sdk_only = set(load_schema()["$defs"][definition].get("x-sdk-only", []))
    return set(_properties(definition)) - sdk_only


def wire_field_names() -> dict[str, set[str]]:
    """The keys of the API page's tables as this schema knows them (SDK-only keys left out).

    Keys: ``CreateJobReq``, ``Endpoint``, ``ResourceTag``. For the tool's cross-check test.
    """
    return {name: _api_page_keys(name) for name in ("CreateJobReq", "Endpoint", "ResourceTag")}


def sdk_only_field_names() -> dict[str, set[str]]:
    """Keys the schema accepts only because the official SDK sends them (notes 1.2/1.3)."""
    schema = load_schema()["$defs"]
    return {name: set(schema[name].get("x-sdk-only", [])) for name in ("CreateJobReq", "Endpoint")}


def wire_required_fields() -> set[str]:
    """The CreateJobReq keys the API page marks mandatory (the ten)."""
    return set(load_schema()["$defs"]["CreateJobReq"]["required"])


def wire_enums() -> dict[str, set[str]]:
    """Allowed values per API path (``engine_type``, ``source_endpoint.db_type``, ...).

    Only API page fields: SDK-only enums (``charging_mode``, ``safe_mode``) are left out.
    """
    enums: dict[str, set[str]] = {}
    job_keys = _api_page_keys("CreateJobReq")
    endpoint_keys = _api_page_keys("Endpoint")
    for key, spec in _properties("CreateJobReq").items():
        if key in job_keys and "enum" in spec:
            enums[key] = set(spec["enum"])
    for side in ("source_endpoint", "target_endpoint"):
        for key, spec in _properties("Endpoint").items():
            if key in endpoint_keys and "enum" in spec:
                enums[f"{side}.{key}"] = set(spec["enum"])
    return enums


# -- the launch calls --------------------------------------------------------------------------

#: Endpoint kind -> the $defs entry describing its request body (named after the SDK's model).
LAUNCH_BODIES: dict[str, str] = {
    "connect": "BatchTestConnectionReq",
    "objects": "BatchUpdateDatabaseObjectReq",
    "precheck": "BatchPrecheckReq",
    "precheck_result": "BatchQueryPrecheckResultReq",
    "start": "BatchStartJobReq",
    "progress": "BatchQueryProgressReq",
}


def _launch_schema(kind: str, max_jobs: int, draft07: bool = False) -> dict[str, Any]:
    """A standalone schema for one launch body: a $ref to its definition plus every definition."""
    defs = copy.deepcopy(load_schema()["$defs"])
    defs[LAUNCH_BODIES[kind]]["properties"]["jobs"]["maxItems"] = max_jobs
    if draft07:
        return {"$schema": "http://json-schema.org/draft-07/schema#", "definitions": defs,
                "$ref": f"#/definitions/{LAUNCH_BODIES[kind]}"}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs,
            "$ref": f"#/$defs/{LAUNCH_BODIES[kind]}"}


@cache
def _launch_validator(kind: str, max_jobs: int) -> Any:
    return _StrictValidator(_launch_schema(kind, max_jobs))


@cache
def _launch_fast_validator(kind: str, max_jobs: int) -> Any:
    text = json.dumps(_launch_schema(kind, max_jobs, draft07=True)).replace('"#/$defs/', '"#/definitions/')
    return fastjsonschema.compile(json.loads(text))


def warm_launch(max_jobs: int = DEFAULT_MAX_JOBS) -> None:
    """Build the launch bodies' validators ahead of the first request."""
    for kind in LAUNCH_BODIES:
        _launch_validator(kind, max_jobs)
        _launch_fast_validator(kind, max_jobs)


def _resolve(node: Any) -> Any:
    while isinstance(node, Mapping) and "$ref" in node:
        node = load_schema()["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _launch_rule(kind: str, error: ValidationError) -> Mapping[str, Any] | None:
    """The allOf rule (with x-rule/x-message) an error of a launch body came from, if any.

    jsonschema reports paths through a $ref as if the target were inline, so the path is
    walked from the body's definition, resolving each $ref on the way.
    """
    node: Any = load_schema()["$defs"][LAUNCH_BODIES[kind]]
    rule = None
    parts = list(error.absolute_schema_path)
    if parts and parts[0] == "$ref":
        parts = parts[1:]
    index = 0
    while index < len(parts):
        node = _resolve(node)
        part = parts[index]
        if part == "allOf":
            rule = node["allOf"][parts[index + 1]]
            node = rule
            index += 2
            continue
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        index += 1
    return rule if isinstance(rule, Mapping) and "x-rule" in rule else None


def _launch_item_problem(kind: str, error: ValidationError, index: int, label: str | None) -> Problem:
    inner = list(error.path)[2:]  # drop "jobs", index
    rule = _launch_rule(kind, error)
    if error.validator == "required":
        # jsonschema reports one error per missing key; the message names that key.
        missing = re.match(r"^'([^']*)' is a required property", error.message)
        field_path = _dotted([*inner, missing.group(1) if missing else "?"])
        detail = f" ({rule['x-message']})" if rule else ""
        return Problem(CODE_EMPTY, field_path, f"the parameter {field_path} is empty{detail}", index, label,
                       rule["x-rule"] if rule else None)
    if rule is not None:
        field_path = _dotted(inner) if inner else rule["x-field"]
        return Problem(CODE_INVALID, field_path, f"the value of {field_path} is invalid: {rule['x-message']}",
                       index, label, rule["x-rule"])
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        field_path = _dotted([*inner, extra[0]]) if extra else _dotted(inner)
        return Problem(CODE_INVALID, field_path, f"unknown parameter {field_path}", index, label)
    field_path = _dotted(inner)
    what = f"the value of {field_path}" if field_path else "the item"
    return Problem(CODE_INVALID, field_path, f"{what} is invalid: {error.message}", index, label)


def check_launch(kind: str, body: Any, max_jobs: int = DEFAULT_MAX_JOBS, *, fast: bool = True) -> BatchCheck:
    """Check a parsed launch-call body (``kind`` is a key of LAUNCH_BODIES) as the simulator answers it.

    Request-level problems (not an object, no or empty ``jobs``, too many items, unknown
    top-level key, repeated IDs where they must be unique) win over item problems.
    Item problems are keyed by the item's index; ``job_name`` holds the item's task ID.
    """
    result = BatchCheck()
    if fast and not _has_float(body):
        try:
            _launch_fast_validator(kind, max_jobs)(body)
            return result
        except fastjsonschema.JsonSchemaException:
            pass
    if not isinstance(body, Mapping):
        result.request_problem = Problem(CODE_PARAMETER_ERROR, "", "Parameter error: the body must be a JSON object.")
        return result
    item_errors: list[ValidationError] = []
    for error in _launch_validator(kind, max_jobs).iter_errors(body):
        path = list(error.path)
        if len(path) >= 2 and path[0] == "jobs":
            item_errors.append(error)
        elif result.request_problem is None:
            if path == ["jobs"] and error.validator == "uniqueItems":
                result.request_problem = Problem("DRS.M00301", "jobs", "There are duplicate task IDs in request.")
            else:
                result.request_problem = _request_problem(error)
    if result.request_problem is not None:
        return result
    jobs = body.get("jobs")
    assert isinstance(jobs, list)
    for error in sorted(item_errors, key=lambda e: [str(p) for p in e.path]):
        index = error.path[1]
        item = jobs[index]
        label = None
        if isinstance(item, Mapping):
            value = item.get("job_id", item.get("id"))
            label = value if isinstance(value, str) else None
        elif isinstance(item, str):
            label = item
        result.job_problems.setdefault(index, []).append(_launch_item_problem(kind, error, index, label))
    return result


def launch_field_names() -> dict[str, set[str]]:
    """Keys each launch definition knows, SDK-only keys included (for the SDK referee tests)."""
    defs = load_schema()["$defs"]
    names = ("TestEndPoint", "UpdateDatabaseObjectReq", "DatabaseInfo", "PreCheckInfo", "StartInfo")
    return {name: set(defs[name]["properties"]) for name in names}
