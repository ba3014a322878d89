"""The environment an agent acts on, as a suite declares it: probes that read its state after a
conversation, a reset hook that cleans it before each trial, and the assertions on what was read.

A probe reads one of: an HTTP GET (the JSON body), an SQL query over a SQLAlchemy URL (the rows, as
a list of mappings), or a Python callable ``package.module:function`` (sync or async, no arguments,
returning JSON). URLs and queries may use ``{tools_url}`` (the agent's tool service, known for the
reference agent and for an HTTP agent that sets `tools_url`) and ``${NAME}`` (an environment
variable). The assertions on what the probes read are expectations (`StateAssertion`).
"""

import re
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_FORBID = ConfigDict(extra="forbid")
_CALLABLE = r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"


class _Source(BaseModel):
    """Exactly one of http, sql (with url), python."""

    model_config = _FORBID

    http: str | None = Field(default=None, description="A URL, e.g. {tools_url}/state.")
    sql: str | None = Field(default=None, description="An SQL statement, run over `url`.")
    url: str | None = Field(default=None, description="The SQLAlchemy URL the `sql` runs over.")
    python: str | None = Field(default=None, pattern=_CALLABLE, description="package.module:function")

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = [k for k in ("http", "sql", "python") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of http, sql, python (got {', '.join(given) or 'none'})")
        if (self.sql is None) != (self.url is None):
            raise ValueError("sql and url go together: the query and the SQLAlchemy URL it runs over")
        return self

    @property
    def kind(self) -> str:
        """http, sql or python."""
        return next(k for k in ("http", "sql", "python") if getattr(self, k) is not None)


class Probe(_Source):
    """How to read one piece of the environment's state: GET a URL, run a query, or call a function."""


class ResetHook(_Source):
    """How to give a trial a clean environment: POST a URL, run a statement, or call a function."""


class Environment(BaseModel):
    """A suite's environment: its probes by name and an optional reset hook run before each trial.

    Trials of cases with an environment run one at a time (in a process), so that a reset, the
    conversation and the reading that follows it are not interleaved with another trial's.
    """

    model_config = _FORBID

    probes: dict[str, Probe] = Field(default_factory=dict)
    reset: ResetHook | None = None

    @field_validator("probes")
    @classmethod
    def _names(cls, probes: dict[str, Probe]) -> dict[str, Probe]:
        bad = [n for n in probes if not re.match(r"^[A-Za-z_][\w-]*$", n)]
        if bad:
            raise ValueError(f"probe names are identifiers (letters, digits, _ and -): {bad}")
        return probes
