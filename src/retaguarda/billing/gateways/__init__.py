"""Payment gateway adapters (Stripe, Mercado Pago) and their shared errors and HTTP plumbing.

Vendor JSON stays inside each adapter's module: callers get plain dicts with the documented keys.
"""

from retaguarda.billing.gateways.base import (
    GatewayError,
    PermanentGatewayError,
    TransientGatewayError,
    WebhookSignatureError,
)

__all__ = ["GatewayError", "PermanentGatewayError", "TransientGatewayError", "WebhookSignatureError"]
