"""Trace sources: JSONL files, an HTTP endpoint with cursor pages (a real local server), SQL tables."""

import gzip
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, Table, create_engine, text

from tests.live_data import jsonl, trace_dict
from trailcheck.loading.sources import (
    HttpSource,
    JsonlSource,
    SqlSource,
    TooManyBadRecords,
    TraceRecordError,
    TraceSourceError,
    TraceSourceMissing,
    open_source,
)
from trailcheck.serving import serve_in_thread


def test_jsonl_streams_every_trace_and_names_file_line_and_field_of_a_bad_one(tmp_path: Path) -> None:
    good = [trace_dict(i) for i in range(5)]
    lines = jsonl(good).splitlines()
    lines.insert(2, '{"trace_id": "bad-cost", "cost": -1, "messages": [{"role": "user", "content": "x"}]}')
    lines.insert(4, "{not json")
    lines.insert(5, "")
    path = tmp_path / "traces.jsonl"
    path.write_text("\n".join(lines) + "\n")

    source = JsonlSource(path)
    ids = [t.trace_id for t in source]
    assert ids == [t["trace_id"] for t in good]
    assert source.bad.count == 2
    assert source.bad.problems[0].startswith(
        f"{path}:3: field 'cost': Input should be greater than or equal to 0"
    )
    assert source.bad.problems[1].startswith(f"{path}:5: not valid JSON")

    strict = JsonlSource(path, max_bad=0)
    with pytest.raises(TraceRecordError, match=r"traces.jsonl:3: field 'cost'") as exc:
        list(strict)
    assert "fix:" in str(exc.value)
    with pytest.raises(TooManyBadRecords, match="more than 1 bad trace records"):
        list(JsonlSource(path, max_bad=1))


def test_jsonl_reads_gzip_and_refuses_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl.gz"
    with gzip.open(path, "wt") as out:
        out.write(jsonl([trace_dict(i) for i in range(3)]))
    assert [t.trace_id for t in open_source(str(path))] == ["t-000000", "t-000001", "t-000002"]
    with pytest.raises(TraceSourceMissing, match=r"missing\.jsonl: no such trace file"):
        list(JsonlSource(tmp_path / "missing.jsonl"))


def _paged_app(traces: list[Any], seen: list[dict[str, str]], fail_first: int = 0) -> FastAPI:
    app = FastAPI()
    failures = {"left": fail_first}
    lock = threading.Lock()

    @app.get("/traces")
    def page(request: Request, limit: int, cursor: str | None = None) -> object:
        seen.append(dict(request.query_params) | {"auth": request.headers.get("authorization", "")})
        with lock:
            if failures["left"]:
                failures["left"] -= 1
                return JSONResponse({"error": "busy"}, status_code=503)
        start = int(cursor) if cursor else 0
        items = traces[start : start + limit]
        more = start + limit < len(traces)
        return {"traces": items, "next_cursor": str(start + limit) if more else None}

    return app


def test_http_source_follows_cursors_page_by_page_and_retries_a_5xx(monkeypatch: pytest.MonkeyPatch) -> None:
    traces: list[Any] = [trace_dict(i) for i in range(7)]
    traces[4] = {"trace_id": "broken", "messages": []}
    seen: list[dict[str, str]] = []
    monkeypatch.setenv("TRAILCHECK_TRACES_API_KEY", "tk-secret")
    with serve_in_thread(_paged_app(traces, seen, fail_first=1)) as base:
        source = HttpSource(f"{base}/traces", page_size=3)
        ids = [t.trace_id for t in source]
    assert ids == ["t-000000", "t-000001", "t-000002", "t-000003", "t-000005", "t-000006"]
    assert [s.get("cursor") for s in seen] == [None, None, "3", "6"]  # the first try failed with 503
    assert all(s["auth"] == "Bearer tk-secret" for s in seen)
    assert source.bad.count == 1
    assert "page 2 item 1: field 'messages'" in source.bad.problems[0]
    assert "tk-secret" not in source.describe()


def test_http_source_reports_a_page_that_is_not_a_trace_page() -> None:
    app = FastAPI()

    @app.get("/traces")
    def page() -> object:
        return {"items": []}

    with (
        serve_in_thread(app) as base,
        pytest.raises(TraceSourceError, match="expected an object with a list under 'traces'"),
    ):
        list(HttpSource(f"{base}/traces"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'traces.db'}"
    else:
        yield request.getfixturevalue("postgres_url").replace("postgresql://", "postgresql+psycopg://")


def test_sql_source_reads_a_table_in_key_order_in_batches(sql_url: str) -> None:
    engine = create_engine(sql_url)
    table = Table("agent_traces", MetaData(), Column("id", Integer, primary_key=True), Column("trace", JSON))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS agent_traces"))
        table.create(conn)
        rows: list[dict[str, Any]] = [{"id": i + 1, "trace": trace_dict(i)} for i in range(25)]
        rows[9]["trace"] = {"trace_id": "broken", "task_type": 3, "messages": [{"role": "user"}]}
        conn.execute(table.insert(), rows)
    engine.dispose()
    source = open_source(f"sql+agent_traces@{sql_url}")
    assert isinstance(source, SqlSource)
    source.batch_size = 7
    ids = [t.trace_id for t in source]
    assert ids == [f"t-{i:06d}" for i in range(25) if i != 9]
    assert source.bad.count == 1
    assert "table agent_traces row id=10: field 'task_type'" in source.bad.problems[0]
    with pytest.raises(TraceSourceError, match="no column 'payload'"):
        list(SqlSource(sql_url, "agent_traces", trace_column="payload"))
    with pytest.raises(TraceSourceError, match="no such table"):
        list(SqlSource(sql_url, "nope"))


def test_a_sql_spec_without_table_is_refused() -> None:
    with pytest.raises(TraceSourceError, match=r"sql\+TABLE@URL"):
        open_source("sql+sqlite:///x.db")


def test_trace_json_is_what_the_jsonl_line_says(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    record = trace_dict(1) | {"region": "eu"}
    path.write_text(json.dumps(record) + "\n")
    trace = next(iter(JsonlSource(path)))
    assert trace.model_extra == {"region": "eu"}
    assert trace.to_trajectory().tool_calls[0].name == "issue_refund"


def test_sql_source_puts_the_time_window_in_the_query(sql_url: str) -> None:
    engine = create_engine(sql_url)
    table = Table(
        "windowed_traces",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("timestamp", DateTime(timezone=True)),
        Column("trace", JSON),
    )
    start = datetime(2026, 11, 20, tzinfo=UTC)
    window = range(30, 45)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS windowed_traces"))
        table.create(conn)
        # Rows outside the window are not even valid traces: read, each would be a bad record.
        rows = [
            {
                "id": i + 1,
                "timestamp": start + timedelta(minutes=i),
                "trace": trace_dict(i, at=start + timedelta(minutes=i)) if i in window else {"messages": []},
            }
            for i in range(60)
        ]
        conn.execute(table.insert(), rows)
    engine.dispose()
    since, until = start + timedelta(minutes=30), start + timedelta(minutes=45)
    source = open_source(f"sql+windowed_traces@{sql_url}", max_bad=0, since=since, until=until)
    assert isinstance(source, SqlSource)
    assert [t.trace_id for t in source] == [f"t-{i:06d}" for i in window]
    assert source.pushed_down == "timestamp" and source.bad.count == 0
    with pytest.raises(TraceRecordError):  # without the window every row is read
        list(open_source(f"sql+windowed_traces@{sql_url}", max_bad=0))


def test_http_source_sends_the_time_window_with_each_page() -> None:
    traces: list[Any] = [trace_dict(i) for i in range(3)]
    seen: list[dict[str, str]] = []
    since, until = datetime(2026, 11, 20, 10, tzinfo=UTC), datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
    with serve_in_thread(_paged_app(traces, seen)) as base:
        source = open_source(f"{base}/traces", since=since, until=until)
        source.page_size = 2  # type: ignore[attr-defined]
        list(source)
    assert [(s["since"], s["until"]) for s in seen] == [(since.isoformat(), until.isoformat())] * 2
