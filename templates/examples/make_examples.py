"""Builds the example workbooks in this folder through the template writer.

    .venv/bin/python templates/examples/make_examples.py [OUT_DIR]

Both workbooks are the template itself (same sheets, two header rows, validations) with
rows filled in, so they follow every catalogue change when this script is re-run;
`tests/test_template.py` fails when the committed files differ from what it makes.

* `api-page-examples.xlsx`: the four example requests of the DRS v3 batch-creation page,
  field for field, one row each.
* `campaign-example.xlsx`: a realistic campaign of 48 tasks over all five engines and all
  three scenarios, every row valid under the catalogue's field limits and `fields.RULES`.
  All IDs are fake but well-formed (derived from a hash, so the file is reproducible), IPs
  are private, and every password is an `env:NAME` reference: SRC_DB_PASSWORD,
  TGT_DB_PASSWORD, SRC_SSL_CERT_KEY, SRC_SSL_CERT_PASSWORD.
"""

from __future__ import annotations

import hashlib
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

from bulkimport.simulator.testing import API_PAGE_EXAMPLES
from bulkimport.template import write_template

HERE = Path(__file__).resolve().parent
PAGE_EXAMPLES = "api-page-examples.xlsx"
CAMPAIGN_EXAMPLE = "campaign-example.xlsx"

#: The request bodies' `jobs` items of the API page's four examples, verbatim. The simulator
#: keeps the one copy of them (it never imports the tool; the tool may read its test data).
API_PAGE_JOBS: list[dict[str, object]] = [body["jobs"][0] for body in API_PAGE_EXAMPLES.values()]


def flatten_job(job: Mapping[str, object]) -> dict[str, object]:
    """A CreateJobReq item -> a row keyed by catalogue key (`source_endpoint.db_type`)."""
    row: dict[str, object] = {}
    for key, value in job.items():
        if isinstance(value, Mapping):
            row.update({f"{key}.{inner}": item for inner, item in value.items()})
        else:
            row[key] = value
    return row


def page_rows() -> list[dict[str, object]]:
    return [flatten_job(job) for job in API_PAGE_JOBS]


# --- the campaign -------------------------------------------------------------------------

REGION = "eu-de"
AZS = ("eu-de-01", "eu-de-02")


def _hex(label: str, length: int = 32) -> str:
    """A fake but stable hex ID: the same label always gives the same ID."""
    return hashlib.sha256(f"bulkimport-example:{label}".encode()).hexdigest()[:length]


def _uuid(label: str) -> str:
    return str(uuid.UUID(hex=_hex(label), version=4))


PROJECT_ID = _hex("project")
ENTERPRISE_PROJECTS = {"finance": _uuid("eps-finance"), "retail": _uuid("eps-retail")}
#: DRS instances sit in a subnet of the destination VPC; two landing zones.
VPCS = {
    "lz-a": (_uuid("vpc-lz-a"), _uuid("subnet-lz-a"), _uuid("sg-lz-a")),
    "lz-b": (_uuid("vpc-lz-b"), _uuid("subnet-lz-b"), _uuid("sg-lz-b")),
}
#: Instance-ID suffixes the console shows: RDS in01, DDS in02, GaussDB(for MySQL) in07.
INSTANCE_SUFFIX = {"mysql": "in01", "mongodb": "in02", "taurus": "in07", "postgresql": "in03"}
PORTS = {"mysql": 3306, "mongodb": 27017, "taurus": 3306, "postgresql": 5432}
DB_USERS = {"mysql": "drs_repl", "mongodb": "drs_mongo", "taurus": "drs_repl", "postgresql": "drs_pg"}


def _self_built(db_type: str, host: int, *, user_side: str) -> dict[str, object]:
    """An endpoint outside the cloud (on premises or another cloud): address + credentials."""
    return {
        "db_type": db_type,
        "ip": f"10.{20 + host // 200}.{host % 200}.{10 + host % 37}",
        "db_port": PORTS[db_type],
        "db_user": DB_USERS[db_type],
        "db_password": f"env:{user_side}_DB_PASSWORD",
    }


def _cloud(db_type: str, app: str, lz: str, host: int, *, user_side: str) -> dict[str, object]:
    """A cloud instance: region and instance ID (what the cloud-side rule needs) and more."""
    vpc_id, subnet_id, group_id = VPCS[lz]
    return {
        "db_type": db_type,
        "region": REGION,
        "inst_id": _hex(f"inst-{app}-{db_type}") + INSTANCE_SUFFIX[db_type],
        "inst_name": f"{'dds' if db_type == 'mongodb' else 'rds'}-{app}-prod",
        "project_id": PROJECT_ID,
        "az_code": AZS[(host // 2) % 2],
        "vpc_id": vpc_id,
        "subnet_id": subnet_id,
        "security_group_id": group_id,
        "ip": f"192.168.{1 + host // 200}.{20 + host % 200}",
        "db_port": PORTS[db_type],
        "db_user": "root",
        "db_password": f"env:{user_side}_DB_PASSWORD",
    }


def _row(
    *,
    name: str,
    scenario: str,
    engine: str,
    direction: str,
    source: Mapping[str, object],
    target: Mapping[str, object],
    net_type: str,
    lz: str,
    wave: int,
    app: str,
    **extra: object,
) -> dict[str, object]:
    row: dict[str, object] = {
        "name": name,
        "db_use_type": scenario,
        "engine_type": engine,
        "job_direction": direction,
        "task_type": "FULL_INCR_TRANS",
        "net_type": net_type,
        "bind_eip": net_type == "eip",
        "customize_sutnet_id": VPCS[lz][1],
        "node_type": "high",
        "tags": [{"key": "owner", "value": "dba-team"}, {"key": "wave", "value": str(wave)},
                 {"key": "app", "value": app}],
    }
    row.update({f"source_endpoint.{k}": v for k, v in source.items()})
    row.update({f"target_endpoint.{k}": v for k, v in target.items()})
    row.update(extra)
    return row


def _ssl_source(app: str, *, p12: bool) -> dict[str, object]:
    """SSL to the source: checksum always (the rule), a password only with a .p12 file."""
    ssl: dict[str, object] = {
        "source_endpoint.ssl_link": True,
        "source_endpoint.ssl_cert_name": f"{app}-client.p12" if p12 else f"{app}-ca.pem",
        "source_endpoint.ssl_cert_check_sum": _hex(f"cert-{app}", 64),
        "source_endpoint.ssl_cert_key": "env:SRC_SSL_CERT_KEY",
    }
    if p12:
        ssl["source_endpoint.ssl_cert_password"] = "env:SRC_SSL_CERT_PASSWORD"
    return ssl


def _mysql_migration(host: Iterator[int]) -> list[dict[str, object]]:
    """Wave 1: on-premises MySQL into RDS for MySQL, over all three network types."""
    apps = ["billing", "crm", "inventory", "payroll", "hr", "webshop", "ledger", "reporting", "auth", "search",
            "catalog", "shipping"]
    rows = []
    for i, app in enumerate(apps):
        net_type = ("eip", "vpn", "vpc")[i // 4]
        lz = "lz-a" if i % 2 == 0 else "lz-b"
        extra: dict[str, object] = {
            "is_target_readonly": i != 5,  # webshop keeps a writable destination
            "expired_days": 30 if i % 3 == 0 else 14,
            "description": f"Wave 1: {app} from the data centre to RDS for MySQL",
        }
        if i in (2, 7):
            extra["task_type"] = "FULL_TRANS"
        if i % 4 == 1:
            extra.update(master_az=AZS[0], slave_az=AZS[1])
        if app in ("billing", "payroll", "ledger"):
            extra["enterprise_project_id"] = ENTERPRISE_PROJECTS["finance"]
        if i % 3 == 1:  # some tasks move a part of the instance only
            extra["objects"] = f"{app.replace('-', '_')};{app.replace('-', '_')}_archive.invoices"
        if app == "billing":
            extra.update(_ssl_source(app, p12=False))
        if app == "payroll":
            extra.update(_ssl_source(app, p12=True))
        rows.append(_row(
            name=f"w1-mysql-mig-{app}", scenario="migration", engine="mysql", direction="up",
            source=_self_built("mysql", next(host), user_side="SRC"),
            target=_cloud("mysql", app, lz, next(host), user_side="TGT"),
            net_type=net_type, lz=lz, wave=1, app=app, **extra,
        ))
    return rows


def _mysql_sync(host: Iterator[int]) -> list[dict[str, object]]:
    """Wave 2: MySQL synchronization: into the cloud, out of it, and between self-built servers."""
    plan = [("orders", "up"), ("pricing", "up"), ("loyalty", "up"), ("coupons", "up"), ("stock", "up"),
            ("analytics", "down"), ("archive", "down"), ("legacy-erp", "non-dbs")]
    rows = []
    for i, (app, direction) in enumerate(plan):
        lz = "lz-b" if i % 2 == 0 else "lz-a"
        extra: dict[str, object] = {"description": f"Wave 2: sync {app} ({direction})"}
        if direction == "up":
            source = _self_built("mysql", next(host), user_side="SRC")
            target = _cloud("mysql", app, lz, next(host), user_side="TGT")
            extra["is_target_readonly"] = True
        elif direction == "down":
            source = _cloud("mysql", app, lz, next(host), user_side="SRC")
            target = _self_built("mysql", next(host), user_side="TGT")
        else:
            source = _self_built("mysql", next(host), user_side="SRC")
            target = _self_built("mysql", next(host), user_side="TGT")
        if i in (0, 5):
            extra.update(master_az=AZS[1], slave_az=AZS[0])
        if i in (1, 2, 3):
            extra["enterprise_project_id"] = ENTERPRISE_PROJECTS["retail"]
        if i == 4:
            extra["task_type"] = "INCR_TRANS"
        rows.append(_row(
            name=f"w2-mysql-sync-{app}", scenario="sync", engine="mysql", direction=direction,
            source=source, target=target, net_type=("vpn", "eip")[i % 2], lz=lz, wave=2, app=app, **extra,
        ))
    return rows


def _mongodb_migration(host: Iterator[int]) -> list[dict[str, object]]:
    """Wave 3: MongoDB replica sets and sharded clusters into DDS."""
    plan = [("sessions", None), ("catalog-docs", None), ("events", 2), ("telemetry", 4), ("profiles", None),
            ("audit-log", 3), ("chat", None), ("recommend", 2)]
    rows = []
    for i, (app, shards) in enumerate(plan):
        lz = "lz-a" if i < 4 else "lz-b"
        extra: dict[str, object] = {"description": f"Wave 3: {app} to DDS"}
        source = _self_built("mongodb", next(host), user_side="SRC")
        target = _cloud("mongodb", app, lz, next(host), user_side="TGT")
        target["db_port"] = 8635
        if shards is not None:
            source["cluster_mode"] = "Sharding4.0+"
            extra["node_num"] = shards
        if i == 6:
            extra["task_type"] = "FULL_TRANS"
        if i in (1, 4):
            extra["objects"] = f"{app.replace('-', '_')}.documents;{app.replace('-', '_')}.indexes_meta"
        if i % 3 == 0:
            extra["enterprise_project_id"] = ENTERPRISE_PROJECTS["retail"]
        rows.append(_row(
            name=f"w3-mongo-mig-{app}", scenario="migration", engine="mongodb", direction="up",
            source=source, target=target, net_type=("eip", "vpn", "vpc")[i % 3], lz=lz, wave=3, app=app, **extra,
        ))
    return rows


def _mysql_dr(host: Iterator[int]) -> list[dict[str, object]]:
    """Wave 4: MySQL disaster recovery: this cloud as standby (up) or active (down),
    single-active (only FULL_INCR_TRANS) and dual-active; never over vpc."""
    plan = [("billing", "up", False), ("crm", "up", False), ("payroll", "up", False), ("webshop", "up", False),
            ("orders", "up", True), ("pricing", "up", True), ("analytics", "down", False),
            ("reporting", "down", False)]
    rows = []
    for i, (app, direction, dual) in enumerate(plan):
        lz = "lz-a" if i % 2 == 0 else "lz-b"
        extra: dict[str, object] = {
            "multi_write": dual,
            "description": f"Wave 4: {'dual' if dual else 'single'}-active DR for {app}",
            "expired_days": 60,
        }
        if direction == "up":
            source = _self_built("mysql", next(host), user_side="SRC")
            target = _cloud("mysql", f"{app}-dr", lz, next(host), user_side="TGT")
            extra["is_target_readonly"] = True
        else:
            source = _cloud("mysql", f"{app}-dr", lz, next(host), user_side="SRC")
            target = _self_built("mysql", next(host), user_side="TGT")
        if i in (0, 4):
            extra.update(master_az=AZS[0], slave_az=AZS[1])
        if app in ("billing", "payroll"):
            extra["enterprise_project_id"] = ENTERPRISE_PROJECTS["finance"]
        rows.append(_row(
            name=f"w4-mysql-dr-{app}", scenario="cloudDataGuard", engine="cloudDataGuard-mysql",
            direction=direction, source=source, target=target, net_type=("eip", "vpn")[i % 2], lz=lz, wave=4,
            app=app, **extra,
        ))
    return rows


def _taurus_sync(host: Iterator[int]) -> list[dict[str, object]]:
    """Wave 5: MySQL synchronized into GaussDB(for MySQL) (`taurus` on the wire)."""
    apps = ["ledger", "invoices", "payments", "risk", "fraud", "settlement"]
    rows = []
    for i, app in enumerate(apps):
        lz = "lz-b" if i % 2 == 0 else "lz-a"
        extra: dict[str, object] = {"description": f"Wave 5: {app} to GaussDB(for MySQL)",
                                    "enterprise_project_id": ENTERPRISE_PROJECTS["finance"]}
        if i in (1, 4):
            extra.update(master_az=AZS[1], slave_az=AZS[0])
        if app == "payments":
            extra.update(_ssl_source(app, p12=True))
        rows.append(_row(
            name=f"w5-taurus-sync-{app}", scenario="sync", engine="mysql-to-taurus", direction="up",
            source=_self_built("mysql", next(host), user_side="SRC"),
            target=_cloud("taurus", app, lz, next(host), user_side="TGT"),
            net_type=("vpc", "vpn", "eip")[i % 3], lz=lz, wave=5, app=app, **extra,
        ))
    return rows


def _postgresql_sync(host: Iterator[int]) -> list[dict[str, object]]:
    """Wave 6: PostgreSQL synchronization, five into the cloud and one out of it."""
    plan = [("gis", "up"), ("warehouse", "up"), ("tickets", "up"), ("wiki", "up"), ("metrics", "up"),
            ("exports", "down")]
    rows = []
    for i, (app, direction) in enumerate(plan):
        lz = "lz-a" if i % 2 == 0 else "lz-b"
        if direction == "up":
            source = _self_built("postgresql", next(host), user_side="SRC")
            target = _cloud("postgresql", app, lz, next(host), user_side="TGT")
        else:
            source = _cloud("postgresql", app, lz, next(host), user_side="SRC")
            target = _self_built("postgresql", next(host), user_side="TGT")
        extra: dict[str, object] = {"description": f"Wave 6: sync {app} ({direction})"}
        if i == 3:
            extra["task_type"] = "FULL_TRANS"
        if i in (0, 2):
            extra["objects"] = f"{app};{app}_hist.public.events"
        rows.append(_row(
            name=f"w6-pg-sync-{app}", scenario="sync", engine="postgresql", direction=direction,
            source=source, target=target, net_type=("eip", "vpc", "vpn")[i % 3], lz=lz, wave=6, app=app, **extra,
        ))
    return rows


def campaign_rows() -> list[dict[str, object]]:
    hosts = iter(range(1, 1000))
    return (_mysql_migration(hosts) + _mysql_sync(hosts) + _mongodb_migration(hosts) + _mysql_dr(hosts)
            + _taurus_sync(hosts) + _postgresql_sync(hosts))


def build(out_dir: Path = HERE) -> list[Path]:
    """Writes both example workbooks into `out_dir` and returns their paths."""
    return [
        write_template(Path(out_dir) / PAGE_EXAMPLES, rows=page_rows()),
        write_template(Path(out_dir) / CAMPAIGN_EXAMPLE, rows=campaign_rows()),
    ]


if __name__ == "__main__":
    for written in build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(f"wrote {written}")
