"""Validate tool responses against their contract suites with Great Expectations 1.x.

GX costs about 4 s to import, so it is imported on first use, never by the CLI at start or by a
replay. One ephemeral context per process (no files written) with one pandas dataframe asset; a
suite is registered once per tool. Responses are flattened to rows (trailcheck/analysis/flatten.py)
and validated in batches of at most `batch_rows` rows; per expectation the batches' counts are
summed and the first unexpected values kept as examples, each with the response it came from.

Rows are built with the `object` dtype so that a value keeps its JSON type: a price that turns into
the string "15.99" is a `str` to `expect_column_values_to_be_in_type_list`, not a coerced float.
"""

import itertools
import json
import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from trailcheck.analysis.flatten import flatten_response
from trailcheck.loading.inventory import ContractFileError, LoadedInventory
from trailcheck.loading.problems import Problem, compose, line_of
from trailcheck.models.contract import ContractSuite, ExpectationOutcome, ToolContractResult, ToolResponse

DEFAULT_BATCH_ROWS = 100_000
MAX_EXAMPLES = 5
_CONTEXT_KEYS = ("batch_id",)


class GxSuiteError(ValueError):
    """GX refused an expectation of a suite (wrong or missing kwargs); names the expectation."""

    def __init__(self, index: int, expectation_type: str, message: str) -> None:
        super().__init__(f"expectation #{index + 1} ({expectation_type}): {message}")
        self.index = index
        self.expectation_type = expectation_type
        self.message = message


def _gx() -> Any:
    import great_expectations as gx  # lazily: ~4 s

    # GX logs its ephemeral context's temporary docs directory at INFO (on a logger it sets to INFO
    # itself): not the user's concern.
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return gx


def build_gx_suite(suite: ContractSuite, name: str | None = None) -> Any:
    """The `gx.ExpectationSuite` of a contract, built one expectation at a time to name the bad one."""
    gx = _gx()
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    expectations = []
    for i, spec in enumerate(suite.expectations):
        try:
            config = ExpectationConfiguration(
                type=spec.type, kwargs=dict(spec.kwargs), meta=dict(spec.meta) or None
            )
            expectations.append(config.to_domain_obj())
        except Exception as exc:  # GX raises pydantic v1 errors, KeyErrors, its own InvalidExpectation...
            message = " ".join(str(exc).split())
            raise GxSuiteError(i, spec.type, message) from exc
    return gx.ExpectationSuite(name=name or suite.name, expectations=expectations)


def verify_suites(loaded: LoadedInventory) -> None:
    """Build every suite of the inventory in GX; a refused expectation is a ContractFileError at its line."""
    for tool, suite in loaded.suites.items():
        try:
            build_gx_suite(suite, f"{tool}-check")
        except GxSuiteError as exc:
            path = loaded.suite_paths[tool]
            node = compose(path.read_text(encoding="utf-8"))
            line = line_of(node, ("expectations", exc.index, "kwargs"))
            problem = Problem(
                f"expectation #{exc.index + 1} ({exc.expectation_type})",
                f"Great Expectations refuses its kwargs: {exc.message}",
                line,
                fix="correct the kwargs (see the expectation's page in the GX gallery)",
            )
            raise ContractFileError(Path(path), [problem], "contract suite") from None


class ContractValidator:
    """Validates responses in an ephemeral GX context; safe to share between threads (one at a time)."""

    def __init__(self, batch_rows: int = DEFAULT_BATCH_ROWS) -> None:
        if batch_rows < 1:
            raise ValueError(f"batch_rows must be at least 1, got {batch_rows}")
        self.batch_rows = batch_rows
        self._lock = threading.Lock()
        self._context: Any = None
        self._batch_definition: Any = None
        self._definitions: dict[str, tuple[str, Any]] = {}
        self._versions = itertools.count(1)

    def _ensure_context(self) -> None:
        if self._context is not None:
            return
        gx = _gx()
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = context.data_sources.add_pandas("tool-responses").add_dataframe_asset("responses")
        self._batch_definition = asset.add_batch_definition_whole_dataframe("batch")
        self._context = context

    def _definition(self, tool: str, suite: ContractSuite) -> Any:
        # A suite edited between two validations in one process gets a new definition.
        fingerprint = json.dumps(suite.gx_dict(), sort_keys=True)
        known = self._definitions.get(tool)
        if known is not None and known[0] == fingerprint:
            return known[1]
        gx = _gx()
        version = next(self._versions)
        gx_suite = self._context.suites.add(build_gx_suite(suite, f"{tool}-{version}"))
        definition = self._context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{tool}-{version}", data=self._batch_definition, suite=gx_suite)
        )
        self._definitions[tool] = (fingerprint, definition)
        return definition

    def validate(
        self, tool: str, suite: ContractSuite, responses: Sequence[ToolResponse], owner: str = ""
    ) -> ToolContractResult:
        """Every expectation of `suite` over the rows of `responses` (none validated when there are none)."""
        if not responses or not suite.expectations:
            return ToolContractResult(
                tool=tool, suite=suite.name, owner=owner, responses=len(responses), rows=0
            )
        import pandas as pd

        with self._lock:
            self._ensure_context()
            definition = self._definition(tool, suite)
            # GX does not return results in suite order; expectation ids line batches up and order them.
            order = [e.id for e in definition.suite.expectations]
            merged: dict[str, ExpectationOutcome] = {}
            total_rows = 0
            for rows, sources in _batches(responses, self.batch_rows):
                total_rows += len(rows)
                frame = pd.DataFrame(rows, dtype=object)
                result = definition.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY")
                for r in result.results:
                    key, outcome = r.expectation_config.id, _outcome(r, sources)
                    merged[key] = _merge(merged[key], outcome) if key in merged else outcome
        return ToolContractResult(
            tool=tool,
            suite=suite.name,
            owner=owner,
            responses=len(responses),
            rows=total_rows,
            outcomes=[merged[key] for key in order if key in merged],
        )


def _batches(
    responses: Sequence[ToolResponse], batch_rows: int
) -> Iterator[tuple[list[dict[str, Any]], list[str]]]:
    """(rows, source of each row) in batches of about `batch_rows` rows; a response is never split."""
    rows: list[dict[str, Any]] = []
    sources: list[str] = []
    for response in responses:
        flat = flatten_response(response.response)
        if rows and len(rows) + len(flat) > batch_rows:
            yield rows, sources
            rows, sources = [], []
        rows.extend(flat)
        sources.extend([response.source] * len(flat))
    if rows:
        yield rows, sources


def _jsonable(value: Any) -> Any:
    """A GX value as JSON: numpy scalars and NaN become plain values."""
    try:
        return json.loads(json.dumps(value, default=str, allow_nan=False))
    except ValueError:
        return None


def _exception_message(info: Any) -> str | None:
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "raised an exception")
    for nested in info.values():
        if isinstance(nested, dict) and nested.get("raised_exception"):
            return str(nested.get("exception_message") or "raised an exception")
    return None


def _outcome(result: Any, sources: list[str]) -> ExpectationOutcome:
    config = result.expectation_config
    details = result.result or {}
    kwargs = {k: _jsonable(v) for k, v in config.kwargs.items() if k not in _CONTEXT_KEYS and k != "column"}
    indexes = details.get("partial_unexpected_index_list") or []
    return ExpectationOutcome(
        expectation=config.type,
        column=config.kwargs.get("column"),
        kwargs=kwargs,
        success=bool(result.success),
        element_count=details.get("element_count"),
        unexpected_count=details.get("unexpected_count"),
        unexpected_percent=_jsonable(details.get("unexpected_percent")),
        observed_value=_jsonable(details.get("observed_value")),
        examples=[_jsonable(v) for v in (details.get("partial_unexpected_list") or [])[:MAX_EXAMPLES]],
        example_sources=[
            sources[i] for i in indexes[:MAX_EXAMPLES] if isinstance(i, int) and i < len(sources)
        ],
        error=_exception_message(result.exception_info),
    )


def _add(a: int | None, b: int | None) -> int | None:
    return None if a is None and b is None else (a or 0) + (b or 0)


def _merge(a: ExpectationOutcome, b: ExpectationOutcome) -> ExpectationOutcome:
    """Two batches' outcomes of one expectation as one: counts add up, examples accumulate."""
    elements = _add(a.element_count, b.element_count)
    unexpected = _add(a.unexpected_count, b.unexpected_count)
    return a.model_copy(
        update={
            "success": a.success and b.success,
            "element_count": elements,
            "unexpected_count": unexpected,
            "unexpected_percent": 100.0 * unexpected / elements
            if elements and unexpected is not None
            else None,
            "observed_value": b.observed_value if b.observed_value is not None else a.observed_value,
            "examples": (a.examples + b.examples)[:MAX_EXAMPLES],
            "example_sources": (a.example_sources + b.example_sources)[:MAX_EXAMPLES],
            "error": a.error or b.error,
        }
    )
