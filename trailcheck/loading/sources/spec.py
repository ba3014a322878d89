"""One string names a source, so the CLI and flow parameters stay plain strings.

- ``traces.jsonl`` or ``traces.jsonl.gz`` (a path): a JSONL file
- ``http://host/traces`` or ``https://...``: an endpoint with cursor pages
- ``sql+TABLE@URL`` e.g. ``sql+agent_traces@postgresql://user@db/prod``: a SQL table
- ``otlp-store:DIR``: the store `trailcheck collect` writes, read by time window
- ``FORMAT:PATH`` e.g. ``otlp:spans.jsonl``: a file in a named trace format (default: detected);
  the formats are those of `trailcheck.loading.traces.format_names()`
"""

from datetime import datetime

from trailcheck.loading.sources.base import TraceSource
from trailcheck.loading.sources.errors import TraceSourceError
from trailcheck.loading.sources.http import HttpSource
from trailcheck.loading.sources.jsonl import JsonlSource
from trailcheck.loading.sources.otlp_store import OtlpStoreSource
from trailcheck.loading.sources.sql import SqlSource
from trailcheck.loading.traces import format_names


def open_source(
    spec: str, max_bad: int = 100, since: datetime | None = None, until: datetime | None = None
) -> TraceSource:
    """The source `spec` names (see the module docstring).

    `since`/`until` are pushed down to the sources that can filter where the traces are (the SQL
    query, the HTTP request, the store's segments); the caller still filters what comes back.
    """
    if spec.startswith("otlp-store:"):
        return OtlpStoreSource(spec.removeprefix("otlp-store:"), since=since, until=until, max_bad=max_bad)
    if spec.startswith(("http://", "https://")):
        return HttpSource(spec, max_bad=max_bad, since=since, until=until)
    if spec.startswith("sql+"):
        table, sep, url = spec[4:].partition("@")
        if not sep or not table or not url:
            raise TraceSourceError(
                f"cannot read source {spec.split('@')[0]}...: a SQL source is sql+TABLE@URL, "
                "e.g. sql+agent_traces@sqlite:///traces.db"
            )
        return SqlSource(url, table, max_bad=max_bad, since=since, until=until)
    fmt, sep, path = spec.partition(":")
    if sep and fmt in format_names():
        return JsonlSource(path, max_bad=max_bad, fmt=fmt)
    return JsonlSource(spec, max_bad=max_bad)


def is_file_spec(spec: str) -> bool:
    """Whether `spec` names a plain file (not an endpoint, a table or a store)."""
    return not spec.startswith(("http://", "https://", "sql+", "otlp-store:"))


def file_of(spec: str) -> str | None:
    """The file a spec names (without its ``FORMAT:`` prefix), or None for other sources."""
    if not is_file_spec(spec):
        return None
    fmt, sep, path = spec.partition(":")
    return path if sep and fmt in format_names() else spec


def with_format(spec: str, fmt: str) -> str:
    """`spec` reading its file in `fmt` (``auto`` and non-file sources are left as they are)."""
    if fmt == "auto" or not is_file_spec(spec):
        return spec
    return f"{fmt}:{spec}"
