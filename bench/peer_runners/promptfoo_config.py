"""Write a promptfoo config for the benchmark cases: the HTTP provider on the agent, two JS assertions.

Run with trailcheck's Python (it only writes YAML): ``promptfoo_config.py N URL DIR``.
"""

import json
import sys
from pathlib import Path

N, URL, OUT = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])

TOOL = "output.tool_calls.some(c => c.name === 'lookup_order' && /^A[0-9]{5}$/.test(String(c.args.order_id)))"
config = {
    "description": f"bench-{N}",
    "prompts": ["{{message}}"],
    "providers": [
        {
            "id": "http",
            "config": {
                "url": URL,
                "method": "POST",
                "headers": {"Content-Type": "application/json"},
                "body": {"session_id": "{{message}}", "message": "{{message}}", "context": {}},
                "transformResponse": "json",
            },
        }
    ],
    "defaultTest": {
        "assert": [
            {"type": "javascript", "value": TOOL},
            {"type": "javascript", "value": "output.reply.includes('shipped')"},
        ]
    },
    "tests": [{"vars": {"message": f"Where is my order A{i:05d}"}} for i in range(N)],
}
OUT.mkdir(parents=True, exist_ok=True)
# JSON is YAML: promptfoo reads it as its config.
(OUT / "promptfooconfig.yaml").write_text(json.dumps(config))
print(OUT / "promptfooconfig.yaml")
