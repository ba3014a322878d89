"""Read YAML that may be hostile: safe loader only, bounded size, depth and alias expansion.

Every YAML file trailcheck reads (suites, agent configs, and any new one) goes through
`load_yaml_file` or `load_yaml`. What it refuses, and why:

- a file over `max_bytes` (default 20 MB): it would be read whole into memory;
- nesting deeper than `MAX_DEPTH` (``[[[[...`` or ``- - - -``): libyaml's composer recurses in C and
  crashes the process (a segmentation fault, measured at 100,000 levels, i.e. a 200 KB file);
- aliases that expand to more than `MAX_EXPANDED_NODES` nodes ("billion laughs"): the composed graph
  is small, but whatever walks it afterwards (validation, JSON dumps) expands it;
- any tag that builds a Python object: only the safe loader is used (libyaml's when present).

Refusals raise `YamlRefused` (a ValueError) with the line when there is one; syntax errors stay
PyYAML's `yaml.YAMLError`, which callers already turn into their own messages.
"""

import re
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 100
MAX_EXPANDED_NODES = 1_000_000
# libyaml when PyYAML has it (about 6x faster on large suites); both are safe loaders.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Only a document that defines anchors can hold aliases, so only then is the expansion counted.
_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])&[^\s,\]}]+", re.MULTILINE)
_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


class YamlRefused(ValueError):
    """The YAML is refused before it is built: too large, too deep, or an alias bomb."""

    def __init__(self, problem: str, line: int | None = None, fix: str | None = None) -> None:
        super().__init__(problem)
        self.problem, self.line, self.fix = problem, line, fix


def read_text(path: Path, max_bytes: int = MAX_BYTES) -> str:
    """The file's text, refused before reading when it is larger than `max_bytes`.

    Raises OSError (e.g. FileNotFoundError), UnicodeDecodeError or YamlRefused.
    """
    size = path.stat().st_size
    if size > max_bytes:
        raise YamlRefused(f"file is {size:,} bytes, over the {max_bytes:,}-byte limit", fix="split it")
    return path.read_text(encoding="utf-8")


def load_yaml(text: str) -> Any:
    """Parse `text` with the safe loader after refusing deep nesting and alias bombs."""
    check_depth(text)
    try:
        if _ANCHOR.search(text):
            node = yaml.compose(text, Loader=LOADER)
            if node is not None and expanded_size(node) > MAX_EXPANDED_NODES:
                raise YamlRefused(
                    f"YAML aliases expand to over {MAX_EXPANDED_NODES:,} nodes (an alias expansion bomb?)",
                    fix="write the values out (or use suite defaults)",
                )
        return yaml.load(text, Loader=LOADER)  # LOADER is CSafeLoader or SafeLoader
    except RecursionError:  # aliases of aliases nest deeper than the text shows
        raise YamlRefused("YAML aliases nest too deeply", fix="write the values out") from None


def load_yaml_file(path: Path, max_bytes: int = MAX_BYTES) -> Any:
    """`read_text` then `load_yaml`."""
    return load_yaml(read_text(path, max_bytes))


def check_depth(text: str, limit: int = MAX_DEPTH) -> None:
    """Refuse nesting deeper than `limit`, from libyaml's event stream (no recursion, ~10% of a load)."""
    depth = 0
    for event in yaml.parse(text, Loader=LOADER):
        if isinstance(event, _OPEN):
            depth += 1
            if depth > limit:
                raise YamlRefused(
                    f"nesting deeper than {limit} levels",
                    event.start_mark.line + 1 if event.start_mark else None,
                    fix="flatten the document",
                )
        elif isinstance(event, _CLOSE):
            depth -= 1


def expanded_size(node: yaml.Node, cap: int = MAX_EXPANDED_NODES) -> int:
    """How many nodes `node` has once its aliases are expanded (capped at `cap` + 1), without expanding.

    Aliases share nodes, so sizes are memoized per node; a recursive alias counts once.
    """
    sizes: dict[int, int] = {}

    def size(n: yaml.Node) -> int:
        if id(n) in sizes:
            return sizes[id(n)]
        sizes[id(n)] = 1
        if isinstance(n, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in n.value)
        elif isinstance(n, yaml.SequenceNode):
            total = 1 + sum(size(v) for v in n.value)
        else:
            total = 1
        sizes[id(n)] = min(total, cap + 1)
        return sizes[id(n)]

    return size(node)
