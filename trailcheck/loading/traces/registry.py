"""The known trace formats, in detection order, and reading a file in one of them or in the detected one.

Detection looks at the first records of the file (binary files are OTLP protobuf) and takes the
first format, in `FORMATS` order, that claims one of them. Formats whose records look alike are
ordered specific-first (Anthropic's content blocks before plain chat messages).
"""

from collections.abc import Iterator
from itertools import chain, islice
from pathlib import Path

from trailcheck.loading.traces.agents_sdk import AgentsSdkReader
from trailcheck.loading.traces.anthropic import AnthropicReader
from trailcheck.loading.traces.base import BadRecord, ReadOptions, ReadTrace, Record, TraceReader
from trailcheck.loading.traces.errors import UnknownFormatError
from trailcheck.loading.traces.framing import NotJson, records
from trailcheck.loading.traces.langsmith import LangSmithReader
from trailcheck.loading.traces.otlp import OtlpReader
from trailcheck.loading.traces.pydantic_ai import PydanticAiReader
from trailcheck.loading.traces.responses import ResponsesReader
from trailcheck.loading.traces.trailcheck_jsonl import TrailcheckReader

FORMATS: tuple[TraceReader, ...] = (
    OtlpReader(),
    PydanticAiReader(),
    AgentsSdkReader(),
    LangSmithReader(),
    ResponsesReader(),
    AnthropicReader(),
    TrailcheckReader(),
)
SNIFFED_RECORDS = 20


def format_names() -> list[str]:
    """The names `--format` takes, ``auto`` first."""
    return ["auto", *(f.name for f in FORMATS)]


def get_format(name: str) -> TraceReader:
    """The reader called `name`; UnknownFormatError listing the known ones otherwise."""
    for reader in FORMATS:
        if reader.name == name:
            return reader
    raise UnknownFormatError(f"unknown trace format {name!r}; known formats: {', '.join(format_names())}")


def _claimant(head: list[Record]) -> TraceReader | None:
    if head and head[0].binary:
        return next((f for f in FORMATS if f.binary), None)
    for record in head:
        value = record.value
        if record.binary or isinstance(value, NotJson):
            continue
        for reader in FORMATS:
            if reader.sniff(value):
                return reader
    return None


def _known() -> str:
    return "; ".join(f"{f.name}: {f.description}" for f in FORMATS)


def read_traces(
    path: Path, fmt: str = "auto", options: ReadOptions | None = None
) -> Iterator[ReadTrace | BadRecord]:
    """The traces of `path` in format `fmt` (``auto``: detected), streamed.

    Raises TraceFileError when the file cannot be read and UnknownFormatError when no format
    claims it, or when `fmt` is named but the file is clearly in another one.
    """
    options = options or ReadOptions()
    asked = None if fmt == "auto" else get_format(fmt)
    stream = records(path)
    head = list(islice(stream, SNIFFED_RECORDS))
    if not head:
        return
    claimant = _claimant(head)
    if asked is None:
        if claimant is None:
            raise UnknownFormatError(
                f"{path}: cannot tell the trace format from the first {len(head)} record(s); "
                f"fix: pass --format with one of: {_known()}"
            )
        reader = claimant
    else:
        if claimant is not None and claimant is not asked and not _asked_claims(asked, head):
            raise UnknownFormatError(
                f"{path}: this looks like {claimant.name}, not {asked.name}; "
                f"fix: use --format {claimant.name} (or --format auto)"
            )
        reader = asked
    yield from reader.read(path, chain(head, stream), options)


def _asked_claims(asked: TraceReader, head: list[Record]) -> bool:
    if asked.binary:
        return bool(head) and head[0].binary
    return any(not isinstance(r.value, NotJson) and asked.sniff(r.value) for r in head)
