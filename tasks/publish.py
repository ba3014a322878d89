"""Publish a run to the Prefect UI as artifacts keyed by suite, so the UI keeps their history."""

import re
import threading
import time
from typing import cast
from uuid import UUID

from prefect import task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE

from trailcheck.analysis.verdict import verdict_line
from trailcheck.models import CaseResult, ChatMessage, NotificationResult, RunResult
from trailcheck.render.markdown import case_table_rows, render_summary_markdown


def artifact_key(*parts: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")


@task(name="publish-artifacts", cache_policy=NO_CACHE)
def publish_artifacts(run: RunResult, flow_run_url: str | None = None) -> None:
    """A Markdown summary and a table of cases, both keyed by the suite."""
    create_markdown_artifact(
        markdown=render_summary_markdown(run, flow_run_url),
        key=artifact_key("regression", run.suite, "summary"),
        description=verdict_line(run),
    )
    create_table_artifact(
        table=case_table_rows(run),
        key=artifact_key("regression", run.suite, "cases"),
        description=f"Cases of {run.suite} on {run.agent_version}",
    )


@task(name="publish-message-link", cache_policy=NO_CACHE)
def publish_message_link(message: ChatMessage, result: NotificationResult) -> UUID | None:
    """A link artifact to the posted Slack message, keyed like the other artifacts of its subject."""
    if not result.permalink:
        return None
    link = create_link_artifact(
        link=result.permalink,
        link_text=f"Slack message in {result.channel}",
        key=artifact_key(message.kind, message.subject, "slack"),
        description=message.text,
    )
    return cast(UUID, link)  # Prefect's async_dispatch: from sync code the id, not a coroutine


class ProgressArtifact:
    """A progress artifact (0-100 %) keyed by suite, updated as trials finish during a long replay.

    `advance` may be called from any thread (shards report trials from theirs); `refresh` writes
    to the API at most every `every_s` seconds, from the flow's own thread.
    """

    def __init__(self, key: str, total: int, description: str, every_s: float = 2.0) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.every_s = every_s
        self._lock = threading.Lock()
        self._written = -1.0
        self._last_write = 0.0
        # Prefect's async_dispatch: from sync code the artifact's id, not a coroutine.
        self.artifact_id = cast(
            UUID, create_progress_artifact(progress=0.0, key=key, description=description)
        )

    def advance(self, _result: CaseResult | None = None, count: int = 1) -> None:
        with self._lock:
            self.done = min(self.total, self.done + count)

    def at_least(self, done: int) -> None:
        """Raise the count to `done` (shards on Dask report no trials, only finished shards)."""
        with self._lock:
            self.done = max(self.done, min(done, self.total))

    @property
    def percent(self) -> float:
        return round(100.0 * self.done / self.total, 1)

    def refresh(self, final: bool = False) -> None:
        now = time.monotonic()
        percent = 100.0 if final else self.percent
        if percent != self._written and (final or now - self._last_write >= self.every_s):
            update_progress_artifact(artifact_id=self.artifact_id, progress=percent)
            self._written, self._last_write = percent, now
