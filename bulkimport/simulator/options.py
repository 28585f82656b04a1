"""What ``bulkimport simulator`` needs: its option list (click-free) and a foreground runner.

The CLI module turns ``cli_options()`` into click options and calls ``run_from_options``;
keeping the list here means the simulator's knobs are documented once, next to the code
that honours them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from bulkimport.simulator.faults import FaultConfig, fault_option_help
from bulkimport.simulator.server import DEFAULT_PORT, Simulator
from bulkimport.simulator.wire_schema import DEFAULT_MAX_JOBS


@dataclass(frozen=True)
class OptionSpec:
    """One command-line option: ``--{flag}`` stores into ``name`` (a run_from_options or FaultConfig field).

    ``kind`` is one of str, int, float, bool (a ``--x/--no-x`` switch), path, choice, multiple
    (repeatable string option). ``group`` is ``server`` or ``faults``.
    """

    name: str
    kind: str
    default: Any
    help: str
    group: str
    choices: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


_SERVER_OPTIONS = (
    OptionSpec("host", "str", "127.0.0.1", "Address to listen on (keep it on loopback).", "server"),
    OptionSpec("port", "int", DEFAULT_PORT, "Port to listen on (0 = any free port).", "server"),
    OptionSpec("token", "str", None, "The X-Auth-Token the simulator accepts (default: a generated one, "
               "printed at start).", "server"),
    OptionSpec("state_path", "path", None, "SQLite file that keeps tasks and the request log across restarts "
               "(default: in memory).", "server"),
    OptionSpec("seed", "int", 0, "Seed for fault draws, task IDs and shuffling.", "server"),
    OptionSpec("access_key", "str", None, "An AK accepted for SDK-HMAC-SHA256 signatures (needs --secret-key).",
               "server"),
    OptionSpec("secret_key", "str", None, "The SK that goes with --access-key.", "server"),
    OptionSpec("iam_user", "str", "sim-user", "User name accepted by the simulated IAM (POST /v3/auth/tokens).",
               "server"),
    OptionSpec("iam_password", "str", "sim-password", "Password accepted by the simulated IAM.", "server"),
    OptionSpec("iam_domain", "str", "sim-domain", "Domain (account) name accepted by the simulated IAM.", "server"),
    OptionSpec("max_jobs", "int", DEFAULT_MAX_JOBS, "Most jobs accepted in one batch-creation request.", "server"),
    OptionSpec("verbose", "bool", False, "Print one line per request (request line only, never secrets).",
               "server"),
)

_CHOICES = {"invalid_job_mode": ("request", "item"), "duplicate_name_mode": ("item", "request")}


def _fault_specs() -> tuple[OptionSpec, ...]:
    helps = fault_option_help()
    defaults = FaultConfig()
    specs = []
    for f in fields(FaultConfig):
        default = getattr(defaults, f.name)
        if f.name in _CHOICES:
            kind = "choice"
        elif isinstance(default, list):
            kind = "multiple"
        else:
            kind = {bool: "bool", int: "int", float: "float"}[type(default)]
        specs.append(OptionSpec(f.name, kind, default, helps[f.name], "faults", _CHOICES.get(f.name, ())))
    return tuple(specs)


def cli_options() -> list[OptionSpec]:
    """Every option of ``bulkimport simulator``, server options first, then the FaultConfig fields."""
    return [*_SERVER_OPTIONS, *_fault_specs()]


def faults_from_options(values: Mapping[str, Any]) -> FaultConfig:
    """Build a FaultConfig from parsed option values (keys = FaultConfig field names; others ignored)."""
    names = {f.name for f in fields(FaultConfig)}
    changes = {k: (list(v) if isinstance(v, list | tuple) else v) for k, v in values.items()
               if k in names and v is not None}
    return FaultConfig.from_dict(changes)


def run_from_options(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    token: str | None = None,
    state_path: str | Path | None = None,
    seed: int = 0,
    faults: FaultConfig | None = None,
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    iam_user: str = "sim-user",
    iam_password: str = "sim-password",
    iam_domain: str = "sim-domain",
    max_jobs: int = DEFAULT_MAX_JOBS,
    verbose: bool = False,
    echo: Callable[[str], None] = print,
    on_ready: Callable[[Simulator], None] | None = None,
) -> int:
    """Run the simulator in the foreground until Ctrl-C; returns the exit code (0).

    Prints where it listens. The token is printed only when it was generated here (the
    operator must learn it somehow); a token or SK given on the command line is never echoed.
    ``on_ready`` is called with the listening Simulator (tests use it to stop the server).
    """
    if (access_key is None) != (secret_key is None):
        raise ValueError("--access-key and --secret-key go together")
    access_keys = {access_key: secret_key} if access_key and secret_key else {}
    sim = Simulator(host=host, port=port, token=token, faults=faults, state_path=state_path, seed=seed,
                    access_keys=access_keys, iam_user=iam_user, iam_password=iam_password, iam_domain=iam_domain,
                    max_jobs=max_jobs, verbose=verbose)
    echo(f"DRS v3 simulator listening on {sim.base_url} (IAM: POST {sim.base_url}/v3/auth/tokens)")
    if sim.token_generated:
        echo(f"X-Auth-Token accepted: {sim.token}")
    if access_keys:
        echo(f"AK/SK signatures accepted for access key {access_key}")
    echo(f"Admin: {sim.base_url}/_admin/faults, /_admin/tasks, /_admin/requests, /_admin/reset. Ctrl-C stops.")
    if on_ready is not None:
        on_ready(sim)
    sim.serve_forever()
    sim.close()
    return 0
