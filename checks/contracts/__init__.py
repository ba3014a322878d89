"""Data contracts on tool responses: GX validation, inline schema checks, contract breaks, inference.

Nothing here imports Great Expectations at import time; `ContractValidator` does on first use.
"""

from trailcheck.checks.contracts.flatten import flatten_response
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
from trailcheck.checks.contracts.violations import NoBreakFound, break_response, break_tool_response

__all__ = [
    "ArgumentChecker",
    "ContractValidator",
    "GxSuiteError",
    "NoBreakFound",
    "ResponseChecker",
    "ToolArguments",
    "ToolContracts",
    "TraceFileError",
    "break_response",
    "break_tool_response",
    "build_gx_suite",
    "contract_checks",
    "flatten_response",
    "infer_suite",
    "mark_contract_breaks",
    "responses_from_traces",
    "verify_suites",
]
