"""`bulkimport simulator`: serve the local DRS v3 API in the foreground.

The option list is the simulator's own (`bulkimport.simulator.cli_options`), turned into
click options here, so each knob is documented once, next to the code that honours it.
"""

from __future__ import annotations

from typing import Any

import click

from bulkimport.simulator import cli_options, faults_from_options, run_from_options

_TYPES: dict[str, Any] = {"str": str, "int": int, "float": float, "path": click.Path(dir_okay=False)}


def _option(spec: Any) -> Any:
    if spec.kind == "bool":
        name = spec.flag[2:]
        return click.option(f"--{name}/--no-{name}", spec.name, default=spec.default, help=spec.help,
                            show_default=True)
    if spec.kind == "choice":
        return click.option(spec.flag, spec.name, type=click.Choice(spec.choices), default=spec.default,
                            help=spec.help, show_default=True)
    if spec.kind == "multiple":
        return click.option(spec.flag, spec.name, multiple=True, help=spec.help)
    return click.option(spec.flag, spec.name, type=_TYPES[spec.kind], default=spec.default, help=spec.help,
                        show_default=spec.default is not None)


def _build() -> click.Command:
    def callback(**values: Any) -> int:
        server = {s.name: values[s.name] for s in cli_options() if s.group == "server"}
        try:
            faults = faults_from_options(values)
            return run_from_options(faults=faults, echo=lambda line: click.echo(line, err=True), **server)
        except (ValueError, OSError) as exc:
            raise click.UsageError(str(exc)) from None
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
