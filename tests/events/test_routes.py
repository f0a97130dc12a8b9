"""Event routes: which raw tables and assets a batch of outbox events asks to refresh.

Bad inputs tried: an empty event type, types nothing follows (counted, not dropped), a type in
capitals with spaces around, aliases, a type without a verb.
"""

from __future__ import annotations

from neuroerp.events.routes import EVENT_BUS, ROUTES, matching, plan, route_of


def test_a_batch_asks_for_its_routes_and_counts_what_no_route_follows():
    result = plan(["invoice.created", "invoice.paid", "", "weird.thing", "weird.thing", "erasure.requested"])
    assert result.by_route == {"invoice": 2, "gdpr": 1}
    assert result.unknown_types == {"(empty)": 1, "weird.thing": 2}
    assert result.sources == frozenset({*EVENT_BUS[:4], "raw/invoices", "raw/gdpr_requests"})
    assert {"finance/*", "compliance/gobd_001_*", "compliance/gdpr_*", "events/*"} <= result.targets
    assert "raw/customers" not in result.sources


def test_an_empty_batch_still_refreshes_the_event_bus_s_own_tables():
    result = plan([])
    assert (result.sources, result.targets) == (frozenset(EVENT_BUS[:4]), frozenset(EVENT_BUS))
    assert result.by_route == {} and result.unknown_types == {}


def test_a_type_picks_its_route_by_the_part_before_the_dot():
    assert route_of(" Customer.updated") is ROUTES["customer"]
    assert route_of("order.created") is ROUTES["sales_order"]  # an alias
    assert route_of("stock") is ROUTES["stock"]  # no verb
    assert route_of(None) is None and route_of("customers.updated") is None


def test_target_patterns_match_asset_keys_like_shell_globs():
    keys = ["compliance/psm_001_no_sachkunde", "compliance/psm_004_x", "compliance/cases", "finance/skonto_schedule"]
    assert matching(["compliance/psm_*", "finance/*"], keys) == {
        "compliance/psm_001_no_sachkunde", "compliance/psm_004_x", "finance/skonto_schedule"
    }  # fmt: skip
    assert matching([], keys) == set()
