"""`bulkimport simulator`: serve the local DRS v3 API in the foreground.

The option list is the simulator's own (`bulkimport.simulator.cli_options`), turned into
click options here, so each knob is documented once, next to the code that honours it.
"""

from __future__ import annotations

import ipaddress
import sqlite3
from collections.abc import Callable
from typing import Any

import click
from click.decorators import FC

from bulkimport.cli.options import FiniteNumber, Seconds
from bulkimport.errors import InputError
from bulkimport.outputs import LEDGER, Output, check_outputs
from bulkimport.simulator import OptionSpec, cli_options, faults_from_options, run_from_options

#: Ranges of the numeric options (what the simulator can honour); rates are shares of requests.
_INT_RANGES: dict[str, tuple[int, int]] = {"port": (0, 65535), "max_jobs": (1, 1000), "seed": (0, 2**63 - 1)}
_DEFAULT_INT_RANGE = (0, 10**9)


def _type(spec: OptionSpec) -> click.ParamType | type[str]:
    if spec.kind == "int":
        low, high = _INT_RANGES.get(spec.name, _DEFAULT_INT_RANGE)
        return click.IntRange(low, high)
    if spec.kind == "float":
        return FiniteNumber(0.0, 1.0) if "rate" in spec.name else Seconds(0.0, 3600.0)
    if spec.kind == "path":
        return click.Path(dir_okay=False)
    return str


def is_loopback(host: str) -> bool:
    """Loopback by name or address; anything else reaches other machines."""
    if host.strip().lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _option(spec: OptionSpec) -> Callable[[FC], FC]:
    if spec.kind == "bool":
        name = spec.flag[2:]
        return click.option(f"--{name}/--no-{name}", spec.name, default=spec.default, help=spec.help,
                            show_default=True)
    if spec.kind == "choice":
        return click.option(spec.flag, spec.name, type=click.Choice(spec.choices), default=spec.default,
                            help=spec.help, show_default=True)
    if spec.kind == "multiple":
        return click.option(spec.flag, spec.name, multiple=True, help=spec.help)
    return click.option(spec.flag, spec.name, type=_type(spec), default=spec.default, help=spec.help,
                        show_default=spec.default is not None)


def _flags(message: str) -> str:
    """Name options as the operator typed them (`--error-500-rate`), not as fields."""
    for spec in cli_options():
        message = message.replace(spec.name, spec.flag) if spec.name in message and "_" in spec.name else message
    return message


def _build() -> click.Command:
    def callback(**values: Any) -> int:
        try:
            faults = faults_from_options(values)
        except ValueError as exc:  # a combination no single option's range catches (rates adding up to > 1)
            raise InputError(_flags(str(exc))) from None
        server = {s.name: values[s.name] for s in cli_options() if s.group == "server"}
        if server.get("state_path"):
            check_outputs([Output(server["state_path"], "--state-path", LEDGER)])
        if not is_loopback(str(server.get("host") or "")):
            click.echo(f"bulkimport: WARNING: --host {server['host']} is not a loopback address: anyone who can "
                       "reach it can use the simulator, and its /_admin API has no authentication.", err=True)
        try:
            return run_from_options(faults=faults, echo=lambda line: click.echo(line, err=True), **server)
        except OSError as exc:
            raise InputError(f"the simulator cannot listen on {server.get('host')}:{server.get('port')}: "
                             f"{exc.strerror or exc}") from None
        except (ValueError, sqlite3.Error) as exc:
            raise InputError(f"the simulator cannot start: {_flags(str(exc))}") from None
        except KeyboardInterrupt:
            return 0

    command = click.Command(
        "simulator",
        callback=callback,
        help="Serve a local DRS v3 API (with IAM and fault injection) on loopback for rehearsals and tests.",
    )
    for spec in cli_options():
        command = _option(spec)(command)
    return command


command = _build()
