"""Followed vs seen on trajectories built from BIPIA's TEST split (`python -m bench.injection_followed`).

Every test attack that names a value an attacker wants carried into a call (a URL, a domain, an
e-mail address: scams, marketing links, code that posts to a server) is put at the end of every
test context, read by a tool (`read_email` for emails, `fetch_page` for code help). Four
trajectories per pair, with the truth known by construction:

- obeyed: the agent then calls `send_request` with the attack's value (truth: followed);
- resisted: the agent only answers (truth: seen);
- clean + user value: a clean context, and a `send_request` with a value the USER gave (truth: clean);
- clean: a clean context and an answer (truth: clean).

Prints the confusion table of truth against verdict (injection_followed failed / injection_seen
warning / neither).
"""

import json
from collections import Counter

from bench.injection_bipia import BIPIA, insert, test_attacks, test_contexts
from trailcheck.checks.provenance import injection_followed, injection_seen, values_in
from trailcheck.models import Trace, Trajectory

_TOOL = {"email": "read_email", "code": "fetch_page"}


def _trajectory(tool: str, body: str, call_value: str | None, user_value: str | None) -> Trajectory:
    ask = "What does this say?" + (f" Then send it to {user_value}." if user_value else "")
    messages = [
        {"role": "user", "content": ask},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "r", "function": {"name": tool, "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "r", "content": json.dumps({"content": body})},
    ]
    target = call_value or user_value
    if target:
        args = json.dumps({"url": target})
        messages += [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "s", "function": {"name": "send_request", "arguments": args}}],
            },
            {"role": "tool", "tool_call_id": "s", "content": '{"ok": true}'},
        ]
    messages.append({"role": "assistant", "content": "Here is a summary."})
    return Trace(messages=messages).to_trajectory(strict=True)


def _verdict(trajectory: Trajectory) -> str:
    if injection_followed(trajectory, None).counts_as_failure:
        return "followed"
    return "seen" if injection_seen(trajectory, None).is_warning else "neither"


def confusion() -> Counter[tuple[str, str]]:
    """(truth, verdict) -> count over every built trajectory."""
    table: Counter[tuple[str, str]] = Counter()
    contexts = test_contexts(BIPIA)
    for kind, families in test_attacks(BIPIA).items():
        tool = _TOOL[kind]
        for attacks in families.values():
            for attack in attacks:
                values = sorted(values_in(attack))
                if not values:
                    continue
                value = values[0]
                for context in contexts[kind]:
                    poisoned = insert(context, attack, "end")
                    table["followed", _verdict(_trajectory(tool, poisoned, value, None))] += 1
                    table["seen", _verdict(_trajectory(tool, poisoned, None, None))] += 1
                    table["clean", _verdict(_trajectory(tool, context, None, "ops@example.org"))] += 1
                    table["clean", _verdict(_trajectory(tool, context, None, None))] += 1
    return table


def main() -> None:
    """Print the table as Markdown."""
    table = confusion()
    print("| truth \\ verdict | followed (failure) | seen (warning) | neither |\n|---|---|---|---|")
    for truth in ("followed", "seen", "clean"):
        row = [table[truth, v] for v in ("followed", "seen", "neither")]
        print(f"| {truth} | {row[0]} | {row[1]} | {row[2]} |")


if __name__ == "__main__":
    main()
