"""Redact personal data and credentials from trace content before it is stored or published.

A trial is scored on what the agent really said; then, before the result goes anywhere (results
database, spool, Prefect artifacts, report JSON, JUnit, CLI, Slack, the LLM judge, live scores),
every string in it (messages, tool arguments and results, errors, verdict reasons) passes through one
`Redactor`:

- built-in patterns (`BUILTIN`): ``email``, ``card`` (13-19 digits that pass the Luhn check),
  ``bearer`` (``Bearer <token>``), ``api_key`` (``sk-...``, ``AKIA...``, ``xox?-...``, ``ghp_...``)
  and ``jwt``; each match becomes ``[REDACTED:<name>]`` (an email becomes ``redacted@redacted.invalid``,
  still an address, so contracts on email fields keep holding over stored responses);
- your own regular expressions (``[REDACTED:custom]``);
- the values of the secrets the agent config names (``api_key_env``, ``headers_env``, and
  credential-like ``headers``), of the Slack token, and of the variables named in
  ``TRAILCHECK_REDACT_SECRET_ENV``, whatever they look like (``[REDACTED:secret]``), in every form an
  agent may echo them: whole, without the auth scheme (``Bearer x`` and bare ``x``), the user:pass
  inside ``Basic``, URL-encoded, base64 and JSON-escaped.

Time is linear in the text: each built-in pattern starts only where a run of its characters begins
and never gives back what a possessive quantifier took (a 5 MB unbroken line costs one pass per
pattern, not hours of backtracking; `tests/test_redaction.py` fuzzes every pattern's timing). Your own
patterns cannot be trusted that way, so they run with a time budget per value (`VALUE_BUDGET_S`): a
value whose custom patterns do not finish in time is replaced whole by ``[REDACTED:timeout]``, never
stored unredacted. Large trials are redacted off the event loop (`Redactor.acase_result`).

Configure it with `RedactionConfig` (CLI ``--no-redact``, ``--redact-pattern REGEX``) or the
environment: ``TRAILCHECK_REDACT=off`` turns the patterns off (secrets are still removed),
``TRAILCHECK_REDACT=email,card`` keeps only those built-ins, ``TRAILCHECK_REDACT_PATTERNS`` adds
regexes, one per line.
"""

import base64
import binascii
import json
import logging
import os
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, quote_plus

import anyio
import regex  # type: ignore[import-untyped]  # regex ships no type stubs
from pydantic import BaseModel, Field, JsonValue, field_validator
from pydantic_core import PydanticSerializationError

from trailcheck.models import CaseResult

log = logging.getLogger(__name__)
REDACT_ENV = "TRAILCHECK_REDACT"
PATTERNS_ENV = "TRAILCHECK_REDACT_PATTERNS"
SECRET_ENV_ENV = "TRAILCHECK_REDACT_SECRET_ENV"
# Always secrets wherever they are set: the Slack token (trailcheck.slack.TOKEN_ENV) and the judge's key.
ALWAYS_SECRET_ENV = ("TRAILCHECK_SLACK_TOKEN", "TRAILCHECK_JUDGE_API_KEY")
REDACTED_EMAIL = "redacted@redacted.invalid"
TIMEOUT_MARK = "[REDACTED:timeout]"
VALUE_BUDGET_S = 0.5
# A trial whose JSON is larger than this is redacted in a worker thread, not on the event loop.
LARGE_BYTES = 256 * 1024
MIN_SECRET_LEN = 4

# Each pattern is linear in the text: it can only start where a run of its characters begins (a
# lookbehind refuses every position inside the run) and takes runs possessively (``++``), so a
# failed attempt costs the run once. Python 3.11's `re` has both. Where a pattern starts with a digit
# or a literal, the lookbehind comes after it, so `re` can skip ahead to candidates in C.
BUILTIN: dict[str, str] = {
    # Domain labels are taken while another label follows, then the top-level domain: the usual
    # ``label(\.label)*\.tld`` backtracks over every label of a long run.
    "email": r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]++@[A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++(?=\.[A-Za-z0-9-]))*+"
    r"\.[A-Za-z]{2,}+",
    "card": r"\d(?<![\w-]\d)(?:[ -]?\d){12,18}(?![\w-])",
    "bearer": r"(?i:\bbearer[ \t]++)[A-Za-z0-9._~+/=-]{8,}+",
    "api_key": r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}+|\bAKIA[0-9A-Z]{16}\b|\bxox[abposr]-[A-Za-z0-9-]{10,}+|"
    r"\bgh[pousr]_[A-Za-z0-9]{30,}+",
    "jwt": r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{5,}+\.[A-Za-z0-9_-]{5,}+\.[A-Za-z0-9_-]{5,}+",
}
_COMPILED = {name: re.compile(pattern) for name, pattern in BUILTIN.items()}
# A pattern is not run over a text that lacks what every match of it contains (a fast substring test).
_NEEDS: dict[str, Callable[[str], bool]] = {
    "email": lambda text: "@" in text,
    "bearer": lambda text: "earer" in text or "EARER" in text or "bearer" in text.lower(),
    "api_key": lambda text: any(k in text for k in ("sk-", "pk-", "rk-", "AKIA", "xox", "gh")),
    "jwt": lambda text: "eyJ" in text,
}
# A lone surrogate (JSON allows "\\ud800") cannot be encoded as UTF-8: no database, file or HTTP body
# can hold it, and pydantic refuses to serialize it. It becomes U+FFFD, as a decoder would make it.
_SURROGATE = re.compile("[\ud800-\udfff]")
_SENSITIVE_HEADER = re.compile(r"authorization|cookie|token|secret|api[-_]?key|password", re.IGNORECASE)


class RedactionConfig(BaseModel):
    """Which patterns redact trace content (the secrets of the agent config are always removed).

    It travels as a Prefect parameter, so it names secret variables, never holds their values.
    """

    enabled: bool = Field(default=True, description="False: no pattern redaction (secrets still removed).")
    builtin: list[str] = Field(default_factory=lambda: list(BUILTIN), description="Built-in patterns used.")
    patterns: list[str] = Field(
        default_factory=list, description="Extra regular expressions; flags scoped, e.g. (?i:secret)."
    )
    secret_env: list[str] = Field(
        default_factory=list,
        description="Environment variables whose values are secrets, redacted everywhere.",
    )
    budget_s: float = Field(
        default=VALUE_BUDGET_S, gt=0, description="Time allowed per value for custom patterns."
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
                regex.compile(f"x|(?:{pattern})")
            except (re.error, regex.error) as exc:
                raise ValueError(
                    f"redaction pattern {pattern!r} cannot be used: {exc} (scope flags: (?i:...), not (?i))"
                ) from None
        return patterns

    @classmethod
    def from_env(cls, extra_patterns: Iterable[str] = (), enabled: bool | None = None) -> "RedactionConfig":
        """The config from $TRAILCHECK_REDACT, $TRAILCHECK_REDACT_PATTERNS and
        $TRAILCHECK_REDACT_SECRET_ENV (comma-separated variable names), plus CLI options."""
        setting = os.environ.get(REDACT_ENV, "").strip().lower()
        builtin = list(BUILTIN)
        if setting and setting not in ("on", "all", "off", "none"):
            builtin = [name.strip() for name in setting.split(",") if name.strip()]
        env_patterns = [p for p in os.environ.get(PATTERNS_ENV, "").splitlines() if p.strip()]
        secret_env = [n.strip() for n in os.environ.get(SECRET_ENV_ENV, "").split(",") if n.strip()]
        on = setting not in ("off", "none") if enabled is None else enabled
        return cls(
            enabled=on, builtin=builtin, patterns=[*env_patterns, *extra_patterns], secret_env=secret_env
        )


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
_SEPARATORS = str.maketrans("", "", " -")


def _luhn(digits: str) -> bool:
    values = [ord(c) - 48 for c in digits]
    return (sum(values[-1::-2]) + sum(_DOUBLED[d] for d in values[-2::-2])) % 10 == 0


def _card(match: re.Match[str]) -> str:
    if not _luhn(match.group().translate(_SEPARATORS)):
        return match.group()  # an order or phone number, not a card
    return "[REDACTED:card]"


def _named(name: str) -> Callable[[re.Match[str]], str] | str:
    if name == "email":
        # Still an email address, so data contracts on email fields hold over stored responses.
        return REDACTED_EMAIL
    if name == "card":
        return _card
    return f"[REDACTED:{name}]"


def _b64_text(token: str) -> str | None:
    try:
        return base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode()
    except (binascii.Error, ValueError):
        return None


def secret_forms(secrets: Iterable[str]) -> list[str]:
    """Every form in which these secret values may be echoed, longest first.

    ``Bearer abc`` gives ``abc`` too; ``Basic <base64>`` gives the ``user:pass`` inside and the
    password; each of those is also looked for URL-encoded, base64-encoded and JSON-escaped.
    """
    bases: set[str] = set()
    for secret in secrets:
        secret = secret.strip()
        if not secret:
            continue
        bases.add(secret)
        scheme, _, token = secret.partition(" ")
        token = token.strip()
        if token:
            bases.add(token)
            decoded = _b64_text(token) if scheme.lower() == "basic" else None
            if decoded:
                bases |= {decoded, decoded.partition(":")[2]}
    forms: set[str] = set()
    for base in bases:
        raw = base.encode()
        forms |= {
            base,
            quote(base, safe=""),
            quote_plus(base, safe=""),
            json.dumps(base)[1:-1],
            base64.b64encode(raw).decode(),
            base64.b64encode(raw).decode().rstrip("="),
            base64.urlsafe_b64encode(raw).decode().rstrip("="),
        }
    # Longest first, so a secret that contains another is removed whole.
    return sorted((f for f in forms if len(f) >= MIN_SECRET_LEN), key=lambda f: (-len(f), f))


def env_secrets(names: Iterable[str]) -> list[str]:
    """The values of these environment variables (unset ones left out)."""
    return [value for name in names if (value := os.environ.get(name, ""))]


class Redactor:
    """Applies a `RedactionConfig` and a set of secret values to strings, JSON values and case results."""

    def __init__(self, config: RedactionConfig | None = None, secrets: Iterable[str] = ()) -> None:
        config = config or RedactionConfig()
        everything = [*secrets, *env_secrets([*ALWAYS_SECRET_ENV, *config.secret_env])]
        forms = secret_forms(everything)
        self._secrets = re.compile("|".join(map(re.escape, forms))) if forms else None
        self._builtin = (
            [(_COMPILED[name], _named(name), _NEEDS.get(name)) for name in config.builtin]
            if config.enabled
            else []
        )
        custom = config.patterns if config.enabled else []
        self._custom = regex.compile("|".join(f"(?:{p})" for p in custom)) if custom else None
        self._budget_s = config.budget_s
        # Always on: even with nothing to redact, lone surrogates must go before anything is written.
        self.active = True

    def text(self, text: str) -> str:
        """`text` with every match replaced by ``[REDACTED:<name>]`` (and lone surrogates by U+FFFD)."""
        if not text.isascii():
            text = _SURROGATE.sub("\ufffd", text)
        if self._secrets is not None:
            text = self._secrets.sub("[REDACTED:secret]", text)
        for pattern, replace, needs in self._builtin:
            if needs is None or needs(text):
                text = pattern.sub(replace, text)
        if self._custom is not None:
            try:
                text = self._custom.sub("[REDACTED:custom]", text, timeout=self._budget_s)
            except TimeoutError:
                # Fail closed: a value the patterns could not finish is not kept at all.
                log.warning(
                    "redaction patterns ran out of time on a %d-character value; it is dropped", len(text)
                )
                return TIMEOUT_MARK
        return text

    def value(self, value: Any) -> Any:
        """A JSON-like value with every string (not keys) redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def json_text(self, text: str) -> str:
        """JSON text with every string inside redacted (parsed, so a replacement never breaks it)."""
        if not self.active:
            return text
        return json.dumps(self.value(json.loads(text)), ensure_ascii=False)

    def model(self, model: BaseModel) -> Any:
        """A pydantic model with every string in it redacted (the same object if nothing matched)."""
        if not self.active:
            return model
        dumped = model.model_dump(mode="json")
        redacted = self.value(dumped)
        return model if redacted == dumped else type(model).model_validate(redacted)

    def case_result(self, result: CaseResult) -> CaseResult:
        """The trial with its trajectory and verdict reasons redacted (the same object if nothing matched)."""
        redacted: CaseResult = self.model(result)
        return redacted

    async def acase_result(self, result: CaseResult) -> CaseResult:
        """`case_result`, in a worker thread when the trial is large, so other trials go on meanwhile."""
        if not self.active:
            return result
        try:
            large = len(result.trajectory.model_dump_json()) > LARGE_BYTES
        except PydanticSerializationError:  # a lone surrogate: `case_result` replaces it
            large = True
        if large:
            return await anyio.to_thread.run_sync(self.case_result, result)
        return self.case_result(result)


def secret_values(config: BaseModel) -> list[str]:
    """The secrets an agent config points at: env-held keys and tokens, credential-like header values."""
    env_names: list[str] = []
    api_key_env = getattr(config, "api_key_env", None)
    if api_key_env:
        env_names.append(api_key_env)
    env_names += list((getattr(config, "headers_env", None) or {}).values())
    found = env_secrets(env_names)
    headers: dict[str, JsonValue] = getattr(config, "headers", None) or {}
    found += [v for k, v in headers.items() if _SENSITIVE_HEADER.search(k) and isinstance(v, str)]
    return found
