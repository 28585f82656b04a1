"""Where requests go: the endpoint, project, credentials and ledger of one command run.

`submit`, `status` and `rollback` all talk to either a real DRS endpoint or the in-process
simulator (`--simulate`); this module builds that `Target` once, so the rules (endpoint
precedence, TLS options, credential order, which values are secrets to scrub, where the
ledger lives) are written in one place.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulkimport import fields
from bulkimport.errors import InputError

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
    auth: Any
    verify: bool | str = True
    #: None: no ledger at all (a simulated dry run with no state to sit beside).
    ledger_path: Path | None = DEFAULT_LEDGER
    region: str = ""
    simulator: Any = None
    secrets: tuple[str, ...] = ()
    #: The ledger is a temporary file that disappears with the run (`--simulate` without state).
    ledger_temporary: bool = False

    @property
    def display(self) -> str:
        """How the plan line names the target."""
        if self.simulator is not None:
            return f"{self.endpoint} (simulator)"
        return self.endpoint


def simulator_ledger_path(state_path: str | Path) -> Path:
    """The ledger of a simulated campaign sits beside the simulator's state, never in reports/."""
    state = Path(state_path)
    return state.with_name(state.name + ".ledger.sqlite")


@contextlib.contextmanager
def simulated_target(state_path: str | Path | None = None, *, project_id: str | None = None,
                     ledger_path: str | Path | None = None, faults: Any = None) -> Iterator[Target]:
    """The in-process simulator as a Target, for `--simulate` in submit, status, report and rollback.

    It listens on a free loopback port with a generated token and no faults. Its state is
    kept in `state_path` when given (so a later `--simulate --simulator-state PATH` sees the
    same tasks), else it lives in memory for this run only. The ledger defaults to a file
    beside the state or to a temporary file: never the campaign's real ledger.
    """
    from bulkimport.drs import TokenAuth
    from bulkimport.simulator import FaultConfig, Simulator

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
    credentials from the environment (InputError, exit 2, when any of it cannot work)."""
    from bulkimport.drs import auth_from_env, project_id_from, resolve_endpoint

    url = resolve_endpoint(endpoint, region)
    project = project_id_from(project_id, env)
    verify: bool | str = False if insecure else (ca_bundle or True)
    if ca_bundle and not insecure and not Path(ca_bundle).is_file():
        raise InputError(f"--ca-bundle {ca_bundle}: no such file")
    auth = auth_from_env(env, project_id=project, verify=verify) if need_auth else None
    return Target(endpoint=url, ledger_endpoint=url, project_id=project, auth=auth, verify=verify,
                  ledger_path=ledger_path or DEFAULT_LEDGER, region=region or "",
                  secrets=tuple(env[v] for v in SECRET_VARIABLES if env.get(v)))


def make_client(target: Target, retry: Any = None, sleep: Callable[[float], None] = time.sleep, **options: Any) -> Any:
    """A DrsClient for the target (extra options, e.g. timeout or pool_size, pass through)."""
    from bulkimport.drs import DrsClient

    return DrsClient(target.endpoint, target.project_id, target.auth, verify=target.verify, retry=retry,
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
