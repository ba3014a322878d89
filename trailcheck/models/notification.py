"""A message for a chat channel (Slack Block Kit) and what happened when it was posted.

Renderers turn a result of any kind (a regression run, a live-sampling window, a contract
check) into a `ChatMessage`; one poster sends it. The message is data, so it can be
snapshot-tested and posted by any flow.
"""

from typing import Any

from pydantic import BaseModel, Field

# A Block Kit block is Slack's own JSON shape; it stays a plain dict, as slack-sdk takes it.
Block = dict[str, Any]


class ChatReply(BaseModel):
    """A reply posted in the thread of the main message (details that would crowd the channel)."""

    text: str
    blocks: list[Block] = Field(default_factory=list)


class ChatMessage(BaseModel):
    """One message: `text` is the notification and screen-reader fallback, `blocks` what is shown."""

    kind: str = Field(description="What it reports, e.g. 'regression'; also names its link artifact.")
    subject: str = Field(description="What it is about, e.g. the suite; keys the link artifact.")
    text: str
    blocks: list[Block] = Field(default_factory=list)
    thread: list[ChatReply] = Field(default_factory=list)


class NotificationResult(BaseModel):
    """The outcome of posting a message. Never raises into the run: a failure is recorded here."""

    channel: str
    delivered: bool
    skipped: bool = Field(default=False, description="Nothing was configured, so nothing was sent.")
    ts: str | None = None
    permalink: str | None = None
    thread_replies: int = 0
    error: str | None = None
