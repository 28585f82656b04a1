"""The simulator's fast schema path never accepts what the detailed (jsonschema) path refuses."""

from __future__ import annotations

import copy

import pytest

from bulkimport.simulator import check_batch
from bulkimport.simulator.testing import API_PAGE_EXAMPLES, make_job
from bulkimport.simulator.wire_schema import fast_accepts


def _mutations() -> list[tuple[str, dict]]:
    cases: list[tuple[str, dict]] = [(f"page:{k}", copy.deepcopy(v)) for k, v in API_PAGE_EXAMPLES.items()]
    changes = {
        "bool as text": {"bind_eip": "true"},
        "int as float": {"node_num": 2.0},
        "int as bool": {"node_num": True},
        "expired_days as int": {"expired_days": 20},
        "expired_days out of range": {"expired_days": "13"},
        "unknown key": {"nmae": "x"},
        "bad enum": {"engine_type": "oracle"},
        "short name": {"name": "ab"},
        "name starts with digit": {"name": "1abc"},
        "bad description": {"description": "a<b"},
        "bad uuid": {"customize_sutnet_id": "not-a-uuid"},
        "eip without bind": {"bind_eip": False},
        "dr over vpc": {"net_type": "vpc", "db_use_type": "cloudDataGuard", "engine_type": "cloudDataGuard-mysql",
                        "multi_write": False},
        "missing name": {"name": None},
        "port as float": {"source_endpoint": {"db_type": "mysql", "db_port": 3306.0}},
        "port out of range": {"source_endpoint": {"db_type": "mysql", "db_port": 70000}},
    }
    for label, change in changes.items():
        cases.append((label, {"jobs": [make_job("abcd-1", **change)]}))
    cases.append(("11 jobs", {"jobs": [make_job(f"job-{i:02d}") for i in range(11)]}))
    cases.append(("no jobs", {"jobs": []}))
    cases.append(("not an object", []))  # type: ignore[list-item]
    return cases


@pytest.mark.parametrize(("label", "body"), _mutations(), ids=[c[0] for c in _mutations()])
def test_fast_path_agrees_with_the_detailed_check(label: str, body: dict) -> None:
    detailed = check_batch(body, fast=False)
    verdict = check_batch(body)
    assert verdict == detailed
    if fast_accepts(body):
        assert detailed.ok, label
    if label.startswith("page:"):
        assert verdict.ok and fast_accepts(body), label
    else:
        assert not verdict.ok and not fast_accepts(body), label
