"""The benchmark workload: a suite of N single-turn cases sharing typical expectations (suite defaults).

``python -m bench.workload N PATH`` writes one.
"""

from pathlib import Path

import yaml


def write_suite(path: Path, n_cases: int) -> Path:
    """A suite of `n_cases` order-status cases, each checked for its tool call, answer and budgets."""
    suite = {
        "name": f"bench-{n_cases}",
        "defaults": {
            "expectations": {
                "tool_calls": [{"name": "lookup_order", "args": {"order_id": {"regex": r"^A\d{5}$"}}}],
                "final_answer": {"contains": ["shipped"]},
                "budgets": {"max_tokens": 1000, "max_cost_usd": 0.01},
            }
        },
        "cases": [{"id": f"case-{i:05d}", "turns": [f"Where is my order A{i:05d}"]} for i in range(n_cases)],
    }
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


if __name__ == "__main__":
    import sys

    print(write_suite(Path(sys.argv[2]), int(sys.argv[1])))
