"""Run-time behaviour of the simulator: fault rates, one-shot faults, lifecycle timing.

Everything a test may want to change while the server runs lives in ``FaultConfig`` (set
at start, changed through ``POST /_admin/faults`` or ``Simulator.set_faults``). The field
names map 1:1 to ``bulkimport simulator`` options (``error_500_rate`` -> ``--error-500-rate``);
each field's ``metadata["help"]`` is the option's help text.

Random decisions come from one seeded ``random.Random``, so a single-client run with the
same seed sees the same faults. Tests that need certainty use the ``next`` queue instead
of rates: each entry is consumed by the next request of its endpoint kind.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

#: Endpoint kinds a queued fault can target (``"status:500"``); a bare name targets ``create``.
#: The last six are the launch calls (docs/launch-api.md).
ENDPOINT_KINDS = ("create", "status", "detail", "list", "delete",
                  "connect", "objects", "precheck", "precheck_result", "start", "progress")

#: Faults that decide the whole answer of a request (any endpoint kind).
REQUEST_FAULTS = ("ok", "reset", "lost_response", "500", "429", "m01503", "token_expired")
#: Faults that make sense only for batch-creation.
CREATE_ONLY_FAULTS = ("500_created", "item_failure", "create_failure")
FAULT_NAMES = REQUEST_FAULTS + CREATE_ONLY_FAULTS
#: ``500_created`` means "performed, then answered 500": batch-starting may have it too.
PERFORMED_THEN_500_KINDS = ("create", "start")

#: Pre-check items used when a --precheck-fail/--precheck-alarm entry names a task but no item.
DEFAULT_FAILED_ITEM = "srcDbPrivilegesIsEnough"
DEFAULT_ALARM_ITEM = "dbParamConsistency"
_TASK_NAME = re.compile(r"^(\*|[A-Za-z][A-Za-z0-9_-]*)$")
_ITEM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

INVALID_JOB_MODES = ("request", "item")
DUPLICATE_NAME_MODES = ("item", "request")


def _opt(default: Any, help_text: str) -> Any:
    return field(default=default, metadata={"help": help_text})


@dataclass
class FaultConfig:
    """Fault rates and behaviour switches, all changeable at run time.

    Rates are probabilities in [0, 1]. The request-level rates (reset, lost response, 500,
    500 after create, 429, M01503) share one draw per request, so their sum must be <= 1.
    """

    latency: float = _opt(0.0, "Seconds added to every DRS API request (not IAM, not admin).")
    error_500_rate: float = _opt(0.0, "Share of batch-creation requests answered 500 DRS.M00004; nothing is created.")
    error_500_created_rate: float = _opt(
        0.0, "Share of batch-creation requests whose jobs are created but that are answered 500 anyway.")
    rate_429: float = _opt(0.0, "Share of batch-creation requests answered 429 APIG.0308 with a Retry-After header.")
    retry_after: int = _opt(1, "Seconds sent in the Retry-After header of a 429.")
    m01503_rate: float = _opt(0.0, "Share of batch-creation requests answered 400 DRS.M01503 (operation too frequent).")
    reset_rate: float = _opt(0.0, "Share of batch-creation requests whose connection is reset before processing.")
    lost_response_rate: float = _opt(
        0.0, "Share of batch-creation requests whose jobs are created, then the connection is closed with no reply.")
    item_failure_rate: float = _opt(
        0.0, "Share of jobs that fail inside a 202 with DRS.M05066 (nothing created for them).")
    create_failure_rate: float = _opt(
        0.0, "Share of created tasks that end in CREATE_FAILED instead of CONFIGURATION.")
    token_ttl_requests: int = _opt(
        0, "A token expires after this many authenticated requests (401 'The token must be updated'); 0 = never.")
    faults_on_queries: bool = _opt(
        False, "Also apply the request-level rates to every other DRS endpoint: batch-status, batch-detail, the "
        "task list, batch delete and the launch calls.")
    transition_delay: float = _opt(
        0.5, "Seconds a new task stays CREATING (and a stopped task RELEASE_RESOURCE_STARTED).")
    invalid_job_mode: str = _opt(
        "request", "How a job with invalid fields is answered: 'request' (whole request 400) or 'item' (failed item).")
    duplicate_name_mode: str = _opt(
        "item", "How a task name that exists is answered: 'item' (failed item DRS.M00277 in the 202) or "
        "'request' (whole request 422 DRS.M00277, nothing created).")
    shuffle_results: bool = _opt(False, "Return batch-creation results in a shuffled order.")
    connection_fail: list[str] = field(default_factory=list, metadata={
        "help": "Connection tests that fail as unreachable: HOST, HOST:PORT or :PORT (repeatable)."})
    precheck_duration: float = _opt(
        1.0, "Seconds a pre-check runs before its result is final (process below 100% until then).")
    precheck_fail: list[str] = field(default_factory=list, metadata={
        "help": f"TASK[:ITEM]: that task's pre-check fails at ITEM (default {DEFAULT_FAILED_ITEM}); "
        "TASK '*' means every task (repeatable)."})
    precheck_alarm: list[str] = field(default_factory=list, metadata={
        "help": f"TASK[:ITEM]: that task's pre-check passes with an ALARM at ITEM (default {DEFAULT_ALARM_ITEM}); "
        "TASK '*' means every task (repeatable)."})
    start_refuse: list[str] = field(default_factory=list, metadata={
        "help": "Tasks whose batch-starting item is refused with DRS.M01504 ('*' = every task; repeatable)."})
    start_fail: list[str] = field(default_factory=list, metadata={
        "help": "Tasks whose accepted start ends in START_JOB_FAILED ('*' = every task; repeatable)."})
    transfer_fail: list[str] = field(default_factory=list, metadata={
        "help": "Tasks whose transfer fails half-way (FULL_TRANSFER_FAILED, or INCRE_TRANSFER_FAILED for "
        "INCR_TRANS) ('*' = every task; repeatable)."})
    start_delay: float = _opt(0.5, "Seconds a started task stays STARTJOBING.")
    full_duration: float = _opt(
        5.0, "Seconds of full migration (FULL_TRANSFER_STARTED, progress rising to 100) after STARTJOBING.")
    incre_delay: int = _opt(1, "Seconds reported as incre_trans_delay once a task replicates incrementally.")
    next: list[str] = field(default_factory=list, metadata={
        "help": "One-shot faults for the next requests, in order: 'fault' (batch-creation) or 'kind:fault' "
        f"with kind in {', '.join(ENDPOINT_KINDS)}; faults: {', '.join(FAULT_NAMES)}."})

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError on a value the simulator could not honour."""
        for name in ("error_500_rate", "error_500_created_rate", "rate_429", "m01503_rate", "reset_rate",
                     "lost_response_rate", "item_failure_rate", "create_failure_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}")
        if sum(rate for _, rate in self.request_rates()) > 1:
            raise ValueError("the request-level fault rates add up to more than 1")
        for name in ("latency", "transition_delay", "precheck_duration", "start_delay", "full_duration"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        for name in ("retry_after", "token_ttl_requests", "incre_delay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        for name in ("faults_on_queries", "shuffle_results"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false")
        if self.invalid_job_mode not in INVALID_JOB_MODES:
            raise ValueError(f"invalid_job_mode must be one of {INVALID_JOB_MODES}")
        if self.duplicate_name_mode not in DUPLICATE_NAME_MODES:
            raise ValueError(f"duplicate_name_mode must be one of {DUPLICATE_NAME_MODES}")
        for name in ("next", *LIST_FIELDS):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{name} must be a list of strings")
        for entry in self.next:
            parse_queued(entry)
        for entry in self.connection_fail:
            parse_host_port(entry)
        for name in ("precheck_fail", "precheck_alarm"):
            for entry in getattr(self, name):
                parse_task_item(entry, name)
        for name in ("start_refuse", "start_fail", "transfer_fail"):
            for entry in getattr(self, name):
                if not _TASK_NAME.match(entry):
                    raise ValueError(f"{name}: {entry!r} is not a task name (or '*')")

    def names_task(self, field_name: str, task_name: str) -> bool:
        """Whether a list option of task names (start_refuse, ...) covers this task (case-insensitive)."""
        key = task_name.lower()
        return any(entry == "*" or entry.lower() == key for entry in getattr(self, field_name))

    def precheck_items(self, field_name: str, task_name: str) -> list[str]:
        """The pre-check items that precheck_fail / precheck_alarm set for this task, in order."""
        key = task_name.lower()
        items: list[str] = []
        for entry in getattr(self, field_name):
            task, item = parse_task_item(entry, field_name)
            if (task == "*" or task.lower() == key) and item not in items:
                items.append(item)
        return items

    def request_rates(self) -> list[tuple[str, float]]:
        """(fault name, rate) for the faults decided once per request, in draw order."""
        return [("reset", self.reset_rate), ("lost_response", self.lost_response_rate),
                ("500", self.error_500_rate), ("500_created", self.error_500_created_rate),
                ("429", self.rate_429), ("m01503", self.m01503_rate)]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, changes: Mapping[str, Any]) -> FaultConfig:
        """A copy with ``changes`` applied; unknown keys or bad values raise ValueError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown fault option(s): {', '.join(unknown)}")
        values = dict(changes)
        for name in ("next", *LIST_FIELDS):
            if isinstance(values.get(name), list | tuple):
                values[name] = list(values[name])
        return replace(self, **values)  # __post_init__ validates

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultConfig:
        return cls().updated(data)


def fault_option_help() -> dict[str, str]:
    """FaultConfig field name -> help text, for building CLI options."""
    return {f.name: f.metadata.get("help", "") for f in fields(FaultConfig)}


#: FaultConfig fields holding lists of strings (repeatable options), besides ``next``.
LIST_FIELDS = ("connection_fail", "precheck_fail", "precheck_alarm", "start_refuse", "start_fail", "transfer_fail")


def parse_host_port(entry: str) -> tuple[str | None, int | None]:
    """``"10.0.0.5"`` -> (host, None); ``"10.0.0.5:3306"`` -> (host, 3306); ``":3306"`` -> (None, 3306)."""
    host, sep, port_text = entry.rpartition(":")
    if not sep:
        host, port_text = entry, ""
    port = None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"connection_fail: {entry!r} has no valid port (1-65535)")
        port = int(port_text)
    if not host and port is None:
        raise ValueError(f"connection_fail: {entry!r} names neither a host nor a port")
    return (host.lower() or None), port


def parse_task_item(entry: str, field_name: str = "precheck_fail") -> tuple[str, str]:
    """``"TASK:item"`` -> (TASK, item); ``"TASK"`` -> (TASK, the field's default item)."""
    task, _, item = entry.partition(":")
    item = item or (DEFAULT_ALARM_ITEM if field_name == "precheck_alarm" else DEFAULT_FAILED_ITEM)
    if not _TASK_NAME.match(task) or not _ITEM_NAME.match(item):
        raise ValueError(f"{field_name}: {entry!r} is not TASK or TASK:ITEM")
    return task, item


def parse_queued(entry: Any) -> tuple[str, str]:
    """``"500"`` -> ("create", "500"); ``"status:429"`` -> ("status", "429"). Raises ValueError."""
    if not isinstance(entry, str):
        raise ValueError(f"queued fault must be a string, got {entry!r}")
    kind, _, name = entry.rpartition(":")
    kind = kind or "create"
    if kind not in ENDPOINT_KINDS:
        raise ValueError(f"unknown endpoint kind {kind!r} in queued fault {entry!r}; use one of {ENDPOINT_KINDS}")
    if name not in FAULT_NAMES:
        raise ValueError(f"unknown fault {name!r} in {entry!r}; use one of {FAULT_NAMES}")
    if name == "500_created" and kind in PERFORMED_THEN_500_KINDS:
        return kind, name
    if kind != "create" and name in CREATE_ONLY_FAULTS:
        raise ValueError(f"fault {name!r} applies to batch-creation only")
    return kind, name


class FaultPlan:
    """Turns a FaultConfig plus a seeded generator into concrete decisions, thread-safely."""

    def __init__(self, config: FaultConfig, seed: int | str | None) -> None:
        self._lock = threading.Lock()
        self._config = config
        self._rng = random.Random(seed)

    @property
    def config(self) -> FaultConfig:
        with self._lock:
            return replace(self._config, next=list(self._config.next))

    def set_config(self, config: FaultConfig) -> None:
        with self._lock:
            self._config = config

    def update(self, changes: Mapping[str, Any]) -> FaultConfig:
        with self._lock:
            self._config = self._config.updated(changes)
            return replace(self._config, next=list(self._config.next))

    def request_fault(self, kind: str) -> str | None:
        """The fault for one request of ``kind``: a queued one first, else a rate draw.

        Returns None (no fault) or a name from FAULT_NAMES; ``ok`` is reported as None.
        """
        with self._lock:
            for position, entry in enumerate(self._config.next):
                entry_kind, name = parse_queued(entry)
                if entry_kind == kind:
                    del self._config.next[position]
                    return None if name == "ok" else name
            if kind != "create" and not self._config.faults_on_queries:
                return None
            draw = self._rng.random()
            threshold = 0.0
            for name, rate in self._config.request_rates():
                if kind != "create" and name == "500_created":
                    continue
                threshold += rate
                if draw < threshold:
                    return name
            return None

    def chance(self, rate_name: str) -> bool:
        """One seeded draw against a per-item rate (``item_failure_rate``, ``create_failure_rate``)."""
        with self._lock:
            rate = getattr(self._config, rate_name)
            return rate > 0 and self._rng.random() < rate

    def shuffle(self, items: list[Any]) -> None:
        with self._lock:
            self._rng.shuffle(items)

    def random_bits(self, bits: int) -> int:
        with self._lock:
            return self._rng.getrandbits(bits)
