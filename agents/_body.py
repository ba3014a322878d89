"""Read a reply body with a size cap, whatever the HTTP transport: the one place bodies are bounded.

A misbehaving agent, model or tool can send 50 MB, a gzip bomb, or a body that never ends. The
cap applies to the decoded bytes, and a declared Content-Length over the cap is refused before
anything is read. A body that never ends but trickles is stopped by the trial's timeout instead.
"""

from collections.abc import AsyncIterable


class BodyTooLarge(Exception):
    """The body is (or declares itself) larger than the cap; the message says which."""


async def read_capped(
    chunks: AsyncIterable[bytes], max_bytes: int, declared_length: str | None = None
) -> bytes:
    """The whole body if it fits in `max_bytes`; BodyTooLarge as soon as it does not."""
    if declared_length is not None and declared_length.strip().isdigit() and int(declared_length) > max_bytes:
        raise BodyTooLarge(f"declared {int(declared_length):,} bytes, over the {max_bytes:,}-byte limit")
    parts, size = [], 0
    async for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(f"more than {max_bytes:,} bytes, over the limit")
        parts.append(chunk)
    return b"".join(parts)
