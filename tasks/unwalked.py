"""Large task arguments handed to Prefect without being walked for futures.

Prefect looks through every argument of a task call for futures to resolve; for tens of thousands
of sampled traces or case summaries that walk costs more than the task. `quote()` turns it off and
the task receives the value itself, but its type is `quote[T]`, not `T`: `unwalked` keeps the type.
"""

from typing import TypeVar, cast

from prefect.utilities.annotations import quote

T = TypeVar("T")


def unwalked(value: T) -> T:
    """`value`, wrapped so Prefect passes it to the task without walking it."""
    return cast(T, quote(value))  # the task receives `value` itself: Prefect unwraps quote() on the call
