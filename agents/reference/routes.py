"""The reference tools' routes, for a gateway in front of them: which request is which tool."""

from trailcheck.agents.reference.schemas import Account, Order, OrderList, Refund, Ticket
from trailcheck.models import ToolRoute

REFERENCE_ROUTES = [
    ToolRoute(
        tool="lookup_order",
        method="GET",
        path="/orders/{order_id}",
        response_schema=Order.model_json_schema(),
    ),
    ToolRoute(
        tool="list_orders",
        method="GET",
        path="/accounts/{customer_id}/orders",
        response_schema=OrderList.model_json_schema(),
    ),
    ToolRoute(
        tool="lookup_account",
        method="GET",
        path="/accounts/{customer_id}",
        response_schema=Account.model_json_schema(),
    ),
    ToolRoute(
        tool="issue_refund", method="POST", path="/refunds", response_schema=Refund.model_json_schema()
    ),
    ToolRoute(
        tool="create_ticket", method="POST", path="/tickets", response_schema=Ticket.model_json_schema()
    ),
]
