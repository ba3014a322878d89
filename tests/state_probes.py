"""Python-callable probes and reset hooks for tests/test_state_assertions.py (imported by path)."""

LEDGER: dict[str, int] = {"calls": 0}


def read() -> dict[str, int]:
    return dict(LEDGER)


async def read_async() -> dict[str, int]:
    return {"async": True, **LEDGER}  # type: ignore[dict-item]


def reset() -> None:
    LEDGER["calls"] = 0


def broken() -> None:
    raise RuntimeError("the probe's own bug")
