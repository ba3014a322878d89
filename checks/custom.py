"""User-written checks named in a suite by dotted path, resolved and built when the suite loads.

A custom check is a class whose instances have ``evaluate(ctx)`` (see trailcheck.checks.base); the
suite's ``args`` are its constructor's keyword arguments. Nothing is registered by
import side effects: the suite names the class, and loading the suite proves it exists
and accepts those arguments.
"""

import importlib
import importlib.util
import inspect
import logging
from typing import cast

from trailcheck.checks.base import Check
from trailcheck.models import CustomCheckSpec


class CustomCheckError(ValueError):
    """A custom check named in a suite cannot be imported or built."""


_LEGACY_PREFIX = "checks."
_log = logging.getLogger(__name__)
_aliases_reported: set[str] = set()


def _resolve_legacy(dotted: str) -> str:
    """`checks.x.Y` (the import name before everything moved under `trailcheck`) -> `trailcheck.checks.x.Y`.

    Only when the built-in module exists, so a user's own top-level `checks` package still wins
    for names trailcheck does not have. The new path is said once per name.
    """
    if not dotted.startswith(_LEGACY_PREFIX):
        return dotted
    module_path = "trailcheck." + dotted.rpartition(".")[0]
    try:
        found = importlib.util.find_spec(module_path) is not None
    except ImportError:
        found = False
    if not found:
        return dotted
    if dotted not in _aliases_reported:
        _aliases_reported.add(dotted)
        _log.warning(
            "check %r is now %r: update the suite (the old name still loads)", dotted, "trailcheck." + dotted
        )
    return "trailcheck." + dotted


def _import_attr(dotted: str) -> object:
    dotted = _resolve_legacy(dotted)
    module_path, _, attr = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_path)
    except ImportError as exc:
        raise CustomCheckError(
            f"cannot import module {module_path!r} for check {dotted!r}: {exc}. "
            "Fix: give --agent-path DIR (the folder that holds it), put it on PYTHONPATH, "
            "install the package, or correct the path."
        ) from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise CustomCheckError(f"module {module_path!r} has no class {attr!r} (check {dotted!r})") from None


def load_custom_check(spec: CustomCheckSpec) -> Check:
    """Import the class `spec.check` and build it with `spec.args`."""
    cls = _import_attr(spec.check)
    if not inspect.isclass(cls) or not callable(getattr(cls, "evaluate", None)):
        raise CustomCheckError(f"{spec.check!r} is not a class with an evaluate(ctx) method")
    try:
        check = cls(**spec.args)
    except TypeError as exc:
        raise CustomCheckError(f"cannot build {spec.check} with args {spec.args!r}: {exc}") from exc
    # A class with evaluate(ctx), checked above; one without a `name` is reported under its class name.
    return cast(Check, check)
