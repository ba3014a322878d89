"""A local spool for what the results database could not take, flushed once it can (DESIGN.md: loses nothing).

    writer = SpoolingWriter(url, run.run_id)
    writer.start_run(run)              # the database, or the spool when the database fails
    writer.record(results)             # flushes this run's spool first, so records keep their order
    writer.finish_run(run)             # True when the run (and all it spooled) is in the database
    flush_spool(url)                   # every run's leftovers, e.g. at the start of the next run

Files: ``<$TRAILCHECK_HOME or ./.trailcheck>/spool/<database key>/<run_id>.jsonl``, one record a line
(``start_run``, ``case_results`` or ``finish_run``). The key is a hash of the database URL, so no
password is written anywhere; ``database.txt`` beside the files names the database with its password
masked. Replaying a record is idempotent (runs upsert on run_id, trials on run/case/trial), so a record
flushed twice (a crash between the database write and the file's removal) leaves no duplicate.

Writers and flushers of one file, in any thread or process of the machine, take an exclusive
``flock`` on it; a flush removes the file while holding the lock, and a writer that finds its file
removed opens a new one. A line cut short by a crash is moved to ``<run_id>.rejected`` and reported.
"""

import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from trailcheck.db.engine import DEFAULT_HOME, HOME_ENV, database_url, get_engine
from trailcheck.db.errors import ResultsDatabaseError, mask_url
from trailcheck.db.repository import RunStatus, finish_run, record_case_results, start_run
from trailcheck.models import CaseResult, RunResult
from trailcheck.models.spool import SpoolReport

log = logging.getLogger(__name__)
SPOOL_DIR = "spool"


class _StartRun(BaseModel):
    op: Literal["start_run"] = "start_run"
    run: RunResult


class _CaseResults(BaseModel):
    op: Literal["case_results"] = "case_results"
    run_id: str
    results: list[CaseResult]


class _FinishRun(BaseModel):
    op: Literal["finish_run"] = "finish_run"
    run: RunResult
    status: RunStatus


SpoolRecord = Annotated[_StartRun | _CaseResults | _FinishRun, Field(discriminator="op")]
_RECORD: TypeAdapter[SpoolRecord] = TypeAdapter(SpoolRecord)


def spool_dir(url: str | None = None) -> Path:
    """The spool directory of this results database (see the module docstring)."""
    resolved = database_url(url)
    home = Path(os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser().resolve()
    return home / SPOOL_DIR / hashlib.sha256(resolved.encode()).hexdigest()[:16]


def spool_file(url: str | None, run_id: str) -> Path:
    """The spool file of one run."""
    return spool_dir(url) / f"{run_id}.jsonl"


def pending_runs(url: str | None = None) -> list[str]:
    """The run ids with records still in the spool of this database."""
    directory = spool_dir(url)
    return sorted(p.stem for p in directory.glob("*.jsonl")) if directory.is_dir() else []


def flush_spool(url: str | None = None, run_id: str | None = None) -> int:
    """Write the spooled records of one run (or of every run) to the database; how many were written.

    Raises `ResultsDatabaseError` when the database still fails; the spool is then left as it was
    (a partly replayed file is replayed whole next time, which is harmless: writes are idempotent).
    """
    runs = [run_id] if run_id is not None else pending_runs(url)
    return sum(_flush_file(url, spool_file(url, r)) for r in runs)


@dataclass
class SpoolingWriter:
    """Writes one run's records to the database, or to the spool when the database fails.

    Thread-safe: a shard's batches are written from worker threads.
    """

    url: str
    run_id: str
    spooled: int = 0
    last_error: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def path(self) -> Path:
        return spool_file(self.url, self.run_id)

    def start_run(self, run: RunResult) -> bool:
        """Record the run as running; False if it went to the spool."""
        return self._write(_StartRun(run=run), 1)

    def record(self, results: list[CaseResult]) -> bool:
        """Write these trials; False if they went to the spool."""
        if not results:
            return True
        return self._write(_CaseResults(run_id=self.run_id, results=results), len(results))

    def finish_run(self, run: RunResult, status: RunStatus = RunStatus.COMPLETED) -> bool:
        """Flush this run's spool, then store the finished run; False if it went to the spool."""
        return self._write(_FinishRun(run=run, status=status), 0)

    def report(self, spooled: int | None = None, reason: str | None = None) -> SpoolReport | None:
        """What the run should say about the spool (None when nothing was spooled)."""
        total = self.spooled if spooled is None else spooled
        if not total:
            return None
        return SpoolReport(
            spooled=total, pending=self.path.exists(), path=str(self.path), reason=reason or self.last_error
        )

    def _write(self, record: SpoolRecord, trials: int) -> bool:
        try:
            if self.path.exists():  # older records first: a run must be started before its results land
                _flush_file(self.url, self.path)
            _apply(self.url, record)
            return True
        except ResultsDatabaseError as exc:
            _append(self.url, self.path, _RECORD.dump_json(record) + b"\n")
            with self._lock:
                first = not (self.spooled or self.last_error)
                self.spooled += trials
                self.last_error = str(exc)
            # Once per writer (a shard) at WARNING: a long outage would otherwise log every batch.
            log.log(logging.WARNING if first else logging.DEBUG,
                    "results database failed; %s record of run %s spooled to %s: %s",
                    record.op, self.run_id, self.path, exc)  # fmt: skip
            return False


def _apply(url: str, record: SpoolRecord) -> None:
    engine = get_engine(url)
    if isinstance(record, _StartRun):
        start_run(engine, record.run)
    elif isinstance(record, _CaseResults):
        record_case_results(engine, record.run_id, record.results)
    else:
        run = record.run
        if run.spool is not None and run.spool.pending:
            # By the time this record is replayed, everything spooled before it is in the database.
            run = run.model_copy(update={"spool": run.spool.model_copy(update={"pending": False})})
        finish_run(engine, run, record.status)


@contextmanager
def _locked(path: Path, mode: str) -> Iterator[IO[bytes] | None]:
    """The file opened and exclusively locked; None if a flush removed it while we waited."""
    with open(path, mode) as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if os.fstat(handle.fileno()).st_nlink == 0:
            yield None
        else:
            yield handle


def _append(url: str, path: Path, line: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    label = path.parent / "database.txt"
    if not label.exists():
        label.write_text(mask_url(database_url(url)) + "\n")
    while True:
        with _locked(path, "ab") as handle:
            if handle is None:
                continue  # flushed and removed in between: start a new file
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
            return


def _flush_file(url: str | None, path: Path) -> int:
    resolved = database_url(url)
    try:
        with _locked(path, "rb") as handle:
            if handle is None:
                return 0  # another flush took it
            records, rejected = _parse(handle.read())
            if rejected:
                _reject(path, rejected, records)
            for record in records:
                _apply(resolved, record)
            path.unlink()
    except FileNotFoundError:
        return 0
    log.info("flushed %d spooled record(s) of run %s to the results database", len(records), path.stem)
    return len(records)


def _parse(data: bytes) -> tuple[list[SpoolRecord], list[bytes]]:
    records, rejected = [], []
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            records.append(_RECORD.validate_json(line))
        except ValidationError:
            rejected.append(line)
    return records, rejected


def _reject(path: Path, lines: list[bytes], kept: list[SpoolRecord]) -> None:
    """Move unreadable lines (a write cut short by a crash) aside for a person; keep the readable ones."""
    target = path.with_suffix(".rejected")
    with open(target, "ab") as handle:
        handle.write(b"\n".join(lines) + b"\n")
    path.write_bytes(b"".join(_RECORD.dump_json(r) + b"\n" for r in kept))  # we hold its lock
    log.error("%d unreadable line(s) in %s moved to %s", len(lines), path, target)
