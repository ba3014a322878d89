"""Traces from an HTTP endpoint that pages with a cursor.

The endpoint answers ``GET URL?limit=N[&cursor=C]`` with a JSON object holding a page of traces
and the cursor of the next page (null or absent on the last one)::

    {"traces": [{...trace...}, ...], "next_cursor": "eyJpZCI6IDUwMH0"}

The key names are settings, so most trace stores' list endpoints work without an adapter. With
`since`/`until`, the window is sent as ``since=...&until=...`` (ISO 8601, names are settings), so
the endpoint pages through the window only; the caller still filters what comes back. Only
one page is held at a time. A transport error or 5xx is retried with backoff; a 4xx is not.
"""

import os
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
from pydantic import SecretStr

from trailcheck.loading.sources.base import BadRecords, parse_trace_obj
from trailcheck.loading.sources.errors import TraceRecordError, TraceSourceError
from trailcheck.models import Trace

RETRIES = 3
API_KEY_ENV = "TRAILCHECK_TRACES_API_KEY"


class HttpSource:
    """Stream traces page by page from `url` (see the module docstring for the page format)."""

    def __init__(
        self,
        url: str,
        *,
        page_size: int = 500,
        items_key: str = "traces",
        cursor_key: str = "next_cursor",
        cursor_param: str = "cursor",
        api_key: SecretStr | None = None,
        timeout_s: float = 30.0,
        max_bad: int = 100,
        client: httpx.Client | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        since_param: str = "since",
        until_param: str = "until",
    ) -> None:
        self.window = {
            name: moment.isoformat()
            for name, moment in ((since_param, since), (until_param, until))
            if moment is not None
        }
        self.url, self.page_size = url, page_size
        self.items_key, self.cursor_key, self.cursor_param = items_key, cursor_key, cursor_param
        env_key = os.environ.get(API_KEY_ENV)
        self._api_key = api_key or (SecretStr(env_key) if env_key else None)
        self._timeout_s, self._client = timeout_s, client
        self.bad = BadRecords(max_bad)

    def describe(self) -> str:
        """The URL without its query (which may carry a token)."""
        return self.url.split("?", 1)[0]

    def _get_page(self, client: httpx.Client, cursor: str | None, page: int) -> dict[str, Any]:
        params: dict[str, str | int] = {"limit": self.page_size, **self.window}
        if cursor is not None:
            params[self.cursor_param] = cursor
        last = ""
        for attempt in range(RETRIES + 1):
            try:
                response = client.get(self.url, params=params)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 500:
                    break
                last = f"HTTP {response.status_code}"
            if attempt < RETRIES:
                time.sleep(0.2 * 2**attempt)
        else:
            raise TraceSourceError(f"{self.describe()} page {page}: failed after {RETRIES + 1} tries: {last}")
        if response.status_code >= 400:
            raise TraceSourceError(
                f"{self.describe()} page {page}: HTTP {response.status_code}: {response.text[:200]}"
            )
        try:
            body = response.json()
        except ValueError:
            raise TraceSourceError(f"{self.describe()} page {page}: the answer is not JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get(self.items_key), list):
            raise TraceSourceError(
                f"{self.describe()} page {page}: expected an object with a list under {self.items_key!r}"
                f"\n    fix: set items_key to the key that holds the traces"
            )
        return body

    def __iter__(self) -> Iterator[Trace]:
        headers = {"Authorization": f"Bearer {self._api_key.get_secret_value()}"} if self._api_key else {}
        client = self._client or httpx.Client(timeout=self._timeout_s, headers=headers)
        try:
            cursor: str | None = None
            page = 1
            while True:
                body = self._get_page(client, cursor, page)
                for index, item in enumerate(body[self.items_key]):
                    try:
                        yield parse_trace_obj(item, f"{self.describe()} page {page} item {index}")
                    except TraceRecordError as exc:
                        self.bad.skip(exc)
                next_cursor = body.get(self.cursor_key)
                if not next_cursor or not body[self.items_key]:
                    return
                cursor, page = str(next_cursor), page + 1
        finally:
            if self._client is None:
                client.close()
