"""context_saturation: an instruction given early in a session is not honoured later.

Constraints come from the case (`expectations.constraints`, see trailcheck/models/expectations.py)
and, for any trajectory, from a few heuristics over what the user said:

- "answer in French" (English, French, German, Spanish, Italian, Portuguese, Dutch): every later
  agent message long enough to tell must be in that language;
- "don't contact me by email" / "don't call me": no later tool call whose name or arguments use
  that channel (email, phone, sms, whatsapp);
- "never mention 'X'" (X quoted): no later agent message says X;
- "my order is A1001, not A1002" / "not A1002 but A1001": no later tool call's arguments hold the
  rejected identifier (an identifier has a digit).

Each constraint binds every agent step after the user message that states it; the first step
that breaks it is reported with its message index and how many user turns it came after.
"""

import re
from dataclasses import dataclass

from trailcheck.checks._language import LANGUAGE_NAMES, detect_language
from trailcheck.checks._steps import args_text, excerpt, indices, short_call, where
from trailcheck.models import (
    AssistantMessage,
    Case,
    FailureCategory,
    Step,
    ToolCall,
    Trajectory,
    UserMessage,
    Verdict,
    VerdictStatus,
)

NAME = "context_saturation"
_SHOWN = 3

# Matched against lowered text without IGNORECASE (much faster in Python's `re`), after a cheap
# substring test that skips the regex on the many user messages that state nothing of the kind.
_LANGUAGE = re.compile(
    r"\b(?:answer|reply|respond|speak|write|talk|communicate)(?: to me| with me)?(?: only| always)?"
    rf" in ({'|'.join(LANGUAGE_NAMES)})\b"
)
# A channel's name as a token of a tool name or an argument value ("send_email", "place_call").
_EMAIL = re.compile(r"(?<![a-z])e-?mail(?![a-z])", re.IGNORECASE)
_PHONE = re.compile(r"(?<![a-z])(?:phone|call|voice)(?![a-z])", re.IGNORECASE)
_SMS = re.compile(r"(?<![a-z])(?:sms|text|send_text)(?![a-z])", re.IGNORECASE)
_CHANNELS = {
    "email": _EMAIL,
    "e-mail": _EMAIL,
    "phone": _PHONE,
    "call": _PHONE,
    "sms": _SMS,
    "text": _SMS,
    "whatsapp": re.compile(r"whatsapp", re.IGNORECASE),
}
_CHANNEL = re.compile(
    r"\b(?:do not|don't|never|please don't|please do not)\s+(?:contact|reach|message|notify|write to)\s+me"
    r"\s+(?:by|via|through|over|on|with)\s+(e-?mail|phone|sms|text|whatsapp)\b"
    r"|\b(?:do not|don't|never)\s+(e-?mail|phone|call|text|sms|whatsapp)\s+me\b"
)
_MENTION = re.compile(
    r"\b(?:never|do not|don't|please don't|please do not)\s+(?:mention|bring up|say|talk about|use the word)"
    r"\s+[\"“']([^\"”'\n]{2,40})[\"”']"
)
_ID = r"([a-z0-9][a-z0-9_-]*\d[a-z0-9_-]*)"  # an identifier holds a digit
_CORRECTION = re.compile(
    rf"\bis\s+{_ID}\s*,?\s+not\s+{_ID}\b|\bnot\s+{_ID}\s*,?\s+(?:but|it'?s|it is)\s+{_ID}\b"
)


@dataclass(frozen=True)
class _Rule:
    description: str
    start: int  # the step that states the rule; it binds every later step
    forbid: tuple[str, ...] = ()  # lowercased text, banned in agent messages and tool arguments
    forbid_in_args: tuple[str, ...] = ()  # lowercased text, banned in tool arguments only
    forbid_in_replies: tuple[str, ...] = ()  # lowercased text, banned in agent messages only
    forbid_tools: tuple[str, ...] = ()
    channel: re.Pattern[str] | None = None
    language: str | None = None


def _case_rules(steps: list[Step], case: Case | None) -> list[_Rule]:
    if case is None or not case.expectations.constraints:
        return []
    user_steps = [i for i, s in enumerate(steps) if isinstance(s, UserMessage)]
    rules = []
    for c in case.expectations.constraints:
        if c.from_turn > len(user_steps):
            continue  # the turn that states it never happened (the conversation ended earlier)
        rules.append(
            _Rule(
                description=c.description or f"case constraint from turn {c.from_turn}",
                start=user_steps[c.from_turn - 1],
                forbid=tuple(t.lower() for t in c.forbid),
                forbid_tools=tuple(c.forbid_tools),
                language=c.language,
            )
        )
    return rules


def _heuristic_rules(steps: list[Step]) -> list[_Rule]:
    rules = []
    for i, step in enumerate(steps):
        if not isinstance(step, UserMessage):
            continue
        text = step.content.lower()
        said = "the user asked: {!r}"
        if " in " in text:
            for match in _LANGUAGE.finditer(text):
                rules.append(_Rule(said.format(match.group(0)), i, language=LANGUAGE_NAMES[match.group(1)]))
        if " me" in text:
            for match in _CHANNEL.finditer(text):
                channel = (match.group(1) or match.group(2)).replace("e-mail", "email")
                rules.append(_Rule(said.format(match.group(0)), i, channel=_CHANNELS[channel]))
        if "'" in text or '"' in text or "“" in text:
            for match in _MENTION.finditer(text):
                rules.append(_Rule(said.format(match.group(0)), i, forbid_in_replies=(match.group(1),)))
        if "not " in text:
            for match in _CORRECTION.finditer(text):
                wrong = match.group(2) or match.group(3)
                right = match.group(1) or match.group(4)
                if wrong != right:
                    rules.append(_Rule(f"the user corrected: {match.group(0)!r}", i, forbid_in_args=(wrong,)))
    return rules


def _uses_channel(channel: re.Pattern[str], call: ToolCall) -> bool:
    if channel.search(call.name):
        return True
    return any(isinstance(v, str) and channel.fullmatch(v.strip()) for v in call.args.values())


def _breach(rule: _Rule, step: Step) -> str | None:
    if isinstance(step, AssistantMessage):
        lowered = step.content.lower()
        for text in (*rule.forbid, *rule.forbid_in_replies):
            if text in lowered:
                return f"the agent says {text!r}: {excerpt(step.content)!r}"
        if rule.language is not None:
            said = detect_language(step.content)
            if said is not None and said != rule.language:
                return f"the agent answers in {said}, not {rule.language}: {excerpt(step.content)!r}"
        return None
    if isinstance(step, ToolCall):
        if step.name in rule.forbid_tools:
            return f"the agent calls {short_call(step)}"
        if rule.forbid or rule.forbid_in_args or rule.channel is not None:
            args = args_text(step)
            lowered = args.lower()
            for text in (*rule.forbid, *rule.forbid_in_args):
                if text in lowered:
                    return f"the agent calls {short_call(step)} with {text!r}"
            if rule.channel is not None and _uses_channel(rule.channel, step):
                return f"the agent uses the forbidden channel: {short_call(step)}"
    return None


def context_saturation(trajectory: Trajectory, case: Case | None) -> Verdict:
    """Fail when a constraint stated earlier (by the case or the user) is broken later."""
    steps = list(trajectory.steps)
    rules = _case_rules(steps, case) + _heuristic_rules(steps)
    problems: list[str] = []
    involved: set[int] = set()
    first: int | None = None
    for rule in rules:
        turns = 0
        for j in range(rule.start + 1, len(steps)):
            step = steps[j]
            if isinstance(step, UserMessage):
                turns += 1
                continue
            breach = _breach(rule, step)
            if breach:
                stated = steps[rule.start]
                problems.append(
                    f"{rule.description} (at {where(stated, rule.start)}) is not honoured "
                    f"{turns} turn(s) later at {where(step, j)}: {breach}"
                )
                involved.update(indices(stated, step))
                first = j if first is None else min(first, j)
                break
    if not problems:
        detail = f"{len(rules)} constraint(s) honoured" if rules else "no constraints stated"
        return Verdict(check=NAME, status=VerdictStatus.PASSED, reason=detail)
    more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
    return Verdict(
        check=NAME,
        status=VerdictStatus.FAILED,
        reason="; ".join(problems[:_SHOWN]) + more,
        failure_category=FailureCategory.CONTEXT_SATURATION,
        step_index=first,
        message_indices=sorted(involved),
    )
