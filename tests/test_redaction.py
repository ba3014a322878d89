"""Redaction is linear in the text, bounded per value, off the event loop, and finds secrets in every form.

Timings are CPU time of the redacting thread (`time.thread_time`), not wall time: the machine is
shared, and what is asserted is the work the patterns do (a quadratic pattern on these inputs costs
minutes, a linear one milliseconds).
"""

import asyncio
import base64
import time
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trailcheck.models import CaseResult, Trajectory
from trailcheck.redaction import BUILTIN, TIMEOUT_MARK, RedactionConfig, Redactor, secret_forms

FIVE_MB = 5_000_000
# The characters each pattern runs over, the literals that start them, and what breaks them off.
TOKENS = ["a", "Z", "0", "1", ".", "-", "_", "@", "%", "+", " ", "\t", "eyJ", "sk-", "bearer ", "Bearer\t",
          "AKIA", "xoxb-", "ghp_", "a@b", ".co", "4111 ", "1-"]  # fmt: skip


def cpu_seconds(redactor: Redactor, text: str) -> float:
    start = time.thread_time()
    redactor.text(text)
    return time.thread_time() - start


@pytest.mark.parametrize("unit", ["a", "a.", "a@", "1 ", "1-", "-eyJ", "bearer ", "sk-", "x@y.co ", "é"])
def test_a_five_megabyte_single_line_is_redacted_in_under_a_second(unit: str) -> None:
    redactor = Redactor(secrets=["Bearer tok-planted-4242-QQQ-zz9"])
    assert cpu_seconds(redactor, unit * (FIVE_MB // len(unit))) < 1.0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=4), st.sampled_from(sorted(BUILTIN)))
def test_no_pattern_backtracks_on_long_runs(units: list[str], name: str) -> None:
    """Every built-in pattern alone over 200,000 characters of a repeated hostile unit."""
    unit = "".join(units)
    text = unit * (200_000 // len(unit) + 1)
    # The old email pattern took 1.25 s on 40,000 characters of this kind; linear is ~10 ms.
    assert cpu_seconds(Redactor(RedactionConfig(builtin=[name])), text) < 0.5


def test_a_custom_pattern_that_backtracks_drops_the_value_instead_of_hanging() -> None:
    redactor = Redactor(RedactionConfig(builtin=[], patterns=[r"(x+x+)+y"], budget_s=0.2))
    start = time.monotonic()
    assert redactor.text("x" * 5_000) == TIMEOUT_MARK
    assert time.monotonic() - start < 30  # the budget, plus a loaded machine's scheduling
    assert redactor.text("xxy and more") == "[REDACTED:custom] and more"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("write to john@example.com-thanks", "write to redacted@redacted.invalid-thanks"),
        ("a@b.com1 c@d", "redacted@redacted.invalid1 c@d"),  # as the textbook pattern does
        ("x" * 50 + "@" + "a." * 30 + "io!", "redacted@redacted.invalid!"),
        ("jwt-eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl", "jwt-eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl"),
        ("(eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl)", "([REDACTED:jwt])"),
        ("BEARER\tabcdefghijk", "[REDACTED:bearer]"),
    ],
)
def test_pattern_edges(raw: str, expected: str) -> None:
    assert Redactor().text(raw) == expected


def test_a_secret_is_found_in_every_form_an_agent_may_echo_it() -> None:
    token = "tok/planted+4242=QQQ"
    bearer = Redactor(RedactionConfig(enabled=False), secrets=[f"Bearer {token}"])
    for form in (
        f"Bearer {token}",
        token,
        quote(token, safe=""),
        base64.b64encode(token.encode()).decode(),
    ):
        assert bearer.text(f"echo: {form} end") == "echo: [REDACTED:secret] end", form
    basic = Redactor(
        RedactionConfig(enabled=False), secrets=["Basic " + base64.b64encode(b"alice:s3cret-pw").decode()]
    )
    for form in (
        "alice:s3cret-pw",
        "s3cret-pw",
        base64.b64encode(b"alice:s3cret-pw").decode(),
        "alice%3As3cret-pw",
    ):
        assert "s3cret" not in basic.text(f"[{form}]").replace("[REDACTED:secret]", ""), form
    assert all(len(f) >= 4 for f in secret_forms(["Bearer ab"]))  # a 2-character token is not hunted


def test_secret_variables_named_in_the_environment_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "very-private-value")
    monkeypatch.setenv("TRAILCHECK_REDACT_SECRET_ENV", "MY_SERVICE_TOKEN, UNSET_ONE")
    monkeypatch.setenv("TRAILCHECK_SLACK_TOKEN", "xoxb-slack-token-in-env")
    config = RedactionConfig.from_env()
    assert config.secret_env == ["MY_SERVICE_TOKEN", "UNSET_ONE"]
    assert "very-private-value" not in config.model_dump_json()  # it travels as a Prefect parameter
    redactor = Redactor(RedactionConfig(enabled=False, secret_env=config.secret_env))
    assert (
        redactor.text("a very-private-value b xoxb-slack-token-in-env")
        == "a [REDACTED:secret] b [REDACTED:secret]"
    )


def test_a_large_trial_is_redacted_off_the_event_loop() -> None:
    """While a 5 MB trial is redacted, other coroutines keep running."""
    result = CaseResult(
        case_id="c",
        trial=0,
        trajectory=Trajectory(case_id="c", final_answer="mail a@b.io " + "1 " * 2_500_000),
    )
    redactor = Redactor()

    async def main() -> tuple[CaseResult, int]:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.001)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        redacted = await redactor.acase_result(result)
        done.set()
        await task
        return redacted, ticks

    redacted, ticks = asyncio.run(main())
    assert redacted.trajectory.final_answer is not None
    assert redacted.trajectory.final_answer.startswith("mail redacted@redacted.invalid ")
    assert ticks > 5
