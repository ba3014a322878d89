"""Data contracts on tool responses: GX validation, inline schema checks, inference.

Contract breaks (the gateway's fault) live in trailcheck.variants.contract_break; the rows GX
validates in trailcheck.analysis.flatten.

Nothing here imports Great Expectations at import time; `ContractValidator` does on first use.
"""

from trailcheck.checks.contracts.gx_validate import (
    ContractValidator,
    GxSuiteError,
    build_gx_suite,
    verify_suites,
)
from trailcheck.checks.contracts.infer import infer_suite
from trailcheck.checks.contracts.inline import (
    ArgumentChecker,
    ResponseChecker,
    ToolArguments,
    ToolContracts,
    contract_checks,
    mark_contract_breaks,
)
from trailcheck.checks.contracts.sources import TraceFileError, responses_from_traces

__all__ = [
    "ArgumentChecker",
    "ContractValidator",
    "GxSuiteError",
    "ResponseChecker",
    "ToolArguments",
    "ToolContracts",
    "TraceFileError",
    "build_gx_suite",
    "contract_checks",
    "infer_suite",
    "mark_contract_breaks",
    "responses_from_traces",
    "verify_suites",
]
