"""The HTTP client for the DRS v3 API: one batch-creation attempt, classified; companion calls.

Batch creation has no idempotency key, so the client never repeats a create by itself:
`send_batch` makes one attempt and says what the reply means for the rows in it (accepted,
safe to retry, in doubt, rejected); `submit.py` owns the exactly-once loop. The companion
calls (list, status, detail, delete) are reads or safe to repeat, so they retry here.

Nothing secret leaves this module: errors and logs carry the method, the path (the project
id is not a secret), HTTP status, error code and the server's message, never a header.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InsecureRequestWarning, MaxRetryError, NewConnectionError

from bulkimport import __version__
from bulkimport.drs.auth import Auth, AuthUnavailable
from bulkimport.errors import BulkImportError, InputError, Phrase
from bulkimport.outcomes import ExitCode

log = logging.getLogger(__name__)

#: Error codes that mean "too many requests, nothing was done": DRS's own and the API gateway's.
THROTTLE_CODES = frozenset({"DRS.M01503", "APIG.0308"})
#: The code DRS uses for "the task name already exists".
NAME_EXISTS = "DRS.M00277"
#: The API's page-size maximum for list, batch-status and batch-detail.
MAX_PAGE = 100
#: Jobs per batch-delete request (the tool's own cap, like the 10-jobs creation limit).
MAX_DELETE = 10
#: Items per request of the launch calls (docs/launch-api.md: at most 10, as for creation).
MAX_LAUNCH = 10
#: How much of a non-JSON error body is kept as the message.
_BODY_SNIPPET = 300

DEFAULT_USER_AGENT = f"bulkimport/{__version__} python-requests/{requests.__version__}"


class DrsError(BulkImportError):
    """A companion call failed for good (after retries). One line, no secrets. Exit code 3:
    whatever the command wanted to learn or change is now unknown."""

    exit_code = ExitCode.INCOMPLETE

    def __init__(self, http_status: int | None, error_code: str | None, error_msg: str | None,
                 operation: str | Phrase = "DRS API call") -> None:
        self.http_status = http_status
        self.error_code = error_code
        self.error_msg = error_msg
        self.operation = str(operation)
        operation = _phrase(operation)  # said in the run's language
        parts = [f"HTTP {http_status}" if http_status is not None else "no reply"]
        if error_code:
            parts.append(error_code)
        if error_msg:  # the server's message, as the server wrote it
            super().__init__("{operation} failed: {detail}: {message}", operation=operation, detail=" ".join(parts),
                             message=_one_line(error_msg))
        else:
            super().__init__("{operation} failed: {detail}", operation=operation, detail=" ".join(parts))


def _phrase(operation: str | Phrase) -> Phrase:
    """An operation's name as a Phrase, so an error quoting it says it in the run's language
    (every literal name passed to `_call`, `_by_ids` and `_launch` has its zh-cn text in
    terminal._ZH; a test holds the two together)."""
    return operation if isinstance(operation, Phrase) else Phrase(operation)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


@dataclass
class RetryPolicy:
    """How the companion calls retry (and the delays `submit.py` may borrow for its own loop).

    The bound is a deadline, `total_time` seconds (`--retry-for`): throttling and transient
    errors are not reasons to give up while it lasts, and it keeps a flapping server from
    holding a command for ever. `attempts` (every try, the first included) is an optional
    extra bound; None means the deadline alone decides.
    """

    attempts: int | None = None
    base_delay: float = 0.5
    max_delay: float = 20.0
    total_time: float = 300.0
    jitter: float = 0.5
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def exhausted(self, attempt: int, elapsed: float) -> bool:
        """True when no further try may start: the deadline is (or would be) past, or the
        optional attempt count is used up."""
        return elapsed >= self.total_time or (self.attempts is not None and attempt >= self.attempts)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based): exponential, capped,
        shortened by up to `jitter` of itself so parallel workers spread out; never shorter
        than the server's Retry-After, which knows better than any formula."""
        exponential = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        wait = exponential * (1.0 - self.jitter * self.rng.random())
        if retry_after is not None:
            wait = max(wait, retry_after)
        return max(0.0, wait)


class ReplyKind(StrEnum):
    """What a batch-creation reply means for its rows."""

    ACCEPTED = "accepted"  # 2xx: each result item is the job's outcome
    RETRY_SAFE = "retry_safe"  # nothing was created: send again (after a delay)
    IN_DOUBT = "in_doubt"  # may have been created: look the names up before sending again
    REJECTED = "rejected"  # the whole request was refused; nothing created


@dataclass
class JobResult:
    """One item of a batch-creation reply. An item with `error_code` is a per-job failure."""

    name: str | None
    id: str | None
    child_ids: list[str]
    status: str | None
    create_time: str | None
    error_code: str | None
    error_msg: str | None

    @property
    def failed(self) -> bool:
        return bool(self.error_code) or not self.id

    @classmethod
    def from_item(cls, item: Any) -> JobResult:
        item = item if isinstance(item, dict) else {}
        children = item.get("child_ids") or []
        return cls(
            name=_text(item.get("name")),
            id=_text(item.get("id")),
            child_ids=[str(c) for c in children] if isinstance(children, list) else [str(children)],
            status=_text(item.get("status")),
            create_time=_text(item.get("create_time")),
            error_code=_text(item.get("error_code")),
            error_msg=_text(item.get("error_msg") or item.get("error_message")),
        )


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


@dataclass
class BatchReply:
    """The classified answer to one batch-creation attempt.

    `results` holds every item of a 2xx reply (ACCEPTED); for REJECTED it holds any per-job
    items the error body carried (often none). Jobs of an ACCEPTED reply that no item names
    are in doubt (`missing_names`).
    """

    kind: ReplyKind
    http_status: int | None
    results: list[JobResult] = field(default_factory=list)
    error_code: str | None = None
    error_msg: str | None = None
    retry_after: float | None = None
    request_id: str | None = None

    def by_name(self) -> dict[str, JobResult]:
        """Results keyed by lower-cased name (names are case-insensitive on the server)."""
        return {r.name.lower(): r for r in self.results if r.name}

    def missing_names(self, names: Iterable[str]) -> list[str]:
        """Names sent that no result item answers for."""
        seen = self.by_name()
        return [n for n in names if n.lower() not in seen]


# -- transport ------------------------------------------------------------------------------

def make_session(pool_size: int = 10, verify: bool | str = True) -> requests.Session:
    """One pooled session: `--concurrency N` worker threads share its connections. Retries
    inside urllib3 are off, because a transparently repeated POST could create tasks twice."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.verify = verify
    if verify is False:
        # The CLI prints one loud warning; urllib3 would repeat it for every request.
        urllib3.disable_warnings(InsecureRequestWarning)
    return session


@dataclass
class _Exchange:
    """One HTTP exchange: a response, or the exception and whether the request may have
    reached the server (`sent`)."""

    response: requests.Response | None = None
    error: Exception | None = None
    sent: bool = True

    @property
    def status(self) -> int | None:
        return self.response.status_code if self.response is not None else None


def _sent_before_failure(exc: Exception) -> bool:
    """False only when the request certainly never reached the server: the connection was
    refused, the name did not resolve, the connect timed out, or the proxy or TLS handshake
    refused us. Everything else (read timeout, reset, closed connection) may have been
    processed."""
    if isinstance(exc, AuthUnavailable | requests.exceptions.ConnectTimeout | requests.exceptions.ProxyError):
        return False
    if isinstance(exc, requests.exceptions.SSLError):
        text = str(exc)
        return not ("CERTIFICATE_VERIFY_FAILED" in text or "hostname" in text.lower())
    if isinstance(exc, requests.exceptions.ConnectionError):
        inner = exc.args[0] if exc.args else None
        if isinstance(inner, MaxRetryError) and isinstance(inner.reason, NewConnectionError):
            return False
        if isinstance(inner, NewConnectionError):
            return False
    return True


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_of(body: Any, response: requests.Response | None = None) -> tuple[str | None, str | None]:
    """(error_code, error_msg) from a DRS error body: at the top level, in the gateway's
    `error_code`/`error_msg` shape, in the `code`/`message` shape, or nested in `results[0]`
    (some 400s). Falls back to the HTTP reason and a snippet of a non-JSON body."""
    if isinstance(body, dict):
        for code_key, msg_key in (("error_code", "error_msg"), ("errorCode", "errorMsg"), ("code", "message")):
            code = body.get(code_key)
            if code:
                return str(code), _text(body.get(msg_key) or body.get("error_message"))
        results = body.get("results")
        if isinstance(results, list):
            for item in results:
                if isinstance(item, dict) and item.get("error_code"):
                    return str(item["error_code"]), _text(item.get("error_msg") or item.get("error_message"))
        error = body.get("error")
        if isinstance(error, dict) and (error.get("code") or error.get("message")):
            return _text(error.get("code")), _text(error.get("message"))
    if response is not None:
        snippet = _one_line(response.text[:_BODY_SNIPPET]) if response.text else ""
        return None, snippet or response.reason or None
    return None, None


def _retry_after(response: requests.Response | None) -> float | None:
    """Retry-After in seconds, from either of its two forms (delta seconds or an HTTP date)."""
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


def _request_id(response: requests.Response | None) -> str | None:
    if response is None:
        return None
    return response.headers.get("X-Request-Id") or response.headers.get("X-Openstack-Request-Id")


def _is_throttle(status: int | None, code: str | None) -> bool:
    return status == 429 or (code in THROTTLE_CODES and status is not None and status >= 400)


def _describe(exc: BaseException) -> str:
    """A one-line, secret-free description of a transport failure, with the exception's type
    in parentheses so logs can be grepped for it."""
    if isinstance(exc, AuthUnavailable):
        return str(exc)
    name = type(exc).__name__
    inner = exc.args[0] if exc.args else None
    reason = getattr(inner, "reason", None) or inner
    detail = type(reason).__name__ if isinstance(reason, BaseException) else ""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        text = "no connection within the connect timeout"
    elif isinstance(exc, requests.exceptions.ReadTimeout):
        text = "no reply within the read timeout"
    elif isinstance(exc, requests.exceptions.SSLError):
        text = f"TLS failed: {_one_line(str(reason))[:200]}"
    elif isinstance(exc, requests.exceptions.ProxyError):
        text = "the proxy refused or failed the connection"
    elif isinstance(exc, requests.exceptions.ConnectionError) and not _sent_before_failure(exc):
        text = "could not connect (refused, unreachable or unknown host)"
    elif isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.ChunkedEncodingError):
        text = "the connection was reset or closed before a complete reply"
    else:
        text = "the request failed"
    kinds = name if not detail or detail == name else f"{name}, {detail}"
    return f"{text} ({kinds})"


#: Raised by requests before any byte is sent: a bug or a bad option, never a network problem.
_PRE_SEND_ERRORS = (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                    requests.exceptions.MissingSchema, requests.exceptions.InvalidHeader,
                    requests.exceptions.InvalidJSONError)
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def check_verify(verify: bool | str) -> bool | str:
    """`verify` as requests takes it; a CA bundle path must exist, or requests would fail at
    send time in a way indistinguishable from a network error."""
    if isinstance(verify, str) and not os.path.exists(verify):
        raise InputError("CA bundle {path} does not exist", path=repr(verify))
    return verify


# -- the client -----------------------------------------------------------------------------

class DrsClient:
    """DRS v3 for one endpoint and project, shared by the worker threads of a command."""

    def __init__(self, endpoint: str, project_id: str, auth: Auth, *, language: str = "en-us",
                 verify: bool | str = True, timeout: tuple[float, float] = (10, 120), pool_size: int = 10,
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 user_agent: str = DEFAULT_USER_AGENT, session: requests.Session | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.project_id = project_id
        self.base = f"{self.endpoint}/v3/{project_id}"
        self.auth = auth
        self.language = language
        self.verify = check_verify(verify)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.user_agent = user_agent
        self._own_session = session is None
        self.session = session or make_session(pool_size, verify)
        if verify is False:
            urllib3.disable_warnings(InsecureRequestWarning)

    def __repr__(self) -> str:
        return f"DrsClient(endpoint={self.endpoint!r}, project_id={self.project_id!r}, auth={self.auth!r})"

    # -- one exchange --------------------------------------------------------------------

    def _prepare(self, method: str, path: str, payload: Any) -> requests.PreparedRequest:
        headers = {"Content-Type": "application/json", "X-Language": self.language, "User-Agent": self.user_agent,
                   "Accept": "application/json"}
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8") if payload is not None else None
        request = requests.Request(method, f"{self.base}{path}", headers=headers, data=data)
        return self.session.prepare_request(request)

    def _exchange(self, method: str, path: str, payload: Any) -> _Exchange:
        """Prepare, authenticate and send once; transport failures become an _Exchange."""
        prepared = self._prepare(method, path, payload)
        try:
            self.auth.apply(prepared)
        except AuthUnavailable as exc:
            return _Exchange(error=exc, sent=False)
        settings = self.session.merge_environment_settings(prepared.url, {}, False, self.verify, None)
        if urlsplit(prepared.url or "").hostname in _LOOPBACK:
            settings["proxies"] = {}  # the simulator is local; an operator's proxy cannot reach it
        try:
            # InsecureRequestWarning was silenced once, at construction: warning filters are
            # process-wide, and changing them here, from worker threads, would race.
            response = self.session.send(prepared, timeout=self.timeout, allow_redirects=False, **settings)
            # Read the body now, so a connection that dies mid-body is a transport failure here.
            _ = response.content
        except _PRE_SEND_ERRORS:
            raise
        except Exception as exc:  # any failure once sending started is classified, not raised
            return _Exchange(error=exc, sent=_sent_before_failure(exc))
        log.debug("%s %s -> %s (request id %s)", method, path, response.status_code, _request_id(response))
        return _Exchange(response=response)

    def _exchange_with_auth(self, method: str, path: str, payload: Any) -> _Exchange:
        """One exchange, repeated with fresh credentials after a 401 (a 401 means the request
        was refused before anything was done, so repeating it is safe).

        With renewable tokens shared by worker threads, a retry can meet a 401 on a token
        that other threads have used up meanwhile: a 401 on a token *newer* than the one that
        failed means "renew again", until the deadline. Only a token refused twice, or a mode
        that cannot renew, makes the 401 final."""
        exchange = self._exchange(method, path, payload)
        refused: set[str] = set()
        started = time.monotonic()
        while exchange.status == 401:
            if refused:  # renewing again: do not hammer IAM while other threads use tokens up
                self.sleep(self.retry.delay(len(refused), None))
            used = _last_applied(self.auth)
            if used is not None and used in refused:
                break
            if used is not None:
                refused.add(used)
            if time.monotonic() - started >= self.retry.total_time or not self.auth.refresh():
                break
            log.debug("%s %s: 401, credentials refreshed, sending again", method, path)
            exchange = self._exchange(method, path, payload)
            if used is None:
                break  # a mode that cannot tell its tokens apart gets one renewal
        return exchange

    # -- batch creation ------------------------------------------------------------------

    def send_batch(self, jobs: list[dict]) -> BatchReply:
        """ONE attempt of POST /v3/{project_id}/jobs/batch-creation, classified (docs/decisions.md,
        "Exactly once"). Never raises for HTTP or network problems."""
        if not isinstance(jobs, list) or not jobs:
            raise ValueError("send_batch needs a non-empty list of job dicts")
        exchange = self._exchange_with_auth("POST", "/jobs/batch-creation", {"jobs": jobs})
        return classify(exchange)

    # -- companion calls (retried) -------------------------------------------------------

    def _call(self, method: str, path: str, payload: Any, operation: str | Phrase,
              results_on_400: bool = False) -> Any:
        """A read or repeatable call with retries on throttling, 5xx and transport errors.

        Returns the parsed JSON body. With `results_on_400`, a 400 whose body carries a
        `results` list is an answer (batch-status/detail report unknown ids that way)."""
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            exchange = self._exchange_with_auth(method, path, payload)
            response = exchange.response
            body = _body(response) if response is not None else None
            if response is not None and 200 <= response.status_code < 300 and body is not None:
                return body
            if (results_on_400 and response is not None and response.status_code == 400
                    and isinstance(body, dict) and isinstance(body.get("results"), list)):
                return body
            if response is not None:
                code, msg = _error_of(body, response)
            else:
                code, msg = None, _describe(exchange.error) if exchange.error is not None else "no reply"
            status = response.status_code if response is not None else 0
            retryable = (response is None or _is_throttle(status, code) or status >= 500
                         or (200 <= status < 300))  # a 2xx with an unreadable body: try again
            if not retryable:
                raise DrsError(status, code, msg, operation)
            retry_after = _retry_after(response)
            wait = self.retry.delay(attempt, retry_after)
            if self.retry.exhausted(attempt, time.monotonic() - started + wait):
                raise DrsError(status, code, msg,
                               Phrase("{operation} (after {attempts} attempts)", operation=_phrase(operation),
                                      attempts=attempt))
            log.debug("%s: %s, retrying in %.2fs", operation, status or msg, wait)
            self.sleep(wait)

    def list_tasks(self, db_use_type: str, name: str | None = None, per_page: int = MAX_PAGE) -> list[dict]:
        """Every task of one scenario (the list API requires `db_use_type`), all pages."""
        per_page = max(1, min(MAX_PAGE, per_page))
        tasks: dict[str, dict] = {}
        fetched = 0
        page = 1
        while True:
            payload: dict[str, Any] = {"cur_page": page, "per_page": per_page, "db_use_type": db_use_type}
            if name:
                payload["name"] = name
            body = self._call("POST", "/jobs", payload, Phrase("listing {scenario} tasks", scenario=db_use_type))
            jobs = body.get("jobs") if isinstance(body, dict) else None
            jobs = [j for j in jobs if isinstance(j, dict)] if isinstance(jobs, list) else []
            for task in jobs:  # a task created between two pages shifts the rest: keep each id once
                tasks.setdefault(str(task.get("id")), task)
            fetched += len(jobs)
            total = body.get("total_record") if isinstance(body, dict) else None
            try:
                total = int(total) if total is not None else None
            except (TypeError, ValueError):
                total = None
            if not jobs or (total is not None and fetched >= total) or (total is None and len(jobs) < per_page):
                return list(tasks.values())
            page += 1

    def find_tasks_by_name(self, name: str, db_use_types: Iterable[str]) -> list[dict]:
        """Tasks whose name equals `name` ignoring case, across the given scenarios. The
        server's `name` filter narrows the listing, but its matching rule is undocumented
        (it may match substrings or ids), so the exact comparison is done here."""
        wanted = name.casefold()
        found: dict[str, dict] = {}
        for db_use_type in dict.fromkeys(db_use_types):
            for task in self.list_tasks(db_use_type, name=name):
                if str(task.get("name", "")).casefold() == wanted:
                    found.setdefault(str(task.get("id")), task)
        return list(found.values())

    def _by_ids(self, path: str, ids: list[str], operation: str) -> list[dict]:
        results: list[dict] = []
        for chunk in _chunks(list(dict.fromkeys(ids)), MAX_PAGE):
            payload = {"jobs": chunk, "page_req": {"cur_page": 1, "per_page": len(chunk)}}
            body = self._call("POST", path, payload, operation, results_on_400=True)
            items = body.get("results") if isinstance(body, dict) else None
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict):
                    results.append(_with_error_aliases(item))
        return results

    def batch_status(self, ids: list[str]) -> list[dict]:
        """Statuses by task id, 100 ids per request. Each dict carries both `error_message`
        (the API's key here) and `error_msg` (the creation API's) when either is present."""
        return self._by_ids("/jobs/batch-status", ids, "querying task status")

    def batch_detail(self, ids: list[str]) -> list[dict]:
        """Task details by id, 100 ids per request (same error-key aliasing as batch_status)."""
        return self._by_ids("/jobs/batch-detail", ids, "querying task details")

    def batch_delete(self, items: list[tuple[str, str]]) -> list[dict]:
        """Stop or delete tasks: (job_id, delete_type) with delete_type terminate,
        force_terminate or delete; at most 10 per request. Per-task failures come back as
        items with `status: failed` and an error code, not as an exception."""
        results: list[dict] = []
        for chunk in _chunks(list(items), MAX_DELETE):
            payload = {"jobs": [{"delete_type": kind, "job_id": job_id} for job_id, kind in chunk]}
            body = self._call("DELETE", "/jobs/batch-jobs", payload, "deleting tasks", results_on_400=True)
            found = body.get("results") if isinstance(body, dict) else None
            for item in found if isinstance(found, list) else []:
                if isinstance(item, dict):
                    results.append(_with_error_aliases(item))
        return results

    # -- launch calls (docs/launch-api.md) -------------------------------------------------

    def _launch(self, method: str, path: str, jobs: list, operation: str) -> list[dict]:
        """One launch call of at most MAX_LAUNCH items, retried like the reads (every launch
        call but batch-starting is safe to repeat). Returns the reply's result items."""
        if not jobs:
            return []
        if len(jobs) > MAX_LAUNCH:
            raise ValueError(f"{len(jobs)} items in one {operation} request; the limit is {MAX_LAUNCH}")
        body = self._call(method, path, {"jobs": jobs}, operation, results_on_400=True)
        items = body.get("results") if isinstance(body, dict) else None
        return [_with_error_aliases(i) for i in items if isinstance(i, dict)] if isinstance(items, list) else []

    def test_connections(self, endpoints: list[dict]) -> list[dict]:
        """POST batch-connection: TestEndPoint items (at most 10; send a task's `so` and `ta`
        items in different requests, their ids are equal). Items carry passwords: the caller
        builds them just before the call and keeps no copy."""
        return self._launch("POST", "/jobs/batch-connection", endpoints, "testing connections")

    def select_objects(self, items: list[dict]) -> list[dict]:
        """PUT batch-select-objects: UpdateDatabaseObjectReq items (at most 10)."""
        return self._launch("PUT", "/jobs/batch-select-objects", items, "selecting objects")

    def start_prechecks(self, task_ids: list[str], mode: str = "forStartJob") -> list[dict]:
        """POST batch-precheck (at most 10). Repeating it only starts a new pre-check."""
        return self._launch("POST", "/jobs/batch-precheck",
                            [{"job_id": i, "precheck_mode": mode} for i in task_ids], "starting pre-checks")

    def precheck_results(self, task_ids: list[str]) -> list[dict]:
        """POST batch-precheck-result for task ids (at most 10, no repeats)."""
        return self._launch("POST", "/jobs/batch-precheck-result", list(dict.fromkeys(task_ids)),
                            "querying pre-check results")

    def progress(self, task_ids: list[str]) -> list[dict]:
        """POST batch-progress for task ids, any number (10 per request)."""
        results: list[dict] = []
        for chunk in _chunks(list(dict.fromkeys(task_ids)), MAX_LAUNCH):
            results += self._launch("POST", "/jobs/batch-progress", chunk, "querying task progress")
        return results

    def send_start(self, items: list[dict]) -> StartReply:
        """ONE attempt of POST batch-starting (StartInfo items, at most 10), classified like a
        creation: a start is not idempotent, so the caller asks the task status before any
        second attempt after a doubtful failure. Never raises for HTTP or network problems."""
        if not items or len(items) > MAX_LAUNCH:
            raise ValueError(f"send_start takes 1 to {MAX_LAUNCH} items, not {len(items)}")
        exchange = self._exchange_with_auth("POST", "/jobs/batch-starting", {"jobs": items})
        return classify_start(exchange)

    # -- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> DrsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _last_applied(auth: Auth) -> str | None:
    """The token this thread last sent (renewable modes only), to tell a 401 on a stale token
    from a 401 on a fresh one; never logged or shown."""
    getter = getattr(auth, "last_applied", None)
    return getter() if callable(getter) else None


def classify(exchange: _Exchange) -> BatchReply:
    """What one batch-creation exchange means for its rows (docs/decisions.md "Exactly once")."""
    response = exchange.response
    if response is None:
        error = exchange.error or RuntimeError("no reply")
        kind = ReplyKind.IN_DOUBT if exchange.sent else ReplyKind.RETRY_SAFE
        if isinstance(error, requests.exceptions.SSLError) and not exchange.sent:
            kind = ReplyKind.REJECTED  # a certificate problem does not go away by retrying
        return BatchReply(kind, None, error_code=None, error_msg=_describe(error))
    status = response.status_code
    body = _body(response)
    request_id = _request_id(response)
    retry_after = _retry_after(response)
    if 200 <= status < 300:
        items = body.get("results") if isinstance(body, dict) else None
        if not isinstance(items, list):
            # Something was accepted but we cannot tell what: the rows are in doubt.
            return BatchReply(ReplyKind.IN_DOUBT, status, error_msg=f"unreadable HTTP {status} reply",
                              request_id=request_id)
        return BatchReply(ReplyKind.ACCEPTED, status, [JobResult.from_item(i) for i in items],
                          request_id=request_id, retry_after=retry_after)
    code, msg = _error_of(body, response)
    if _is_throttle(status, code):
        return BatchReply(ReplyKind.RETRY_SAFE, status, error_code=code, error_msg=msg, retry_after=retry_after,
                          request_id=request_id)
    if status >= 500:
        return BatchReply(ReplyKind.IN_DOUBT, status, error_code=code, error_msg=msg, retry_after=retry_after,
                          request_id=request_id)
    items = body.get("results") if isinstance(body, dict) else None
    results = [JobResult.from_item(i) for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    return BatchReply(ReplyKind.REJECTED, status, results, error_code=code, error_msg=msg, request_id=request_id)


@dataclass
class StartReply:
    """The classified answer to one batch-starting attempt. `results` are the reply's items
    (`{"id", "status": "success" | "failed", "error_code", "error_msg"}`) for ACCEPTED and
    whatever per-task items a refusal carried."""

    kind: ReplyKind
    http_status: int | None
    results: list[dict] = field(default_factory=list)
    error_code: str | None = None
    error_msg: str | None = None
    retry_after: float | None = None
    request_id: str | None = None


def classify_start(exchange: _Exchange) -> StartReply:
    """batch-starting's reply, with batch-creation's rules (`classify`): 2xx -> each item;
    429 / DRS.M01503 -> nothing started; 5xx, a lost or unreadable reply -> in doubt."""
    reply = classify(exchange)
    items: list[dict] = []
    if exchange.response is not None:
        body = _body(exchange.response)
        found = body.get("results") if isinstance(body, dict) else None
        items = [_with_error_aliases(i) for i in found if isinstance(i, dict)] if isinstance(found, list) else []
    return StartReply(reply.kind, reply.http_status, items, reply.error_code, reply.error_msg, reply.retry_after,
                      reply.request_id)


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _with_error_aliases(item: dict) -> dict:
    """The status/detail APIs say `error_message`, creation and delete say `error_msg`:
    give callers both so no reader has to know which API a dict came from."""
    message = item.get("error_message") or item.get("error_msg")
    if message is not None:
        item = {**item, "error_message": message, "error_msg": message}
    return item
