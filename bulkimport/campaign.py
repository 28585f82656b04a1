"""Campaign facts: who ran what, against which endpoint, when, with which options.

They travel from `submit` (and `status`, `rollback`) into the results workbook's
`Summary` sheet as key/value rows, so that `bulkimport report RESULTS_WORKBOOK` can rebuild
the sign-off report from the workbook alone.
"""

from __future__ import annotations

import getpass
import hashlib
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

from bulkimport import __version__
from bulkimport.findings import EN, note, retold


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cloud_identity(auth: object) -> str:
    """Who the cloud sees acting, without any secret: the IAM user name of a password login,
    the kind of credential otherwise (a token does not name its user without an extra call).
    Recorded in en-us (one of `IDENTITY_NOTES`); the report shows it in its own language."""
    if auth is None:
        return ""
    username = getattr(auth, "username", None)
    if username:
        domain = getattr(auth, "domain", None)
        if domain:
            return note(EN, "note:identity_iam_user_domain", user=username, domain=domain)
        return note(EN, "note:identity_iam_user", user=username)
    kind = type(auth).__name__
    if kind == "AkSkAuth":
        return note(EN, "note:identity_aksk")
    if kind == "TokenAuth":
        return note(EN, "note:identity_token")
    return kind


#: The texts of the `cloud_user` fact, most specific first (the report retells them, see findings.retold).
IDENTITY_NOTES: tuple[str, ...] = ("note:identity_iam_user_domain", "note:identity_iam_user",
                                   "note:identity_aksk", "note:identity_token", "note:identity_simulator")
#: Facts whose values are the tool's own words (recorded in en-us, shown in the report's
#: language, read back from a zh-cn Summary sheet): the note ids that write them, by fact.
FACT_NOTES: dict[str, tuple[str, ...]] = {"cloud_user": IDENTITY_NOTES, "region": ("note:region_simulated",)}


def operator_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


@dataclass
class Campaign:
    """Facts for the sign-off report. Never holds a secret."""

    command: str = ""
    input_file: str = ""
    input_sha256: str = ""
    template_version: str = ""
    tool_version: str = __version__
    endpoint: str = ""
    region: str = ""
    project_id: str = ""
    operator: str = field(default_factory=operator_name)
    started_at: str = field(default_factory=now_iso)
    finished_at: str = ""
    batch_size: str = ""
    concurrency: str = ""
    dry_run: str = ""
    language: str = ""
    #: The campaign's identity, also stored in its ledger; later commands check they match.
    campaign_id: str = ""
    #: Where the campaign's ledger is (absolute), so later commands find it without --ledger.
    ledger: str = ""
    #: Who acted in the cloud, as far as the tool can know it (the IAM user of a password
    #: login; "token" / "AK/SK" otherwise), beside `operator`, the OS login name.
    cloud_user: str = ""
    #: The follow-up command that wrote this workbook (status, rollback), when and by whom:
    #: `operator` and the times above stay those of the original submit.
    step: str = ""
    step_at: str = ""
    step_by: str = ""

    def rows(self) -> list[list[str]]:
        """Key/value rows for the Summary sheet."""
        return [[k, str(v)] for k, v in asdict(self).items()]

    @classmethod
    def from_rows(cls, rows: list[list[object]]) -> Campaign:
        """Inverse of `rows`, tolerant of extra rows (counts follow the facts on the sheet)."""
        names = {f.name for f in fields(cls)}
        values = {str(r[0]): "" if r[1] is None else str(r[1]) for r in rows if len(r) >= 2 and r[0] in names}
        for key, notes in FACT_NOTES.items():  # a zh-cn Summary sheet shows them in zh-cn; kept in en-us
            if values.get(key):
                values[key] = retold(values[key], notes, EN)
        return cls(**values)
