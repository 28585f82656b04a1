"""`bulkimport validate WORKBOOK`: check every row, write an annotated copy, report."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bulkimport.cli.options import force_option, json_option, out_option, sheet_option
from bulkimport.outcomes import ExitCode

#: How many findings the human summary lists before "... and N more".
SUMMARY_FINDINGS = 10


@click.command("validate")
@click.argument("workbook", type=click.Path(path_type=Path, dir_okay=True, exists=False))
@out_option("reports/<stem>-validated.xlsx")
@force_option
@json_option
@sheet_option
def command(workbook: Path, out: Path | None, force: bool, as_json: bool, sheet: str | None) -> int:
    """Check every row of WORKBOOK against the DRS rules; nothing is sent.

    Exit 0 when every row is valid, 1 when some row is invalid, 2 when the workbook
    cannot be used.
    """
    from bulkimport.validate import annotate, checked_output_path, validate_workbook

    out = checked_output_path(workbook, out, force=force)
    validation = validate_workbook(workbook, sheet)
    target = annotate(validation, out)
    click.echo(summary(validation, target), err=True)
    if as_json:
        document = validation.to_dict()
        document["output"] = str(target)
        click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))
    return ExitCode.SOME_FAILED if validation.invalid else ExitCode.OK


def summary(validation, target: Path) -> str:
    """The human summary for stderr: counts, findings by code, the first few findings."""
    total = len(validation.rows)
    invalid = len(validation.invalid)
    lines = [
        f"{validation.book.path}: sheet {validation.book.sheet_name!r}: {total} rows, "
        f"{total - invalid} valid, {invalid} invalid "
        f"({len(validation.errors)} errors, {len(validation.warnings)} warnings)",
    ]
    counts = validation.counts()
    if counts:
        lines.append("findings by code: " + ", ".join(f"{code} {n}" for code, n in counts.items()))
        for f in validation.findings[:SUMMARY_FINDINGS]:
            where = f"row {validation.book.source_row(f.row)}" if f.row is not None else "workbook"
            kind = f"{f.code}, warning" if f.severity == "warning" else f.code
            lines.append(f"  {where}: {f.sentence}  [{kind}]")
        if len(validation.findings) > SUMMARY_FINDINGS:
            lines.append(f"  ... and {len(validation.findings) - SUMMARY_FINDINGS} more (see the Findings sheet)")
    lines.append(f"annotated copy: {target}")
    return "\n".join(lines)
