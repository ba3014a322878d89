"""Errors raised by the results database, and how a database URL is shown in them.

    ResultsDatabaseError     the database cannot be reached, refuses an operation, or holds
     |                       rows written by a newer trailcheck; the cause is chained
     +-- UnknownRunError     case results were written for a run that was never started

Every message names the database by its URL with the password masked: these messages end up
in logs, Prefect artifacts and Slack, where a secret must never appear (DESIGN.md).
"""

import re

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

_USERINFO_PASSWORD = re.compile(r"(?P<head>://[^:/@]*:)(?P<password>[^@]*)@")


class ResultsDatabaseError(Exception):
    """The results database could not do what was asked; the message says which database and why."""


class UnknownRunError(ResultsDatabaseError):
    """Case results were written for a run id that `start_run` never recorded."""


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***``, safe to log."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        # Not a URL SQLAlchemy can parse; still never echo what looks like a password.
        return _USERINFO_PASSWORD.sub(r"\g<head>***@", url)


def database_error(url: str | URL, action: str, exc: BaseException) -> ResultsDatabaseError:
    """A `ResultsDatabaseError` for `exc`, naming the masked URL, what was being done and the cause.

    The cause is the driver's own message (e.g. "Connection refused"), not SQLAlchemy's wrapper,
    which would add the SQL statement and, on a bulk write, a sample of the parameters.
    """
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    detail = " ".join(str(cause).split()) or type(cause).__name__
    password = url.password if isinstance(url, URL) else _password_of(url)
    if password:
        detail = detail.replace(str(password), "***")
    return ResultsDatabaseError(f"results database {mask_url(url)}: {action} failed: {detail}")


def _password_of(url: str) -> str | None:
    try:
        password = make_url(url).password
    except ArgumentError:
        match = _USERINFO_PASSWORD.search(url)
        return match.group("password") if match else None
    return None if password is None else str(password)
