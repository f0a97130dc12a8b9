"""The order steps take in a run: first every step the compliance cases, scores and alerts are
built from, then the rest (marts, finance's plans, purchasing, search, the event-bus health).

A run executes one warehouse step at a time (the `duckdb_warehouse` pool), so the order decides
when officers see a change: an outbox refresh that also rebuilds sales marts and finance writes the
cases and scores first. Dagster runs a ready step with a higher `dagster/priority` first.
"""

from neuroerp.events.routes import CASES_AND_SCORES
from neuroerp.project import built_from

PRIORITY_TAG = "dagster/priority"
LATER = "-1"
COMPLIANCE_NEEDS = built_from(key.replace("/", ".") for key in CASES_AND_SCORES)


def run_order_tags(relation: str) -> dict[str, str]:
    """Op tags for the step that writes `relation`: none if the compliance results need it, else later."""
    return {} if relation in COMPLIANCE_NEEDS else {PRIORITY_TAG: LATER}
