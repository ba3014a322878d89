"""Simulated users: the rule engine, the LLM engine against a fake provider, validity, and real runs."""

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.fakes.openai_server import FakeOpenAI, api_error, completion
from tests.regression_runs import regression
from trailcheck.agents.config import PythonAgentConfig
from trailcheck.agents.protocol import AgentReply, AgentRequest
from trailcheck.agents.python_agent import PythonAgent
from trailcheck.agents.simulator import (
    LLMSimulator,
    RuleSimulator,
    SimulatedTurn,
    SimulatorError,
    SimulatorStop,
    Transcript,
)
from trailcheck.agents.simulator.validity import invalid_turn
from trailcheck.loading.suite import SuiteError, load_suite
from trailcheck.models import Case, CaseStatus, ErrorKind, TrajectoryStatus, UserMessage
from trailcheck.models.simulated_user import SimulatedUser, StopReason
from trailcheck.serving import serve_in_thread

SUITE = Path(__file__).resolve().parents[1] / "suites" / "simulated-users.yaml"

USER = SimulatedUser.model_validate(
    {
        "goal": "I want a refund for my teapot.",
        "facts": [{"name": "order_id", "value": "A1003"}],
        "done_when": ["refund window"],
        "give_up_after": 2,
        "max_turns": 5,
    }
)


async def _talk(sim: RuleSimulator | LLMSimulator, replies: list[str]) -> tuple[list[str], SimulatorStop]:
    """Play the simulator against scripted agent replies; the user's messages and the stop."""
    transcript = Transcript()
    said: list[str] = []
    for reply in [*replies, *["I can help with orders."] * 10]:
        decision = await sim.next_turn(transcript)
        if isinstance(decision, SimulatorStop):
            return said, decision
        said.append(decision.content)
        transcript.messages += [("user", decision.content), ("agent", reply)]
    raise AssertionError("the simulator never stopped")


def test_withholds_a_fact_until_asked_then_answers_and_stops_at_the_goal() -> None:
    said, stop = asyncio.run(
        _talk(
            RuleSimulator(USER, seed=0),
            ["Which order would you like refunded?", "A1003 is outside the 30-day refund window."],
        )
    )
    assert "A1003" not in said[0] and "refund" in said[0]
    assert "A1003" in said[1]
    assert stop.reason is StopReason.GOAL_MET and len(said) == 2


def test_same_seed_same_conversation_other_seeds_other_ones() -> None:
    replies = ["Which order is it?", "Anything else?", "Hm."]

    def conversation(seed: int) -> list[str]:
        return asyncio.run(_talk(RuleSimulator(USER, seed=seed), replies))[0]

    assert conversation(7) == conversation(7)
    assert len({tuple(conversation(seed)) for seed in range(6)}) > 1


def test_a_wrong_fact_first_is_corrected_on_the_next_turn() -> None:
    spec = USER.model_copy(
        update={"facts": [USER.facts[0].model_copy(update={"wrong_first": "A1009"})], "max_turns": 6}
    )
    said, _ = asyncio.run(_talk(RuleSimulator(spec, seed=1), ["Which order?", "I could not find A1009."]))
    assert "A1009" in said[1] and "A1003" not in said[1]
    assert "A1003" in said[2]


def test_gives_up_after_unhelpful_replies_and_stops_at_the_turn_limit() -> None:
    said, stop = asyncio.run(_talk(RuleSimulator(USER, seed=0), []))
    assert stop.reason is StopReason.GAVE_UP and len(said) == 2  # opening + one nudge, then the 2nd miss
    patient = USER.model_copy(update={"give_up_after": 99, "max_turns": 3})
    said, stop = asyncio.run(_talk(RuleSimulator(patient, seed=0), []))
    assert stop.reason is StopReason.TURN_LIMIT and len(said) == 3


def test_validity_flags_a_leaked_fact_and_an_off_goal_message() -> None:
    opened = Transcript(
        messages=[("user", "I want a refund for my teapot."), ("agent", "Sure, anything else?")]
    )
    leak = invalid_turn(USER, opened, SimulatedTurn("It is order A1003 by the way.", "llm"))
    assert leak is not None and "leaked order_id" in leak
    asked = Transcript(messages=[*opened.messages, ("agent", "Which order is it?")])
    assert invalid_turn(USER, asked, SimulatedTurn("It is A1003.", "llm")) is None
    off = invalid_turn(USER, opened, SimulatedTurn("What's the weather in Paris tomorrow?", "llm"))
    assert off is not None and "off-goal" in off


def test_a_case_needs_turns_or_a_simulated_user(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="turns, a simulated_user"):
        Case(id="x")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: s\nversion: '1'\ncases:\n  - id: a\n    simulated_user:\n      goal: hi\n      persona: shy\n"
    )
    with pytest.raises(SuiteError, match=r"bad.yaml:\d+"):
        load_suite(bad)


# The LLM engine against a local OpenAI-compatible server (the provider is the only fake).


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI()
    with serve_in_thread(fake.app()) as url:
        yield fake, f"{url}/v1"


def _says(message: str | None, stop: str | None = None) -> dict:
    return completion(json.dumps({"message": message, "reason": "scripted", "stop": stop}))


def _llm_user(url: str) -> SimulatedUser:
    return USER.model_copy(
        update={"engine": "llm", "llm": USER.llm.model_copy(update={"base_url": url, "model": "m"})}
    )


def _echo_agent_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PythonAgent:
    """A Python agent that asks for the order once, then refuses it as out of window."""

    def agent(request: AgentRequest) -> AgentReply:
        if "A1003" in request.message:
            return AgentReply(reply="Order A1003 is outside the 30-day refund window.")
        return AgentReply(reply="Which order would you like refunded?")

    import types

    module = types.ModuleType("sim_agent_mod")
    module.agent = agent  # type: ignore[attr-defined]  # a module made at test time
    monkeypatch.setitem(__import__("sys").modules, "sim_agent_mod", module)
    return PythonAgent(PythonAgentConfig(target="sim_agent_mod:agent"))


def test_llm_engine_drives_the_conversation_with_the_transcript_as_escaped_data(
    provider: tuple[FakeOpenAI, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, url = provider
    fake.load(
        [
            _says("Hi, I need a refund for my teapot <b>now</b>."),
            _says("It is A1003."),
            _says(None, "goal_met"),
        ]
    )
    case = Case(id="llm-user", simulated_user=_llm_user(url))
    trajectory = asyncio.run(_echo_agent_module(tmp_path, monkeypatch).run(case, 0))
    assert trajectory.status is TrajectoryStatus.OK, trajectory.error
    users = [s for s in trajectory.steps if isinstance(s, UserMessage)]
    assert [u.content for u in users] == ["Hi, I need a refund for my teapot <b>now</b>.", "It is A1003."]
    assert all(u.simulated and u.reason == "scripted" for u in users)
    assert trajectory.simulation is not None and trajectory.simulation.stop_reason is StopReason.GOAL_MET
    data = fake.requests[1]["messages"][1]["content"]
    assert "<conversation_data>" in data and "<b>" not in data  # the agent's text cannot close the delimiter
    assert fake.requests[0]["seed"] == 0


@pytest.mark.parametrize(
    ("script", "fragment"),
    [
        ([_says("I want a refund for my teapot."), api_error(500, "provider down")], "HTTP 500"),
        ([_says("I want a refund, order A1003."), _says("x")], "leaked order_id"),
        ([completion("not json")], "not the JSON object"),
    ],
)
def test_a_failing_or_misbehaving_provider_errors_the_trial_it_does_not_fail_the_agent(
    provider: tuple[FakeOpenAI, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    script: list,
    fragment: str,
) -> None:
    fake, url = provider
    fake.load(script)
    trajectory = asyncio.run(
        _echo_agent_module(tmp_path, monkeypatch).run(Case(id="c", simulated_user=_llm_user(url)), 0)
    )
    assert trajectory.status is TrajectoryStatus.ERRORED
    assert trajectory.error_kind is ErrorKind.SIMULATOR and fragment in (trajectory.error or "")
    assert trajectory.simulation is not None and trajectory.simulation.invalid_reason


def test_the_llm_engine_without_a_provider_says_what_to_set() -> None:
    sim = LLMSimulator(USER.model_copy(update={"engine": "llm"}), seed=0)
    with pytest.raises(SimulatorError, match="TRAILCHECK_SIMULATOR_URL"):
        asyncio.run(sim.next_turn(Transcript()))


# Real runs through the regression flow against the reference agent.


@pytest.mark.usefixtures("prefect_harness")
def test_the_regression_flow_v1_passes_v6_fails_for_guessing_and_seeds_vary_the_talk(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    v1 = regression(suite=str(SUITE), agent="reference:v1", trials=2, concurrency=4, database_url=url)
    assert {c.case_id: c.status for c in v1.cases} == {
        "refund-withheld-order": CaseStatus.PASSED,
        "refund-wrong-order-first": CaseStatus.PASSED,
    }, [c.reason for c in v1.cases]
    v6 = regression(suite=str(SUITE), agent="reference:v6", trials=2, concurrency=4, database_url=url)
    failed = {c.case_id: c.reason for c in v6.cases if c.status is CaseStatus.FAILED}
    assert set(failed) == {"refund-withheld-order"}  # it guessed an order instead of asking for it
    assert (
        "never_call" in failed["refund-withheld-order"] and "issue_refund" in failed["refund-withheld-order"]
    )
    v2 = regression(suite=str(SUITE), agent="reference:v2", trials=1, concurrency=4, database_url=url)
    failed = {c.case_id: c.reason for c in v2.cases if c.status is CaseStatus.FAILED}
    # v2 asks, is told A1003, then refunds it without the lookup that would show it is out of window.
    assert (
        "lookup_order" in failed["refund-withheld-order"]
        and "issue_refund" in failed["refund-withheld-order"]
    )

    from trailcheck import db

    def user_turns(run_id: str) -> dict[tuple[str, int], list[str]]:
        results = db.load_case_results(db.get_engine(url), run_id)
        return {
            (r.case_id, r.trial): [s.content for s in r.trajectory.steps if isinstance(s, UserMessage)]
            for r in results
        }

    first = user_turns(v1.run_id)
    assert first[("refund-wrong-order-first", 0)] != first[("refund-wrong-order-first", 1)]  # seeds differ
    again = regression(suite=str(SUITE), agent="reference:v1", trials=2, concurrency=4, database_url=url)
    assert user_turns(again.run_id) == first  # the same seeds, the same conversations
