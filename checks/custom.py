"""User-written checks named in a suite by dotted path, resolved and built when the suite loads.

A custom check is a class whose instances have ``evaluate(ctx)`` (see checks.base); the
suite's ``args`` are its constructor's keyword arguments. Nothing is registered by
import side effects: the suite names the class, and loading the suite proves it exists
and accepts those arguments.
"""

import importlib
import inspect

from checks.base import Check
from trailcheck.models import CustomCheckSpec


class CustomCheckError(ValueError):
    """A custom check named in a suite cannot be imported or built."""


def _import_attr(dotted: str) -> object:
    module_path, _, attr = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_path)
    except ImportError as exc:
        raise CustomCheckError(
            f"cannot import module {module_path!r} for check {dotted!r}: {exc}. "
            "Fix: install the package or put it on PYTHONPATH, or correct the path."
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
    return check  # a check without a `name` is reported under its class name (check_name)
