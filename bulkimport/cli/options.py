"""Options shared by several commands, defined once.

`submit`, `status`, `rollback` (and the launch commands) take the same options for where the
tasks live, where outputs go and how long to wait; defining each here keeps their names,
types, ranges and help identical everywhere. Numbers of seconds go through `Seconds`, which
refuses `nan`, `inf` and values outside the stated range (click's FloatRange lets `nan`
and `inf` through, and `--timeout inf` once made every reply fail).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

#: The longest wait any option accepts: a day (anything longer is a typo, not a plan).
MAX_SECONDS = 86400.0


class FiniteNumber(click.ParamType):
    """A finite number within [minimum, maximum] (minimum excluded when `positive`)."""

    name = "number"
    unit = ""

    def __init__(self, minimum: float = 0.0, maximum: float = MAX_SECONDS, *, positive: bool = False) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.positive = positive

    def describe(self) -> str:
        low = f"more than {self.minimum:g}" if self.positive else f"from {self.minimum:g}"
        return f"{low} to {self.maximum:g}" + (f" {self.unit}" if self.unit else "")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not a number; allowed: {self.describe()}", param, ctx)
        too_low = number <= self.minimum if self.positive else number < self.minimum
        if not math.isfinite(number) or too_low or number > self.maximum:
            self.fail(f"{value} is out of range; allowed: {self.describe()}", param, ctx)
        return number

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.name.upper()


class Seconds(FiniteNumber):
    """A finite number of seconds within the range."""

    name = "seconds"
    unit = "seconds"


def seconds_option(flag: str, default: float, help: str, *, minimum: float = 0.0,
                   maximum: float = MAX_SECONDS, positive: bool = False) -> Decorator:
    return click.option(flag, type=Seconds(minimum, maximum, positive=positive), default=default,
                        show_default=True, help=f"{help} ({Seconds(minimum, maximum, positive=positive).describe()})")


def _apply(func: Callable[..., Any], options: list[Decorator]) -> Callable[..., Any]:
    for option in reversed(options):
        func = option(func)
    return func


def _set_os_cloud(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """`--os-cloud NAME` is OS_CLOUD=NAME for this run: every command reads its credentials
    from the environment, and the cloud fills what the OS_* variables leave open."""
    if not value:
        return
    previous = os.environ.get("OS_CLOUD")
    os.environ["OS_CLOUD"] = value.strip()

    def restore() -> None:  # for this run only: nothing leaks into a later command in the same process
        if previous is None:
            os.environ.pop("OS_CLOUD", None)
        else:
            os.environ["OS_CLOUD"] = previous

    ctx.call_on_close(restore)


os_cloud_option: Decorator = click.option(
    "--os-cloud", metavar="NAME", default=None, expose_value=False, is_eager=True, callback=_set_os_cloud,
    help="A cloud of clouds.yaml (as the openstack CLI reads it): auth URL, user, password, domain, project, "
         "region, or a token; used after OS_AUTH_TOKEN and the OS_* variables. Same as OS_CLOUD=NAME.")


def connection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Where the tasks live and how to reach them: endpoint, region, project, simulator, ledger,
    TLS. Parameters: endpoint, region, project_id, simulate, simulator_state, ledger_path,
    ca_bundle, insecure."""
    return _apply(func, [
        click.option("--endpoint", default=None,
                     help="DRS base URL; the tool appends /v3/{project_id}/... (beats --region). Follow-up "
                          "commands default to the endpoint the campaign's ledger has sent to; the workbook's "
                          "recorded endpoint is only compared with it."),
        click.option("--region", default=None, help="Region id (eu-de, ap-southeast-1, ...) to derive the endpoint "
                                                    "from (--endpoint wins)."),
        click.option("--project-id", default=None,
                     help="Project ID (default: OS_PROJECT_ID; follow-up commands: the campaign ledger's first; "
                          "with --simulate a demo id)."),
        click.option("--simulate", is_flag=True, help="Talk to an in-process simulator (no credentials needed)."),
        click.option("--simulator-state", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="With --simulate: keep the simulator's tasks in this file across runs."),
        click.option("--ledger", "ledger_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="The campaign ledger (default: the one the workbook records, else reports/ledger.sqlite; "
                          "with --simulate, beside the simulator state)."),
        click.option("--ca-bundle", type=click.Path(dir_okay=False), default=None,
                     help="CA certificates (PEM) to verify the endpoint's TLS certificate with."),
        click.option("--insecure", is_flag=True,
                     help="Do not verify TLS certificates, allow plain http:// (dangerous; warns)."),
        os_cloud_option,
    ])


def report_dir_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--report-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("reports"),
                        show_default=True, help="Where the sign-off report (HTML and JSON) goes.")(func)


def sheet_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--sheet`: which sheet holds the tasks when several carry a key row (they are refused otherwise)."""
    return click.option("--sheet", default=None,
                        help="The task sheet (default: the only visible sheet with a key row; when several have "
                             "one, e.g. Jobs and Excel's copy 'Jobs (2)', name the one to use).")(func)


def quiet_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")(func)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True,
                        help="Print a machine-readable summary on stdout (errors too, as {\"error\": ...}).")(func)


def force_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--force`: the operator's override of a refusal that protects their own files or campaign."""
    return click.option("--force", is_flag=True,
                        help="Go on although the workbook records another endpoint or project than this run uses, "
                             "and replace an existing --out file that is not one of this tool's outputs (a filled "
                             "task workbook, or not a workbook).")(func)


def out_option(default: str) -> Decorator:
    """`--out PATH` (an .xlsx the command writes; checked before anything is sent)."""
    return click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
                        help=f"Workbook to write, .xlsx (default: {default}); an operator's workbook is never "
                             "replaced without --force.")


def language_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--language`: the language of what the tool writes for people (cell comments, error_msg,
    the report, the terminal summary) and the X-Language of its requests. Default (None): the
    workbook's template language, for a follow-up the campaign's. Codes, keys and the result
    column names never change with it; server messages stay as the server sent them."""
    from bulkimport.fields import LANGUAGES

    return click.option("--language", type=click.Choice(LANGUAGES), default=None,
                        help="Language of the tool's messages (cell comments, error_msg, report, terminal) and "
                             "of the requests' X-Language (default: the workbook's template language; for a "
                             "follow-up, the campaign's).")(func)


def target_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options the follow-up commands (status, rollback, prepare, start) share: connection,
    --force, report folder, quiet, language. Parameters in this order: endpoint, region,
    project_id, simulate, simulator_state, ledger_path, ca_bundle, insecure, force, report_dir,
    quiet, language."""
    return connection_options(force_option(report_dir_option(quiet_option(language_option(func)))))
