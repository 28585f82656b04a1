"""Helpers for tests: the API page's four examples, a valid-job factory, and launch-call knobs.

Kept in the package (not in a conftest) so tests of other components can build bodies
the simulator accepts, and switch its launch behaviour, without restating the wire format
or the FaultConfig field names.
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

from bulkimport.simulator.faults import FaultConfig

PROJECT_ID = "054ba152d480d55b2f5dc0069e7ddef0"

#: The four example request bodies of the API page, verbatim (the 4th is sent to .../drs/v3/...).
API_PAGE_EXAMPLES: dict[str, dict[str, Any]] = {
    "mysql-migration": {"jobs": [{
        "name": "DRS-9228", "node_type": "high", "engine_type": "mysql", "net_type": "eip",
        "job_direction": "up", "db_use_type": "migration", "task_type": "FULL_INCR_TRANS",
        "customize_sutnet_id": "352ad828-3467-4f03-987a-c55a5a9dd417",
        "source_endpoint": {"db_type": "mysql"},
        "target_endpoint": {"region": "eu-de", "db_type": "mysql", "inst_id": "e05a3679efe241d8b5dee80b17c1a863in01"},
        "is_target_readonly": False, "bind_eip": True,
    }]},
    "mysql-dr-standby": {"jobs": [{
        "name": "DRS-api-test", "engine_type": "cloudDataGuard-mysql", "net_type": "eip", "node_type": "high",
        "job_direction": "up", "source_endpoint": {"db_type": "mysql"},
        "target_endpoint": {"region": "eu-de", "db_type": "mysql", "inst_id": "e05a3679efe241d8b5dee80b17c1a863in01",
                            "project_id": "054ba152d480d55b2f5dc0069e7ddef0"},
        "is_target_readonly": True, "bind_eip": True, "db_use_type": "cloudDataGuard", "task_type": "FULL_INCR_TRANS",
        "customize_sutnet_id": "352ad828-3467-4f03-987a-c55a5a9dd417", "multi_write": False,
    }]},
    "dds-replica-migration": {"jobs": [{
        "name": "DRS-3371-linxiaolu", "node_type": "high", "engine_type": "mongodb", "net_type": "eip",
        "job_direction": "up", "db_use_type": "migration", "task_type": "FULL_INCR_TRANS",
        "customize_sutnet_id": "faf513f3-7a88-4a5c-bec7-238699c29c17",
        "source_endpoint": {"db_type": "mongodb"},
        "target_endpoint": {"region": "eu-de", "db_type": "mongodb", "inst_id": "3cadd5a0ef724f55ac7fa5bcb5f4fc5fin02"},
        "bind_eip": True,
    }]},
    "mysql-primary-standby": {"jobs": [{
        "name": "DRS-linxiaolu-test3", "engine_type": "mysql", "net_type": "eip", "node_type": "high",
        "job_direction": "up", "source_endpoint": {"db_type": "mysql"},
        "target_endpoint": {"region": "eu-de", "db_type": "mysql", "inst_id": "64e8d7a31afa476ca85609a17af83765in01",
                            "project_id": "054ba152d480d55b2f5dc0069e7ddef0"},
        "bind_eip": True, "db_use_type": "sync", "task_type": "FULL_INCR_TRANS",
        "customize_sutnet_id": "0cf77cfb-3785-4065-a9c4-74b7bb2df071", "master_az": "az2xahz", "slave_az": "az3xahz",
    }]},
}


def example_body(key: str) -> dict[str, Any]:
    """A deep copy of one API page example, safe to mutate."""
    return copy.deepcopy(API_PAGE_EXAMPLES[key])


def make_job(name: str, /, **overrides: Any) -> dict[str, Any]:
    """A valid MySQL migration job (the first API page example) with another name and overrides.

    An override whose value is ``None`` removes the key.
    """
    job = example_body("mysql-migration")["jobs"][0]
    job["name"] = name
    for key, value in overrides.items():
        if value is None:
            job.pop(key, None)
        else:
            job[key] = value
    return job


def endpoint_item(task_id: str, job: dict[str, Any], side: str, /, **overrides: Any) -> dict[str, Any]:
    """A TestEndPoint item (batch-connection) for one side (``so``/``ta``) of a batch-creation job.

    Takes the endpoint's own fields from the job, fills what the page marks mandatory
    (``ip`` 192.0.2.10, ``db_user`` root, ``db_password`` secret) when the job has none, and
    applies ``overrides`` (``None`` removes a key).
    """
    endpoint = job["source_endpoint" if side == "so" else "target_endpoint"]
    item: dict[str, Any] = {"id": task_id, "end_point_type": side, "net_type": job["net_type"],
                            "db_type": endpoint.get("db_type", "mysql"), "ip": endpoint.get("ip", "192.0.2.10"),
                            "db_user": endpoint.get("db_user", "root"),
                            "db_password": endpoint.get("db_password", "secret")}
    if item["db_type"] == "mongodb":
        item["db_port"] = 0
    elif "db_port" in endpoint:
        item["db_port"] = endpoint["db_port"]
    for key in ("inst_id", "region", "project_id", "vpc_id", "subnet_id", "ssl_link", "ssl_cert_key",
                "ssl_cert_name", "ssl_cert_check_sum", "ssl_cert_password"):
        if key in endpoint:
            item[key] = endpoint[key]
    for key, value in overrides.items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = value
    return item


# -- switching the launch behaviour of a running simulator ------------------------------------


class FaultSwitch(Protocol):
    """Anything with the simulator's fault accessors (a ``Simulator``)."""

    @property
    def faults(self) -> FaultConfig: ...

    def set_faults(self, config: FaultConfig | None = None, **changes: Any) -> FaultConfig: ...


def fast_launch_faults(**changes: Any) -> dict[str, Any]:
    """FaultConfig keyword arguments for tests: no creation, pre-check or start delays.

    ``FaultConfig(**fast_launch_faults(precheck_duration=1))`` keeps the other delays at 0.
    """
    return {"transition_delay": 0, "precheck_duration": 0, "start_delay": 0, "full_duration": 0, **changes}


def _add(sim: FaultSwitch, field_name: str, *entries: str) -> FaultConfig:
    current = list(getattr(sim.faults, field_name))
    changes: dict[str, Any] = {field_name: current + [e for e in entries if e not in current]}
    return sim.set_faults(**changes)


def fail_connection(sim: FaultSwitch, host: str | None = None, port: int | None = None) -> FaultConfig:
    """Connection tests of endpoints at ``host`` (any port), ``port`` (any host), or both, fail as unreachable."""
    if host is None and port is None:
        raise ValueError("name a host, a port or both")
    entry = (host or "") + (f":{port}" if port is not None else "")
    return _add(sim, "connection_fail", entry)


def fail_precheck(sim: FaultSwitch, task_name: str, *items: str) -> FaultConfig:
    """The task's pre-checks fail at these items (default: srcDbPrivilegesIsEnough); ``*`` = every task."""
    return _add(sim, "precheck_fail", *([f"{task_name}:{i}" for i in items] or [task_name]))


def alarm_precheck(sim: FaultSwitch, task_name: str, *items: str) -> FaultConfig:
    """The task's pre-checks pass with ALARM at these items (default: dbParamConsistency)."""
    return _add(sim, "precheck_alarm", *([f"{task_name}:{i}" for i in items] or [task_name]))


def set_precheck_duration(sim: FaultSwitch, seconds: float) -> FaultConfig:
    """Pre-checks started from now on report process below 100% for ``seconds``."""
    return sim.set_faults(precheck_duration=seconds)


def refuse_start(sim: FaultSwitch, task_name: str) -> FaultConfig:
    """batch-starting answers this task with a failed item DRS.M01504 (nothing is started)."""
    return _add(sim, "start_refuse", task_name)


def fail_start(sim: FaultSwitch, task_name: str) -> FaultConfig:
    """A start of this task is accepted, then the task ends in START_JOB_FAILED."""
    return _add(sim, "start_fail", task_name)


def fail_transfer(sim: FaultSwitch, task_name: str) -> FaultConfig:
    """A started task fails half-way through its transfer (FULL_/INCRE_TRANSFER_FAILED)."""
    return _add(sim, "transfer_fail", task_name)


def drop_next_start_answers(sim: FaultSwitch, count: int = 1) -> FaultConfig:
    """The next ``count`` batch-starting requests are carried out, then the connection closes with no reply."""
    return sim.set_faults(next=list(sim.faults.next) + ["start:lost_response"] * count)
