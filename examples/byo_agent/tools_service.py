"""The agent's own tool service (stands in for your order API): plain FastAPI, no trailcheck in it.

Run it with ``python -m uvicorn tools_service:app --port 8701``.
"""

from fastapi import FastAPI, HTTPException

ORDERS = {
    "A1001": {
        "order_id": "A1001",
        "customer_id": "C1",
        "status": "shipped",
        "eta": "2026-12-09",
        "total": 42.5,
    },
    "A1002": {
        "order_id": "A1002",
        "customer_id": "C1",
        "status": "processing",
        "eta": "2026-12-15",
        "total": 18.0,
    },
    "A1003": {
        "order_id": "A1003",
        "customer_id": "C1",
        "status": "delivered",
        "eta": "2026-11-30",
        "total": 7.25,
    },
}

app = FastAPI(title="orders")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/orders/{order_id}")
def lookup_order(order_id: str) -> dict[str, object]:
    if order_id not in ORDERS:
        raise HTTPException(404, detail=f"no order {order_id}")
    return ORDERS[order_id]


@app.get("/customers/{customer_id}/orders")
def list_orders(customer_id: str, limit: int = 10) -> dict[str, object]:
    mine = [o for o in ORDERS.values() if o["customer_id"] == customer_id]
    return {"customer_id": customer_id, "orders": mine[:limit]}
