"""What a submit run is asked and what it answers: options, plan, timings, one outcome per row."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bulkimport import fields, payload
from bulkimport.campaign import Campaign
from bulkimport.errors import InputError
from bulkimport.fields import LANGUAGES, MAX_CONCURRENCY
from bulkimport.outcomes import Result
from bulkimport.terminal import requests_word, say, tasks_word

if TYPE_CHECKING:
    from bulkimport.drs import RetryPolicy



#: Results that a failed-rows workbook carries (rows to fix and submit again).
FAILED_RESULTS = frozenset({Result.INVALID, Result.REJECTED, Result.UNKNOWN, Result.NOT_SENT})
#: Finding code of the drift warnings (the sheet or the workbook's names moved since creation).
DRIFT = "drift"


# -- options and outcomes -------------------------------------------------------------------

@dataclass
class SubmitOptions:
    """Everything `bulkimport submit` can be told; delays are options so tests run fast."""

    project_id: str | None = None
    endpoint: str | None = None
    region: str | None = None
    simulate: bool = False
    simulator_state: Path | None = None
    sheet: str | None = None
    batch_size: int = fields.MAX_JOBS_PER_REQUEST
    concurrency: int = 4
    dry_run: bool = False
    out: Path | None = None
    ledger: Path | None = None
    #: The run's language (X-Language of the requests, the tool's messages and report);
    #: None: the workbook's template language.
    language: str | None = None
    ca_bundle: str | None = None
    insecure: bool = False
    connect_timeout: float = 10.0
    timeout: float = 120.0
    #: The retry deadline (`--retry-for`): seconds per batch, and per lookup, during which
    #: throttling and transient errors are retried; `max_attempts` is an optional extra bound.
    max_attempts: int | None = None
    max_retry_time: float = 300.0
    base_delay: float = 0.5
    max_delay: float = 20.0
    jitter: float = 0.5
    #: Where the sign-off report (HTML + JSON) goes.
    report_dir: Path = Path("reports")
    #: Replace an existing --out file even when it is not one of this tool's outputs.
    force: bool = False

    def retry_policy(self) -> RetryPolicy:
        """The one retry policy of a run, for the client's look-ups and the engine's batches."""
        from bulkimport.drs import RetryPolicy

        return RetryPolicy(attempts=self.max_attempts, base_delay=self.base_delay, max_delay=self.max_delay,
                           total_time=self.max_retry_time, jitter=self.jitter)

    def check(self) -> None:
        """InputError (exit 2) for option values that cannot work."""
        payload.check_batch_size(self.batch_size)
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise InputError("concurrency must be between 1 and {most}, not {n}", most=MAX_CONCURRENCY,
                             n=self.concurrency)
        if self.language is not None and self.language not in LANGUAGES:
            raise InputError("language must be one of {languages}, not {language}", languages=", ".join(LANGUAGES),
                             language=repr(self.language))
        if self.max_attempts is not None and self.max_attempts < 1:
            raise InputError("max attempts must be at least 1")
        for name, value, positive in (("--timeout", self.timeout, True),
                                      ("connect timeout", self.connect_timeout, True),
                                      ("--max-retry-time", self.max_retry_time, False),
                                      ("--retry-delay", self.base_delay, False), ("max delay", self.max_delay, False),
                                      ("jitter", self.jitter, False)):
            if not (math.isfinite(value) and (value > 0 if positive else value >= 0)):
                if positive:
                    raise InputError("{name} must be a finite number of seconds above 0, not {value}", name=name,
                                     value=value)
                raise InputError("{name} must be a finite number of seconds from 0, not {value}", name=name,
                                 value=value)
        if not self.simulate and not (self.endpoint or self.region):
            raise InputError("give --endpoint URL, --region REGION or --simulate (or --os-cloud NAME with a "
                             "region_name)")
        if self.simulate and (self.endpoint or self.region):
            raise InputError("--simulate sends to a local simulator: leave out --endpoint and --region")
        if self.simulator_state is not None and not self.simulate:
            raise InputError("--simulator-state needs --simulate")


@dataclass
class RowOutcome:
    """What happened to one workbook row."""

    row: int
    name: str | None
    result: Result
    task_id: str | None = None
    child_ids: tuple[str, ...] = ()
    task_status: str | None = None
    error_code: str | None = None
    error_msg: str | None = None
    submitted_at: str | None = None
    request_id: str | None = None
    #: The fields whose cells no longer match what was sent (an ALREADY_CREATED row): the drift warning.
    drifted: tuple[str, ...] = ()

    def columns(self) -> dict[str, object]:
        """The appended result columns (`source_row` is added by the workbook writer)."""
        return {
            "result": str(self.result),
            "task_id": self.task_id,
            "child_ids": ",".join(self.child_ids) or None,
            "task_status": self.task_status,
            "error_code": self.error_code,
            "error_msg": self.error_msg,
            "submitted_at": self.submitted_at,
            "request_id": self.request_id,
        }

    def to_dict(self) -> dict[str, object]:
        return {"row": self.row, "name": self.name, **self.columns(), "child_ids": list(self.child_ids)}


@dataclass
class Plan:
    """What is about to happen, for the one-line plan and the confirmation."""

    endpoint: str
    project_id: str
    to_create: int
    requests: int
    already_created: int = 0
    found_in_doubt: int = 0
    unknown: int = 0
    invalid: int = 0
    batch_size: int = fields.MAX_JOBS_PER_REQUEST
    concurrency: int = 1
    #: The run's language: the plan line and the confirmation prompt are written in it.
    language: str = "en-us"

    def line(self) -> str:
        lang = self.language
        text = say(lang, "{tasks} to create in project {project} at endpoint {endpoint}, {requests} "
                   "(batch size {size}, concurrency {concurrency})", tasks=tasks_word(lang, self.to_create),
                   project=self.project_id, endpoint=self.endpoint, requests=requests_word(lang, self.requests),
                   size=self.batch_size, concurrency=self.concurrency)
        extras = [say(lang, what, n=n) for n, what in (
            (self.already_created, "{n} already created"),
            (self.found_in_doubt, "{n} found on the server after an earlier interrupted run"),
            (self.unknown, "{n} in doubt and not checkable now"), (self.invalid, "{n} invalid")) if n]
        then, also = ("；", "，") if lang == "zh-cn" else ("; ", ", ")
        return text + (then + also.join(extras) if extras else "")

    def question(self) -> str:
        """The confirmation prompt."""
        return say(self.language, "Send these requests?")


@dataclass
class Timings:
    """Monotonic clock readings for the benchmark: the submission phase is first request to
    last response, and it is compared with the whole run."""

    started: float = field(default_factory=time.monotonic)
    first_request: float | None = None
    last_response: float | None = None
    finished: float | None = None
    requests: int = 0
    #: Seconds of backoff the engine asked for (Retry-After included), summed over batches.
    backoff: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sent(self) -> None:
        with self.lock:
            self.requests += 1
            if self.first_request is None:
                self.first_request = time.monotonic()

    def answered(self) -> None:
        with self.lock:
            self.last_response = time.monotonic()

    @property
    def submission_seconds(self) -> float | None:
        if self.first_request is None or self.last_response is None:
            return None
        return self.last_response - self.first_request

    @property
    def total_seconds(self) -> float | None:
        return None if self.finished is None else self.finished - self.started


@dataclass
class SubmitOutcome:
    """Everything a caller (the CLI, a test, a script) needs after a submit."""

    rows: list[RowOutcome]
    campaign: Campaign
    exit_code: int
    results_path: Path | None = None
    failed_path: Path | None = None
    dry_run_path: Path | None = None
    ledger_path: Path | None = None
    report_html: Path | None = None
    report_json: Path | None = None
    plan: Plan | None = None
    timings: Timings = field(default_factory=Timings)
    interrupted: bool = False
    message: str | None = None

    def counts(self) -> dict[str, int]:
        counts = Counter(str(r.result) for r in self.rows)
        return {str(r): counts[str(r)] for r in Result if counts[str(r)]}

    def to_json(self) -> dict[str, Any]:
        """The `--json` summary: machine-readable, no secrets (rows carry no cell values)."""
        return {
            "exit_code": self.exit_code,
            "counts": self.counts(),
            "interrupted": self.interrupted,
            "message": self.message,
            "endpoint": self.campaign.endpoint,
            "project_id": self.campaign.project_id,
            "dry_run": self.campaign.dry_run == "true",
            "results_workbook": str(self.results_path) if self.results_path else None,
            "failed_workbook": str(self.failed_path) if self.failed_path else None,
            "dry_run_file": str(self.dry_run_path) if self.dry_run_path else None,
            "ledger": str(self.ledger_path) if self.ledger_path else None,
            "report_html": str(self.report_html) if self.report_html else None,
            "report_json": str(self.report_json) if self.report_json else None,
            "requests": self.timings.requests,
            "rows": [r.to_dict() for r in self.rows],
        }


