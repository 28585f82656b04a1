"""Where requests go: the endpoint, project, credentials and ledger of one command run.

`submit`, `status` and `rollback` all talk to either a real DRS endpoint or the in-process
simulator (`--simulate`); this module builds that `Target` once, so the rules (endpoint
precedence, TLS options, credential order, which values are secrets to scrub, where the
ledger lives) are written in one place.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bulkimport import fields
from bulkimport.errors import InputError, Phrase

if TYPE_CHECKING:  # imported where used: a follow-up that never talks to a server need not load them
    from bulkimport.campaign import Campaign
    from bulkimport.drs import DrsClient
    from bulkimport.drs.auth import Auth
    from bulkimport.drs.client import RetryPolicy
    from bulkimport.simulator import FaultConfig, Simulator

#: Default output directory and ledger, relative to the current directory (docs/decisions.md "Outputs").
REPORTS_DIR = Path("reports")
DEFAULT_LEDGER = REPORTS_DIR / "ledger.sqlite"
#: The project id `--simulate` uses when none is given (the API page's example project).
DEMO_PROJECT_ID = "054ba152d480d55b2f5dc0069e7ddef0"
#: The ledger's name for the simulator: its port changes every run, its identity does not.
SIMULATOR_ENDPOINT = "http://simulator.localhost"
#: Environment variables whose values are credentials (scrubbed from any server text).
SECRET_VARIABLES = ("OS_AUTH_TOKEN", "OS_PASSWORD", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN")


@dataclass
class Target:
    """Endpoint, project and credentials of one run. `ledger_endpoint` is the target's identity
    in the ledger (the base URL, or SIMULATOR_ENDPOINT for the simulator, whose port varies)."""

    endpoint: str
    ledger_endpoint: str
    project_id: str
    #: None only for a dry run, which never sends (`cloud_target(need_auth=False)`).
    auth: Auth | None
    verify: bool | str = True
    #: None: no ledger at all (a simulated dry run with no state to sit beside).
    ledger_path: Path | None = DEFAULT_LEDGER
    region: str = ""
    simulator: Simulator | None = None
    secrets: tuple[str, ...] = ()
    #: The ledger is a temporary file that disappears with the run (`--simulate` without state).
    ledger_temporary: bool = False
    #: The campaign ID of the ledger (checked against the results workbook's), when known.
    campaign_id: str = ""
    #: The run's language (fields.LANGUAGES): the X-Language of its requests and the language
    #: of what a follow-up writes for people. "" = not chosen: the workbook's template language.
    language: str = ""
    #: The Summary sheet's campaign facts of the results workbook a follow-up was made for
    #: (`campaign_target` reads them once to choose the ledger and compare the endpoint; the
    #: command's own plan takes them from here through `summary_facts`), and that workbook.
    facts: Campaign | None = None
    facts_path: Path | None = None

    @property
    def display(self) -> str:
        """How the plan line names the target."""
        if self.simulator is not None:
            return f"{self.endpoint} (simulator)"
        return self.endpoint

    @property
    def sending_auth(self) -> Auth:
        """The credentials of a run that sends: only a dry run has none, and it never sends,
        so None here is a bug in the caller (an exception with a traceback, not an exit 2)."""
        if self.auth is None:
            raise RuntimeError("a Target without credentials (a dry run) must not send")
        return self.auth


def simulator_ledger_path(state_path: str | Path) -> Path:
    """The ledger of a simulated campaign sits beside the simulator's state, never in reports/."""
    state = Path(state_path)
    return state.with_name(state.name + ".ledger.sqlite")


@contextlib.contextmanager
def simulated_target(state_path: str | Path | None = None, *, project_id: str | None = None,
                     ledger_path: str | Path | None = None, faults: FaultConfig | None = None) -> Iterator[Target]:
    """The in-process simulator as a Target, for `--simulate` in submit, status, report and rollback.

    It listens on a free loopback port with a generated token and no faults. Its state is
    kept in `state_path` when given (so a later `--simulate --simulator-state PATH` sees the
    same tasks), else it lives in memory for this run only. The ledger defaults to a file
    beside the state or to a temporary file: never the campaign's real ledger.
    """
    from bulkimport.drs import TokenAuth
    from bulkimport.outputs import LEDGER, Output, check_outputs
    from bulkimport.simulator import FaultConfig, Simulator

    if state_path is not None:  # a file that is not SQLite must not fail deep inside the simulator
        check_outputs([Output(Path(state_path), "--simulator-state", LEDGER)])
    with contextlib.ExitStack() as stack:
        temporary = ledger_path is None and state_path is None
        if ledger_path is None:
            if state_path is not None:
                ledger_path = simulator_ledger_path(state_path)
            else:
                ledger_path = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bulkimport-sim-"))) / \
                    "ledger.sqlite"
        if state_path is not None:
            Path(state_path).parent.mkdir(parents=True, exist_ok=True)
        simulator = Simulator(token=None, state_path=state_path, faults=faults or FaultConfig())
        stack.enter_context(simulator)
        stack.callback(simulator.close)
        yield Target(endpoint=simulator.base_url, ledger_endpoint=SIMULATOR_ENDPOINT,
                     project_id=project_id or DEMO_PROJECT_ID, auth=TokenAuth(simulator.token), verify=True,
                     ledger_path=Path(ledger_path), region="simulated", simulator=simulator,
                     secrets=(simulator.token,), ledger_temporary=temporary)


def cloud_target(*, endpoint: str | None, region: str | None, project_id: str | None, env: Mapping[str, str],
                 ledger_path: Path | None = None, ca_bundle: str | None = None, insecure: bool = False,
                 need_auth: bool = True) -> Target:
    """A real DRS endpoint: `--endpoint` beats `--region`, `--project-id` beats OS_PROJECT_ID,
    credentials from the environment, then from the OS_CLOUD cloud of clouds.yaml (InputError,
    exit 2, when any of it cannot work)."""
    from bulkimport.drs import auth_from_env, project_id_from, resolve_endpoint
    from bulkimport.drs.clouds import cloud_env

    env = cloud_env(env)  # OS_CLOUD / --os-cloud: clouds.yaml fills what the OS_* variables leave open
    url = resolve_endpoint(endpoint, region)
    check_transport(url, insecure, "the endpoint")
    if need_auth and not (env.get("OS_AUTH_TOKEN") or "").strip() and (env.get("OS_AUTH_URL") or "").strip():
        check_transport(env["OS_AUTH_URL"].strip(), insecure, "OS_AUTH_URL")
    project = project_id_from(project_id, env)
    verify: bool | str = False if insecure else (ca_bundle or True)
    if ca_bundle and not insecure:
        check_ca_bundle(ca_bundle)
    auth = auth_from_env(env, project_id=project, verify=verify) if need_auth else None
    return Target(endpoint=url, ledger_endpoint=url, project_id=project, auth=auth, verify=verify,
                  ledger_path=ledger_path or DEFAULT_LEDGER, region=region or "",
                  secrets=tuple(env[v] for v in SECRET_VARIABLES if env.get(v)))


def check_ca_bundle(path: str) -> None:
    """A --ca-bundle must be a PEM file of certificates that TLS can load; anything else
    would fail every request later, looking like a network error (InputError, exit 2)."""
    import ssl

    if not Path(path).is_file():
        raise InputError("--ca-bundle {path}: no such file", path=path)
    try:
        text = Path(path).read_text(encoding="ascii", errors="replace")
        if "-----BEGIN CERTIFICATE-----" not in text:
            raise InputError("--ca-bundle {path} is not a PEM file of CA certificates (no BEGIN CERTIFICATE block)",
                             path=path)
        ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or type(exc).__name__
        raise InputError("--ca-bundle {path} is not a PEM file of CA certificates TLS can load ({reason})", path=path,
                         reason=reason) from None


def check_tls(target: Target, timeout: float = 10.0) -> None:
    """Prove, before the first request that counts, that TLS to the endpoint (and to IAM for a
    password login) can be verified: an unverifiable certificate is a configuration error
    (InputError, exit 2, nothing sent), not a row outcome. One unauthenticated GET of the
    base URL; any HTTP answer will do, and network trouble is left to the retry logic."""
    import requests

    if target.simulator is not None or target.verify is False:
        return
    urls = [target.endpoint]
    auth_url = getattr(target.auth, "url", None)
    if isinstance(auth_url, str):
        urls.append(auth_url)
    for url in urls:
        if not url.lower().startswith("https://"):
            continue
        try:
            with requests.Session() as session:
                session.get(url, timeout=timeout, verify=target.verify, allow_redirects=False)
        except requests.exceptions.SSLError as exc:
            inner = exc.args[0] if exc.args else exc
            reason = getattr(inner, "reason", None) or inner
            text = " ".join(str(reason).split())[:200]
            raise InputError("TLS to {url} failed, the certificate cannot be verified ({reason}); give the CA with "
                             "--ca-bundle PATH (or --insecure for a test endpoint you trust); nothing was sent",
                             url=url.split("?")[0], reason=text) from None
        except requests.exceptions.RequestException:
            continue


def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1 and localhost: addresses that never leave this machine."""
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_transport(url: str, insecure: bool, what: str) -> None:
    """Plain http:// carries the token and passwords readable by anyone on the path: only to
    this machine, unless the operator insists with --insecure (InputError, exit 2)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise InputError("{what} {url} is not a usable URL ({reason})", what=what, url=repr(url), reason=exc) from None
    if parts.scheme.lower() == "http" and not is_loopback(host) and not insecure:
        raise InputError("{what} {url} is plain http:// to another machine: credentials would travel unencrypted; "
                         "use https:// (or --insecure for a test endpoint you trust)", what=what, url=url)


def _facts(results_path: Path) -> Campaign | None:
    from bulkimport.report import read_summary_facts

    return read_summary_facts(results_path)


def summary_facts(target: Target, results_path: str | Path) -> Campaign | None:
    """The campaign facts of `results_path`'s Summary sheet: the ones `campaign_target`
    already read when the target was made for that workbook, else read now (a Target built
    by hand, in a test or a script)."""
    results_path = Path(results_path)
    if target.facts_path is not None and results_path == target.facts_path:
        return target.facts
    return _facts(results_path)


@dataclass(frozen=True)
class _LedgerFacts:
    exists: bool
    campaign_id: str | None = None
    targets: tuple[tuple[str, str], ...] = ()


def _ledger_facts(path: Path | None, recorded_id: str) -> _LedgerFacts:
    """What a follow-up needs from the campaign's ledger; refuses another campaign's ledger."""
    from bulkimport.ledger import Ledger, LedgerError

    if path is None or not path.exists():
        return _LedgerFacts(False)
    try:
        with Ledger(path) as ledger:
            facts = _LedgerFacts(True, ledger.recorded_campaign_id(), tuple(ledger.targets()))
    except LedgerError as exc:
        raise InputError(exc.template_text) from exc
    if recorded_id and facts.campaign_id != recorded_id:
        raise InputError("the ledger {path} is not this workbook's: it belongs to campaign {theirs}, the workbook "
                         "to campaign {ours}; give the campaign's --ledger PATH", path=path,
                         theirs=facts.campaign_id or "-", ours=recorded_id)
    return facts


def _compare(recorded: str, chosen: str, what: str, results_path: Path, force: bool, *,
             normalise: Callable[[str], str] = lambda v: v) -> None:
    """A workbook's recorded endpoint/project is only compared, never followed."""
    if recorded and normalise(recorded) != normalise(chosen) and not force:
        raise InputError("{path} records {what} {recorded}, but this run would use {chosen}; check "
                         "--endpoint/--region/--project-id (or add --force)", path=results_path,
                         what=Phrase(what), recorded=recorded, chosen=chosen)


@contextlib.contextmanager
def campaign_target(results_path: str | Path, *, endpoint: str | None = None, region: str | None = None,
                    project_id: str | None = None, simulate: bool = False, simulator_state: Path | None = None,
                    ledger_path: Path | None = None, ca_bundle: str | None = None, insecure: bool = False,
                    force: bool = False, env: Mapping[str, str] = os.environ, lock: bool = True,
                    language: str | None = None) -> Iterator[Target]:
    """The Target of a command that follows up on a campaign from its results workbook
    (`status`, `rollback`, `prepare`, `start`): the one place that decides where it goes.

    * The ledger: `--ledger`, else the one the workbook records (submit writes its path and
      the campaign ID into the Summary sheet), else the default. A ledger whose campaign ID
      differs from the workbook's is refused.
    * Endpoint and project come from the command line, the campaign's own ledger (the
      endpoints it has sent to) or the environment (OS_PROJECT_ID) - never from the workbook,
      which is mailed around and could name anyone's server. The workbook's recorded endpoint
      and project are only compared with the chosen ones: a mismatch stops (unless `force`).
    * With `lock`, the ledger is held (`ledger_lock`) for as long as the Target is in use.
    * The language: `language` (`--language`), else the campaign's (its `language` fact).
    """
    from bulkimport.drs.endpoints import normalise_endpoint
    from bulkimport.ledger import ledger_lock

    results_path = Path(results_path)
    if simulator_state is not None and not simulate:
        raise InputError("--simulator-state needs --simulate")
    facts = _facts(results_path)
    recorded_endpoint = facts.endpoint if facts else ""
    recorded_project = facts.project_id if facts else ""
    recorded_id = facts.campaign_id if facts else ""
    if ledger_path is None and facts is not None and facts.ledger:
        ledger_path = Path(facts.ledger)
    with contextlib.ExitStack() as stack:
        if simulate:
            target = stack.enter_context(simulated_target(simulator_state, project_id=project_id or recorded_project
                                                          or None, ledger_path=ledger_path))
            _compare(recorded_endpoint, SIMULATOR_ENDPOINT, "the endpoint", results_path, force,
                     normalise=normalise_endpoint)
        else:
            if not (endpoint or region) and recorded_endpoint and normalise_endpoint(recorded_endpoint) == \
                    normalise_endpoint(SIMULATOR_ENDPOINT):
                raise InputError("{path}: this campaign ran on the simulator; add --simulate (and --simulator-state "
                                 "PATH)", path=results_path)
            target = None
        path = target.ledger_path if target is not None else (ledger_path or DEFAULT_LEDGER)
        if lock and path is not None and path.exists():
            stack.enter_context(ledger_lock(path))
        known = _ledger_facts(path, recorded_id)
        if target is None:
            target = _cloud_follow_up(results_path, endpoint=endpoint, region=region, project_id=project_id,
                                      recorded_endpoint=recorded_endpoint, recorded_project=recorded_project,
                                      known=known, ledger_path=path or DEFAULT_LEDGER, ca_bundle=ca_bundle,
                                      insecure=insecure, force=force, env=env)
            target.region = region or (facts.region if facts else "") or target.region
            check_tls(target)
        _compare(recorded_project, target.project_id, "the project", results_path, force)
        target.campaign_id = known.campaign_id or ""
        recorded_language = facts.language if facts is not None else ""
        target.language = language or (recorded_language if recorded_language in fields.LANGUAGES else "")
        target.facts, target.facts_path = facts, results_path
        yield target


def _cloud_follow_up(results_path: Path, *, endpoint: str | None, region: str | None, project_id: str | None,
                     recorded_endpoint: str, recorded_project: str, known: _LedgerFacts, ledger_path: Path,
                     ca_bundle: str | None, insecure: bool, force: bool, env: Mapping[str, str]) -> Target:
    from bulkimport.drs.endpoints import normalise_endpoint, resolve_endpoint

    if endpoint or region:
        url = resolve_endpoint(endpoint, region)
    else:
        endpoints = list(dict.fromkeys(e for e, _ in known.targets))
        wanted = normalise_endpoint(recorded_endpoint) if recorded_endpoint else ""
        if wanted and wanted in endpoints:
            url = wanted  # the ledger vouches for it: this campaign sent there
        elif len(endpoints) == 1:
            url = endpoints[0]
        elif not known.exists:
            raise InputError("give --endpoint URL or --region REGION: there is no campaign ledger at {path} to take "
                             "it from (a workbook never decides where credentials go)", path=ledger_path)
        elif endpoints:
            raise InputError("give --endpoint URL or --region REGION: the ledger {path} has sent to several "
                             "endpoints", path=ledger_path)
        else:
            raise InputError("give --endpoint URL or --region REGION: the ledger {path} has sent nothing yet",
                             path=ledger_path)
    _compare(recorded_endpoint, url, "the endpoint", results_path, force, normalise=normalise_endpoint)
    project = project_id
    if not project:
        projects = list(dict.fromkeys(p for e, p in known.targets if e == normalise_endpoint(url)))
        if recorded_project and recorded_project in projects:
            project = recorded_project
        elif len(projects) == 1:
            project = projects[0]
    return cloud_target(endpoint=url, region=None, project_id=project, env=env, ledger_path=ledger_path,
                        ca_bundle=ca_bundle, insecure=insecure)


def make_client(target: Target, retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                **options: Any) -> DrsClient:
    """A DrsClient for the target (extra options, e.g. timeout or pool_size, pass through)."""
    from bulkimport.drs import DrsClient

    if target.language and "language" not in options:
        options["language"] = target.language
    return DrsClient(target.endpoint, target.project_id, target.sending_auth, verify=target.verify, retry=retry,
                     sleep=sleep, **options)


def scrubber(secrets: Iterable[str]) -> Callable[[str | None], str | None]:
    """Server text is echoed into workbooks, the ledger and reports: a server that repeats a
    password or token in an error message must not make the tool write it anywhere. Also folds
    runs of white space, so a message fits one cell line."""
    values = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def scrub(text: str | None) -> str | None:
        if text is None:
            return None
        text = " ".join(str(text).split())
        for value in values:
            text = text.replace(value, fields.SECRET_MASK)
        return text

    return scrub
