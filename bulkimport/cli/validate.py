"""`bulkimport validate WORKBOOK`: check every row, write an annotated copy, report."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bulkimport.cli.options import force_option, json_option, language_option, out_option, sheet_option
from bulkimport.outcomes import ExitCode

#: How many findings the human summary lists before "... and N more".
SUMMARY_FINDINGS = 10


@click.command("validate")
@click.argument("workbook", type=click.Path(path_type=Path, dir_okay=True, exists=False))
@out_option("reports/<stem>-validated.xlsx")
@force_option
@json_option
@sheet_option
@language_option
def command(workbook: Path, out: Path | None, force: bool, as_json: bool, sheet: str | None,
            language: str | None) -> int:
    """Check every row of WORKBOOK against the DRS rules; nothing is sent.

    Exit 0 when every row is valid, 1 when some row is invalid, 2 when the workbook
    cannot be used.
    """
    from bulkimport.validate import annotate, checked_output_path, validate_workbook

    out = checked_output_path(workbook, out, force=force)
    validation = validate_workbook(workbook, sheet, language=language)
    target = annotate(validation, out)
    click.echo(summary(validation, target), err=True)
    if as_json:
        document = validation.to_dict()
        document["output"] = str(target)
        click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))
    return ExitCode.SOME_FAILED if validation.invalid else ExitCode.OK


def summary(validation, target: Path) -> str:
    """The human summary for stderr, in the validation's language: counts, findings by code,
    the first few findings (codes stay codes)."""
    from bulkimport.terminal import rows_word, say

    language = validation.language
    total = len(validation.rows)
    invalid = len(validation.invalid)
    lines = [
        say(language, "{path}: sheet {sheet}: {rows}, {valid} valid, {invalid} invalid ({errors} errors, "
                      "{warnings} warnings)",
            path=validation.book.path, sheet=repr(validation.book.sheet_name), rows=rows_word(language, total),
            valid=total - invalid, invalid=invalid, errors=len(validation.errors),
            warnings=len(validation.warnings)),
    ]
    counts = validation.counts()
    if counts:
        lines.append(say(language, "findings by code: {counts}",
                         counts=", ".join(f"{code} {n}" for code, n in counts.items())))
        for f in validation.findings[:SUMMARY_FINDINGS]:
            where = (say(language, "row {row}", row=validation.book.source_row(f.row)) if f.row is not None
                     else say(language, "workbook"))
            kind = say(language, "{code}, warning", code=f.code) if f.severity == "warning" else f.code
            lines.append(f"  {where}: {f.sentence_for(language)}  [{kind}]")
        if len(validation.findings) > SUMMARY_FINDINGS:
            lines.append("  " + say(language, "... and {n} more (see the Findings sheet)",
                                    n=len(validation.findings) - SUMMARY_FINDINGS))
    lines.append(say(language, "annotated copy: {path}", path=target))
    return "\n".join(lines)
