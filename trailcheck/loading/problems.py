"""One way to say what is wrong with a file a person wrote: file:line, the place, the problem, the fix.

Every loader (suites, inventories, contract suites, and the checks that validate a suite's check
names) reports through these: a `Problem` per thing wrong, collected into a `FileProblems` error
whose `str()` is what the CLI prints. Lines come from the YAML node tree (JSON is YAML, so a JSON
file is placed the same way), composed only when there is an error to place.
"""

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from trailcheck.loading import safe_yaml

# Location parts pydantic adds for validators (`function-after[...]`): not a place in the file.
_VALIDATOR_PREFIX = "function-"
Location = tuple[Any, ...]
# (data, location) -> ("case 'refund-ok'", the rest of the location): names the item a location is in.
Labeller = Callable[[dict[str, Any], Location], tuple[str, Location]]


@dataclass
class Problem:
    """One thing wrong with a file."""

    where: str
    problem: str
    line: int | None = None
    fix: str | None = None

    def render(self, path: Path) -> str:
        """`path:line: where: problem` and, on the next line, the fix."""
        place = f"{path}:{self.line}" if self.line else str(path)
        text = f"{place}: {self.where}: {self.problem}" if self.where else f"{place}: {self.problem}"
        return f"{text}\n    fix: {self.fix}" if self.fix else text


@dataclass
class FileProblems(Exception):
    """A file cannot be used. `str()` lists every problem found, each with its line."""

    path: Path
    problems: list[Problem] = field(default_factory=list)
    kind: str = "file"

    def __str__(self) -> str:
        n = len(self.problems)
        head = f"invalid {self.kind} {self.path} ({n} problem{'s' * (n != 1)})"
        return "\n".join([head, *(p.render(self.path) for p in self.problems)])


def compose(text: str) -> yaml.Node | None:
    """The text's YAML node tree, only to find lines; None when it cannot be composed safely."""
    try:
        safe_yaml.check_depth(text)  # libyaml can crash the process on very deep nesting
        return yaml.compose(text, Loader=safe_yaml.LOADER)
    except (yaml.YAMLError, safe_yaml.YamlRefused):
        return None


def yaml_error_problem(exc: yaml.YAMLError | safe_yaml.YamlRefused) -> Problem:
    """A refused or unparsable YAML document as a problem at its line."""
    if isinstance(exc, safe_yaml.YamlRefused):
        return Problem("", exc.problem, exc.line, exc.fix)
    mark = getattr(exc, "problem_mark", None)
    problem = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
    return Problem("", problem, mark.line + 1 if mark else None)


def read_problem(path: Path, fix: str) -> Problem | None:
    """A missing path or a directory as a problem (with `fix`), None for a readable file."""
    if path.is_file():
        return None
    return Problem("", "file not found" if not path.exists() else "not a file", fix=fix)


def line_of(node: yaml.Node | None, loc: Location) -> int | None:
    """The 1-based line of the deepest YAML node along `loc` that exists."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if getattr(key, "value", None) == part:
                    child, line = value, key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def dotted(loc: Location) -> str:
    """`tools[0].contract` for ("tools", 0, "contract")."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def did_you_mean(name: str, choices: Iterable[str]) -> str | None:
    """ "did you mean 'x'?" for the closest of `choices`, or None when none is close."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"did you mean {close[0]!r}?" if close else None


def unknown_field_fix(model: type[BaseModel], loc: Location) -> str | None:
    """For an unknown field at `loc`: the field it was probably meant to be, or the fields allowed there."""
    owner = model_at(model, loc[:-1])
    if owner is None or not loc or not isinstance(loc[-1], str):
        return None
    names = list(owner.model_fields)
    return did_you_mean(loc[-1], names) or f"allowed fields here: {', '.join(names)}"


def validation_problem(
    error: Any,
    data: dict[str, Any],
    node: yaml.Node | None,
    model: type[BaseModel],
    label: Labeller,
    whole: str | None = None,
) -> Problem:
    """One pydantic error (an item of `ValidationError.errors()`) as a problem at its line.

    `whole` names the document for an error at its top level (the model's name by default).
    """
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith(_VALIDATOR_PREFIX)))
    item, rest = label(data, loc)
    where = ", ".join(x for x in (item, dotted(rest)) if x) or whole or model.__name__
    message = str(error["msg"]).removeprefix("Value error, ")
    fix = None
    if error["type"] == "extra_forbidden" and rest:
        message = f"unknown field {rest[-1]!r}"
        fix = unknown_field_fix(model, loc)
    elif error["type"] == "missing" and rest:
        message = f"required field {rest[-1]!r} is missing"
    return Problem(where, message, line_of(node, loc), fix)


def model_at(model: type[BaseModel], loc: Location) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at `loc`, when one can be found."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _unwrap(info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    for arg in (*getattr(annotation, "__args__", ()), annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        inner = getattr(arg, "__args__", None)
        if inner and arg is not annotation:
            found = _unwrap(arg)
            if found is not None:
                return found
    return None
