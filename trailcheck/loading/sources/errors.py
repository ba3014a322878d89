"""Errors raised while reading traces.

TraceSourceError          a source cannot be read at all (missing file, endpoint down, bad URL)
 +-- TraceSourceMissing   the source does not exist (yet): a trace file not written, a table not created
 +-- TraceRecordError     one record is not a valid trace: names the place (file:line, page, row)
 +-- TooManyBadRecords    more bad records than the reader was allowed to skip
"""


class TraceSourceError(Exception):
    """The source cannot be read; the message names it (without secrets) and the cause."""


class TraceSourceMissing(TraceSourceError):
    """The source does not exist yet; a scheduled run may treat this as "nothing to read"."""


class TraceRecordError(TraceSourceError):
    """One record is not a valid trace; `where` is ``file:line``, ``URL page N item M`` or ``table row``."""

    def __init__(self, where: str, problem: str, fix: str = "") -> None:
        self.where, self.problem, self.fix = where, problem, fix
        super().__init__(f"{where}: {problem}" + (f"\n    fix: {fix}" if fix else ""))


class TooManyBadRecords(TraceSourceError):
    """The reader skipped `max_bad` records and met one more; the first problems are listed."""
