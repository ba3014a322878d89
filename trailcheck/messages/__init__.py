"""Chat messages (Slack Block Kit) rendered from results: one small renderer per result kind.

A renderer takes a result and returns a `ChatMessage`; `tasks.notify.notify_slack` posts any
of them. `blocks` holds the escaping and the Block Kit builders every renderer shares.
"""

from trailcheck.messages.blocks import escape_slack
from trailcheck.messages.contracts import render_contract_message
from trailcheck.messages.regression import render_run_message

__all__ = ["escape_slack", "render_contract_message", "render_run_message"]
