"""The simulator's wire schema as an oracle: the API page's examples pass, wrong bodies fail.

These call the checker directly (fast, precise about which rule fired); the same verdicts
over HTTP are covered in test_simulator.py.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fixtures.api_reference import CREATE_JOB_REQ, ENDPOINT, RESOURCE_TAG, api_fields

from bulkimport.simulator import check_batch, sdk_only_field_names, wire_enums, wire_field_names, wire_required_fields
from bulkimport.simulator.testing import API_PAGE_EXAMPLES, example_body, make_job


def problems_of(job: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    check = check_batch({"jobs": [job]})
    assert check.request_problem is None
    return [(p.code, p.field, p.rule) for p in check.job_problems.get(0, [])]


def dr_job(**overrides: Any) -> dict[str, Any]:
    job = example_body("mysql-dr-standby")["jobs"][0]
    job.update(overrides)
    return job


@pytest.mark.parametrize("key", sorted(API_PAGE_EXAMPLES))
def test_api_page_examples_pass(key: str) -> None:
    assert check_batch(example_body(key)).ok


def test_ten_jobs_pass_eleven_fail() -> None:
    assert check_batch({"jobs": [make_job(f"job-{i:02d}") for i in range(10)]}).ok
    eleven = check_batch({"jobs": [make_job(f"job-{i:02d}") for i in range(11)]})
    assert eleven.request_problem is not None
    assert eleven.request_problem.code == "DRS.M00200"
    assert check_batch({"jobs": [make_job(f"job-{i:02d}") for i in range(11)]}, max_jobs=20).ok


@pytest.mark.parametrize(("body", "code"), [
    ([], "DRS.M00200"),
    ({}, "DRS.M00201"),
    ({"jobs": []}, "DRS.M00201"),
    ({"jobs": {"name": "x"}}, "DRS.M00200"),
    ({"jobs": [make_job("abcd")], "extra": 1}, "DRS.M00200"),
])
def test_request_level_problems(body: Any, code: str) -> None:
    check = check_batch(body)
    assert check.request_problem is not None
    assert check.request_problem.code == code


@pytest.mark.parametrize(("overrides", "field"), [
    ({"bind_eip": "true"}, "bind_eip"),
    ({"is_target_readonly": 0}, "is_target_readonly"),
    ({"target_endpoint": {"region": "eu-de", "db_type": "mysql", "inst_id": "i", "db_port": "3306"}},
     "target_endpoint.db_port"),
    ({"target_endpoint": {"region": "eu-de", "db_type": "mysql", "inst_id": "i", "db_port": 3306.0}},
     "target_endpoint.db_port"),
    ({"expired_days": 30}, "expired_days"),
    ({"expired_days": "13"}, "expired_days"),
    ({"expired_days": "101"}, "expired_days"),
    ({"expired_days": "014"}, "expired_days"),
    ({"nmae": "typo"}, "nmae"),
    ({"source_endpoint": {"db_type": "mysql", "password": "x"}}, "source_endpoint.password"),
    ({"node_num": 0}, "node_num"),
    ({"node_num": 33}, "node_num"),
    ({"node_num": "2"}, "node_num"),
    ({"node_type": "xlarge"}, "node_type"),
    ({"task_type": "FULL"}, "task_type"),
    ({"net_type": "internet"}, "net_type"),
    ({"job_direction": "sideways"}, "job_direction"),
    ({"engine_type": "oracle"}, "engine_type"),
    ({"description": "a < b"}, "description"),
    ({"description": "x" * 257}, "description"),
    ({"customize_sutnet_id": "not-a-uuid"}, "customize_sutnet_id"),
    ({"tags": [{"key": f"k{i}", "value": "v"} for i in range(21)]}, "tags"),
    ({"tags": [{"key": "k" * 37, "value": "v"}]}, "tags.0.key"),
    ({"tags": [{"key": "k", "value": "v" * 44}]}, "tags.0.value"),
    ({"tags": [{"key": "a b", "value": "v"}]}, "tags.0.key"),
    ({"sys_tags": [{"key": "enterprise", "value": "0"}]}, "sys_tags.0.key"),
    ({"sys_tags": [{"key": "_sys_enterprise_project_id", "value": "0"}] * 2}, "sys_tags"),
    ({"target_endpoint": {"region": "eu-de", "db_type": "oracle", "inst_id": "i"}}, "target_endpoint.db_type"),
    ({"target_endpoint": {"region": "eu-de", "db_type": "mysql", "inst_id": "i", "cluster_mode": "Sharding"}},
     "target_endpoint.cluster_mode"),
    ({"target_endpoint": {"region": "eu-de", "db_type": "mysql", "inst_id": "i", "ssl_link": "yes"}},
     "target_endpoint.ssl_link"),
    ({"target_endpoint": {"region": "eu-de", "db_type": "mysql", "inst_id": "i", "db_port": 65536}},
     "target_endpoint.db_port"),
])
def test_field_rules(overrides: dict[str, Any], field: str) -> None:
    found = problems_of(make_job("DRS-9228", **overrides))
    assert field in {f for _, f, _ in found}, found


def test_null_is_not_a_value() -> None:
    job = make_job("DRS-9228")
    job["description"] = None
    assert ("DRS.M00202", "description", None) in problems_of(job)


@pytest.mark.parametrize("name", ["abc", "a" * 51, "9start", "-start", "has space", "has.dot", "naïve-name"])
def test_bad_names(name: str) -> None:
    assert ("DRS.M00202", "name", None) in problems_of(make_job(name))


@pytest.mark.parametrize("name", ["abcd", "a" * 50, "Z_9-x"])
def test_good_names(name: str) -> None:
    assert problems_of(make_job(name)) == []


@pytest.mark.parametrize("missing", sorted(wire_required_fields()))
def test_each_mandatory_field(missing: str) -> None:
    job = make_job("DRS-9228", **{missing: None})
    found = problems_of(job)
    assert ("DRS.M00201", missing, None) in found, found


def test_sdk_only_fields_accepted() -> None:
    job = make_job("DRS-9228", product_id="p", charging_mode="on_demand", is_open_fast_clean=True,
                   period_order={"period_type": 2, "period_num": 1, "is_auto_renew": 0},
                   public_ip_list=[{"id": "x", "public_ip": "1.2.3.4", "type": "src"}])
    job["source_endpoint"].update(db_name="orcl", safe_mode=0, topic="t")
    assert problems_of(job) == []


def test_optional_fields_in_range_accepted() -> None:
    job = make_job("DRS-9228", expired_days="14", node_num=32, description="plain text, (ok)",
                   tags=[{"key": "owner", "value": "team-a"}, {"key": "標籤", "value": "值"}],
                   sys_tags=[{"key": "_sys_enterprise_project_id", "value": "0"}], master_az="a", slave_az="b")
    job["target_endpoint"].update(db_port=65535, ssl_link=False, db_password="secret")
    assert problems_of(job) == []
    assert problems_of(make_job("DRS-9228", expired_days="100")) == []


@pytest.mark.parametrize(("job", "rule"), [
    (make_job("abcd", db_use_type="cloudDataGuard", multi_write=False), "engine-mysql-scenario"),
    (make_job("abcd", engine_type="mongodb", db_use_type="sync",
              source_endpoint={"db_type": "mongodb"},
              target_endpoint={"region": "r", "inst_id": "i", "db_type": "mongodb"}), "engine-mongodb-scenario"),
    (dr_job(db_use_type="migration"), "engine-dr-scenario"),
    (make_job("abcd", engine_type="mysql-to-taurus", db_use_type="migration",
              target_endpoint={"region": "r", "inst_id": "i", "db_type": "taurus"}), "engine-taurus-scenario"),
    (make_job("abcd", engine_type="postgresql", db_use_type="migration",
              source_endpoint={"db_type": "postgresql"},
              target_endpoint={"region": "r", "inst_id": "i", "db_type": "postgresql"}), "engine-postgresql-scenario"),
    (make_job("abcd", source_endpoint={"db_type": "mongodb"}), "engine-mysql-db-types"),
    (make_job("abcd", engine_type="mongodb", target_endpoint={"region": "r", "inst_id": "i", "db_type": "mysql"},
              source_endpoint={"db_type": "mongodb"}), "engine-mongodb-db-types"),
    (dr_job(source_endpoint={"db_type": "taurus"}), "engine-dr-db-types"),
    (make_job("abcd", engine_type="mysql-to-taurus", db_use_type="sync"), "engine-taurus-db-types"),
    (make_job("abcd", engine_type="postgresql", db_use_type="sync"), "engine-postgresql-db-types"),
    (make_job("abcd", bind_eip=False), "eip-needs-bind-eip"),
    (make_job("abcd", bind_eip=None), "eip-needs-bind-eip"),
    (dr_job(net_type="vpc"), "dr-no-vpc"),
    ({k: v for k, v in dr_job().items() if k != "multi_write"}, "dr-needs-multi-write"),
    (dr_job(task_type="FULL_TRANS"), "single-active-dr-full-incr"),
    (make_job("abcd", target_endpoint={"db_type": "mysql", "region": "eu-de"}), "up-needs-cloud-target"),
    (make_job("abcd", job_direction="down"), "down-needs-cloud-source"),
    (dr_job(is_target_readonly=False), "standby-dr-readonly-target"),
])
def test_cross_field_rules(job: dict[str, Any], rule: str) -> None:
    rules = {r for _, _, r in problems_of(job)}
    assert rule in rules, rules


def test_cross_field_rules_allow_what_the_page_allows() -> None:
    assert problems_of(dr_job(multi_write=True, task_type="FULL_TRANS")) == []  # dual-active DR
    without_readonly = {k: v for k, v in dr_job().items() if k != "is_target_readonly"}
    assert problems_of(without_readonly) == []
    vpn = make_job("abcd", net_type="vpn", bind_eip=None)
    assert problems_of(vpn) == []
    self_built = make_job("abcd", job_direction="non-dbs", target_endpoint={"db_type": "mysql"})
    assert problems_of(self_built) == []
    down = make_job("abcd", job_direction="down", source_endpoint={"db_type": "mysql", "region": "r", "inst_id": "i"},
                    target_endpoint={"db_type": "mysql"})
    assert problems_of(down) == []
    no_db_types = make_job("abcd", source_endpoint={}, target_endpoint={"region": "r", "inst_id": "i"})
    assert problems_of(no_db_types) == []


def test_job_that_is_not_an_object() -> None:
    check = check_batch({"jobs": [make_job("abcd"), "oops"]})
    assert list(check.job_problems) == [1]
    assert check.job_problems[1][0].code == "DRS.M00202"


def test_problem_carries_job_name_and_index() -> None:
    check = check_batch({"jobs": [make_job("good-one"), make_job("bad-one", bind_eip="true")]})
    problem = check.job_problems[1][0]
    assert (problem.job_index, problem.job_name, problem.field) == (1, "bad-one", "bind_eip")


def test_consistency_hooks() -> None:
    names = wire_field_names()
    assert "customize_sutnet_id" in names["CreateJobReq"]
    # The simulator's own wire schema and our summary of the API page name the same fields.
    assert names["CreateJobReq"] == set(api_fields(CREATE_JOB_REQ))
    assert names["Endpoint"] == set(api_fields(ENDPOINT))
    assert names["ResourceTag"] == set(api_fields(RESOURCE_TAG))
    assert not names["CreateJobReq"] & sdk_only_field_names()["CreateJobReq"]
    enums = wire_enums()
    assert enums["engine_type"] == {"mysql", "mongodb", "cloudDataGuard-mysql", "mysql-to-taurus", "postgresql"}
    assert enums["target_endpoint.db_type"] == {"mysql", "mongodb", "taurus", "postgresql"}
    assert enums["node_type"] == {"high"}
    assert "charging_mode" not in enums
    assert wire_required_fields() == {
        "name", "db_use_type", "engine_type", "job_direction", "customize_sutnet_id", "net_type", "node_type",
        "source_endpoint", "target_endpoint", "task_type"}


def test_checker_does_not_mutate_input() -> None:
    body = example_body("mysql-dr-standby")
    before = copy.deepcopy(body)
    check_batch(body)
    assert body == before


def test_simulator_package_imports_nothing_from_the_tool() -> None:
    """The oracle must stay independent of the catalogue it checks."""
    import ast
    from pathlib import Path

    import bulkimport.simulator as package

    for source in Path(package.__file__).parent.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            modules = []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            for module in modules:
                if module.startswith("bulkimport"):
                    assert module.startswith("bulkimport.simulator"), f"{source.name} imports {module}"
