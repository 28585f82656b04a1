"""Request bodies for tests: the API page's four examples and a small valid-job factory.

Kept in the package (not in a conftest) so tests of other components can build bodies
the simulator accepts without restating the wire format.
"""

from __future__ import annotations

import copy
from typing import Any

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
