"""What each outbox event affects: the raw tables it changes and the assets that must follow.

An event's type is `<aggregate>.<verb>` (customer.updated, sales_order.created, ...); the part
before the dot picks the route. Targets are asset keys as `a/b` strings, `*` matching like a shell
glob; a refresh runs the targets and every asset between the changed raw tables and them.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# what every compliance refresh ends with: the cases, their scores and the alerts
CASES_AND_SCORES = (
    "compliance/settings",
    "compliance/cases",
    "compliance/scored_cases",
    "compliance/entity_scores",
    "compliance/area_scores",
    "compliance/overall_scores",
    "compliance/alerts",
)
# the event bus's own health follows every batch (the outbox itself changed)
PRODUCT_RULES = ("compliance/psm_*", "compliance/exp_*", *CASES_AND_SCORES)
FINANCE = ("finance/*", "marts/invoice_aging", "compliance/fin_*", *CASES_AND_SCORES)
EVENT_BUS = ("raw/outbox_events", "raw/saga_state", "raw/saga_steps", "raw/idempotency_keys", "events/*")


@dataclass(frozen=True)
class Route:
    name: str
    sources: tuple[str, ...]  # raw tables (asset keys) the event changes
    targets: tuple[str, ...]  # assets that must reflect it (globs allowed)


ROUTES: dict[str, Route] = {
    route.name: route
    for route in (
        Route(
            "customer",
            ("raw/customers", "raw/customer_certificates", "raw/consents"),
            ("compliance/psm_*", "compliance/exp_*", "compliance/gdpr_*", *CASES_AND_SCORES, "marts/customer_360"),
        ),
        Route(
            "certificate",
            ("raw/customer_certificates",),
            ("compliance/psm_*", "compliance/exp_*", *CASES_AND_SCORES, "marts/customer_360"),
        ),
        Route(
            "sales_order",
            ("raw/sales_orders", "raw/sales_order_lines"),
            (
                "marts/article_sales_daily",
                "marts/customer_360",
                "compliance/psm_*",
                "compliance/exp_*",
                *CASES_AND_SCORES,
            ),
        ),
        Route("invoice", ("raw/invoices",), (*FINANCE, "compliance/gobd_001_*")),
        Route("payment", ("raw/payments", "raw/invoices"), FINANCE),
        Route("article", ("raw/articles",), ("search/*", "inventory/reorder_*", *PRODUCT_RULES)),
        Route(
            "stock",
            ("raw/stock_levels", "raw/stock_movements"),
            ("inventory/reorder_*", "compliance/psm_004_*", "compliance/psm_008_*", *CASES_AND_SCORES),
        ),
        Route("gdpr", ("raw/gdpr_requests",), ("compliance/gdpr_*", *CASES_AND_SCORES)),
    )
}
ALIASES = {"erasure": "gdpr", "order": "sales_order", "certificates": "certificate"}


def route_of(event_type: str) -> Route | None:
    """The route of an event type, or None for a type nothing here follows."""
    head = (event_type or "").split(".", 1)[0].strip().lower()
    return ROUTES.get(ALIASES.get(head, head))


@dataclass(frozen=True)
class Plan:
    """What one batch of events asks for."""

    sources: frozenset[str]
    targets: frozenset[str]
    by_route: dict[str, int]
    unknown_types: dict[str, int]  # event types no route follows: reported, not dropped silently


def plan(event_types: Iterable[str]) -> Plan:
    """The raw tables and target patterns a batch of events (by type) affects."""
    counts = Counter(event_types)
    sources, targets = set(EVENT_BUS[:4]), set(EVENT_BUS)
    by_route: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    for event_type, n in counts.items():
        route = route_of(event_type)
        if route is None:
            unknown[event_type or "(empty)"] += n
            continue
        by_route[route.name] += n
        sources |= set(route.sources)
        targets |= set(route.targets)
    return Plan(frozenset(sources), frozenset(targets), dict(by_route), dict(unknown))


def matching(patterns: Iterable[str], keys: Sequence[str]) -> set[str]:
    """The keys (`a/b` strings) that any pattern matches."""
    found: set[str] = set()
    for pattern in patterns:
        found |= set(fnmatch.filter(keys, pattern))
    return found
