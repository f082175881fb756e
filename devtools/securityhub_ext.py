"""Test-only moto extension: Security Hub product subscriptions, which moto 5.2.5 lacks.

``prowler --security-hub`` sends findings to a region only when
``ListEnabledProductsForImport`` lists the Prowler integration; moto 5.2.5 answers
that call (``GET /productSubscriptions``) with 404. ``install()`` routes that path
to a small response class that also implements ``EnableImportFindingsForProduct``
(``POST /productSubscriptions``), the call a user makes to accept Prowler's findings.
Subscriptions live on moto's Security Hub backend, so ``/moto-api/reset`` clears them.
Call ``install()`` before the server handles its first Security Hub request.
"""

from __future__ import annotations

import json

from moto.securityhub import urls
from moto.securityhub.models import SecurityHubBackend
from moto.securityhub.responses import SecurityHubResponse

PATH = "{0}/productSubscriptions$"


def _subscriptions(backend: SecurityHubBackend) -> list[str]:
    if not hasattr(backend, "product_subscriptions"):
        backend.product_subscriptions = []
    return backend.product_subscriptions


class ProductSubscriptionsResponse(SecurityHubResponse):
    """Handles only ``/productSubscriptions``; every other path stays with moto."""

    def enable_import_findings_for_product(self) -> str:
        product_arn = json.loads(self.body or "{}")["ProductArn"]
        product = product_arn.split(":product/", 1)[1]  # e.g. prowler/prowler
        arn = f"arn:aws:securityhub:{self.region}:{self.current_account}:product-subscription/{product}"
        subscriptions = _subscriptions(self.securityhub_backend)
        if arn not in subscriptions:
            subscriptions.append(arn)
        return json.dumps({"ProductSubscriptionArn": arn})

    def list_enabled_products_for_import(self) -> str:
        return json.dumps({"ProductSubscriptions": list(_subscriptions(self.securityhub_backend))})


def install() -> None:
    """Route ``/productSubscriptions`` to ``ProductSubscriptionsResponse`` (idempotent)."""
    urls.url_paths[PATH] = ProductSubscriptionsResponse.dispatch
