"""A local DRS v3 API (plus a minimal IAM) on real HTTP, for demos and tests.

It answers the way the real service is documented to, including its faults, so the tool
and its tests can be exercised end to end without a cloud account. Its picture of the
wire format (``wire_schema.json``) is written from the API page independently of the
tool's field catalogue; nothing in this package imports from the rest of ``bulkimport``.

Typical use::

    with Simulator(token="t", faults=FaultConfig(transition_delay=0)) as sim:
        requests.post(f"{sim.base_url}/v3/{project}/jobs/batch-creation",
                      headers={"X-Auth-Token": sim.token}, json={"jobs": [...]})

See docs/simulator.md.
"""

from __future__ import annotations

from bulkimport.simulator.faults import FAULT_NAMES, FaultConfig
from bulkimport.simulator.options import OptionSpec, cli_options, faults_from_options, run_from_options
from bulkimport.simulator.server import DEFAULT_PORT, Simulator, serve
from bulkimport.simulator.wire_schema import (
    check_batch,
    check_launch,
    launch_field_names,
    load_schema,
    sdk_only_field_names,
    wire_enums,
    wire_field_names,
    wire_required_fields,
)

__all__ = [
    "DEFAULT_PORT",
    "FAULT_NAMES",
    "FaultConfig",
    "OptionSpec",
    "Simulator",
    "check_batch",
    "check_launch",
    "cli_options",
    "faults_from_options",
    "launch_field_names",
    "load_schema",
    "run_from_options",
    "sdk_only_field_names",
    "serve",
    "wire_enums",
    "wire_field_names",
    "wire_required_fields",
]
