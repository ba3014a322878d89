"""Redact personal data and credentials from trace content before it is stored or published.

A trial is scored on what the agent really said; then, before the result goes anywhere (results
database, spool, Prefect artifacts, report JSON, CLI), every string in it (messages, tool
arguments and results, errors, verdict reasons) passes through one `Redactor`:

- built-in patterns (`BUILTIN`): ``email``, ``card`` (13-19 digits that pass the Luhn check),
  ``bearer`` (``Bearer <token>``), ``api_key`` (``sk-...``, ``AKIA...``, ``xox?-...``, ``ghp_...``)
  and ``jwt``; each match becomes ``[REDACTED:<name>]`` (an email becomes ``redacted@redacted.invalid``,
  still an address, so contracts on email fields keep holding over stored responses);
- your own regular expressions (``[REDACTED:custom]``);
- the literal values of the secrets the agent config names (``api_key_env``, ``headers_env``, and
  credential-like ``headers``), whatever they look like (``[REDACTED:secret]``).

Configure it with `RedactionConfig` (CLI ``--no-redact``, ``--redact-pattern REGEX``) or the
environment: ``TRAILCHECK_REDACT=off`` turns the patterns off (secrets are still removed),
``TRAILCHECK_REDACT=email,card`` keeps only those built-ins, ``TRAILCHECK_REDACT_PATTERNS`` adds
regexes, one per line.
"""

import os
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field, JsonValue, field_validator

from trailcheck.models import CaseResult

REDACT_ENV = "TRAILCHECK_REDACT"
PATTERNS_ENV = "TRAILCHECK_REDACT_PATTERNS"
REDACTED_EMAIL = "redacted@redacted.invalid"

BUILTIN: dict[str, str] = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "card": r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])",
    "bearer": r"(?i:\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}",
    "api_key": r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}|\bAKIA[0-9A-Z]{16}\b|\bxox[abposr]-[A-Za-z0-9-]{10,}|"
    r"\bgh[pousr]_[A-Za-z0-9]{30,}",
    "jwt": r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}",
}
_SENSITIVE_HEADER = re.compile(r"authorization|cookie|token|secret|api[-_]?key|password", re.IGNORECASE)


class RedactionConfig(BaseModel):
    """Which patterns redact trace content (the secrets of the agent config are always removed)."""

    enabled: bool = Field(default=True, description="False: no pattern redaction (secrets still removed).")
    builtin: list[str] = Field(default_factory=lambda: list(BUILTIN), description="Built-in patterns used.")
    patterns: list[str] = Field(
        default_factory=list, description="Extra regular expressions; flags scoped, e.g. (?i:secret)."
    )

    @field_validator("builtin")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        unknown = sorted(set(names) - set(BUILTIN))
        if unknown:
            raise ValueError(f"unknown redaction pattern(s) {unknown}; known: {sorted(BUILTIN)}")
        return names

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(f"x|(?:{pattern})")  # as it is combined: global flags like (?i) must be scoped
            except re.error as exc:
                raise ValueError(
                    f"redaction pattern {pattern!r} cannot be used: {exc} (scope flags: (?i:...), not (?i))"
                ) from None
        return patterns

    @classmethod
    def from_env(cls, extra_patterns: Iterable[str] = (), enabled: bool | None = None) -> "RedactionConfig":
        """The config from $TRAILCHECK_REDACT and $TRAILCHECK_REDACT_PATTERNS, plus CLI options."""
        setting = os.environ.get(REDACT_ENV, "").strip().lower()
        builtin = list(BUILTIN)
        if setting and setting not in ("on", "all", "off", "none"):
            builtin = [name.strip() for name in setting.split(",") if name.strip()]
        env_patterns = [p for p in os.environ.get(PATTERNS_ENV, "").splitlines() if p.strip()]
        on = setting not in ("off", "none") if enabled is None else enabled
        return cls(enabled=on, builtin=builtin, patterns=[*env_patterns, *extra_patterns])


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


class Redactor:
    """Applies a `RedactionConfig` and a set of secret values to strings, JSON values and case results."""

    def __init__(self, config: RedactionConfig | None = None, secrets: Iterable[str] = ()) -> None:
        config = config or RedactionConfig()
        named = [(n, BUILTIN[n]) for n in config.builtin] if config.enabled else []
        named += [("custom", p) for p in config.patterns] if config.enabled else []
        # Longest secrets first, so a secret that contains another is removed whole.
        values = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        parts = [f"(?P<secret>{'|'.join(map(re.escape, values))})"] if values else []
        parts += [f"(?P<p{i}>{pattern})" for i, (_, pattern) in enumerate(named)]
        self._names = {f"p{i}": name for i, (name, _) in enumerate(named)}
        self._regex = re.compile("|".join(parts)) if parts else None

    def text(self, text: str) -> str:
        """`text` with every match replaced by ``[REDACTED:<name>]``."""
        if self._regex is None:
            return text
        return self._regex.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        group = match.lastgroup or "secret"
        if group == "secret":
            return "[REDACTED:secret]"
        name = self._names.get(group, "custom")
        if name == "card" and not _luhn(re.sub(r"\D", "", match.group())):
            return match.group()  # an order or phone number, not a card
        if name == "email":
            # Still an email address, so data contracts on email fields hold over stored responses.
            return REDACTED_EMAIL
        return f"[REDACTED:{name}]"

    def value(self, value: Any) -> Any:
        """A JSON-like value with every string (not keys) redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def case_result(self, result: CaseResult) -> CaseResult:
        """The trial with its trajectory and verdict reasons redacted (the same object if nothing matched)."""
        if self._regex is None:
            return result
        dumped = result.model_dump(mode="json")
        redacted = self.value(dumped)
        return result if redacted == dumped else CaseResult.model_validate(redacted)


def secret_values(config: BaseModel) -> list[str]:
    """The secrets an agent config points at: env-held keys and tokens, credential-like header values."""
    found: list[str] = []
    env_names: list[str] = []
    api_key_env = getattr(config, "api_key_env", None)
    if api_key_env:
        env_names.append(api_key_env)
    env_names += list((getattr(config, "headers_env", None) or {}).values())
    found += [os.environ.get(name, "") for name in env_names]
    headers: dict[str, JsonValue] = getattr(config, "headers", None) or {}
    for name, value in headers.items():
        if _SENSITIVE_HEADER.search(name) and isinstance(value, str):
            found += [value, value.split(" ", 1)[-1]]  # "Bearer abc": the token alone too
    return [s for s in found if s]
