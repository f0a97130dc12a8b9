"""The outbox sensor: follows the ERP's transactional outbox and refreshes what its events affect,
so a changed certificate or a new sale shows in cases and scores within a minute.

Each tick reads the source (never the warehouse) from the cursor, in bounded batches and within a
time budget, maps the event types to assets (`neuroerp.events.routes`) and requests one run of
`outbox_refresh` for the batch. The run key is derived from the cursor the tick started from and
the run carries the cursor it leads to: a tick retried after its run was submitted finds that run,
adopts its cursor and requests nothing (no run twice, no event skipped). While a refresh is still
queued or running the sensor waits, so events pile into the next run instead of a queue of runs;
the warehouse pool (`duckdb_warehouse`) serialises the writers. A source that cannot be reached
gives a skipped tick with one line saying so; the cursor stays, and the next tick goes on from it.
"""

from __future__ import annotations

import hashlib
import time

import dagster as dg

from assets.events import jobs
from assets.resources import ErpSource
from assets.sqlmodels.factory import RULE_AREA_TAG
from neuroerp.events import outbox, routes
from neuroerp.source.connection import SourceUnavailable

OUTBOX_TAG = "neuroerp/outbox"
CURSOR_TAG = "neuroerp/outbox_cursor"  # the cursor the run's batch leads to
READ_AT_TAG = "neuroerp/outbox_read_at"  # when the tick's snapshot of the source was taken (epoch s)
RUN_KEY_TAG = "dagster/run_key"
# Someone waits for a refresh: it is dequeued first, and its steps take the warehouse pool's slot
# before those of scheduled catch-up runs (Dagster adds the run's priority to each step's claim).
PRIORITY_TAG, REFRESH_PRIORITY = "dagster/priority", "10"
MAX_EVENTS_PER_TICK = 50_000
TIME_BUDGET_S = 20.0  # Dagster's tick timeout is 60 s; a backlog drains over several ticks
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
MALFORMED_LOGGED = 10


def run_key_for(cursor_json: str) -> str:
    return "outbox:" + hashlib.sha256(cursor_json.encode()).hexdigest()[:20]


def drain(url: str, cursor: outbox.OutboxCursor, max_events: int, budget_s: float, batch_limit: int) -> outbox.Batch:
    """Batches from `cursor` until nothing is pending, `max_events` are read or the budget is spent."""
    started = time.monotonic()
    events: list[outbox.OutboxEvent] = []
    reread = 0
    while True:
        batch = outbox.read_batch(url, cursor, limit=min(batch_limit, max_events - len(events)))
        events += batch.events
        reread += batch.reread
        cursor = batch.cursor
        if not batch.more or len(events) >= max_events or time.monotonic() - started >= budget_s:
            return outbox.Batch(events, cursor, more=batch.more, reread=reread)


def selection_for(plan: routes.Plan, graph) -> list[dg.AssetKey]:
    """The assets a plan asks for: its targets, its raw tables and every asset between them, but
    not the rules' own views."""
    names = [k.to_user_string() for k in graph.get_all_asset_keys()]
    sources = [dg.AssetKey.from_user_string(k) for k in sorted(routes.matching(plan.sources, names))]
    targets = [dg.AssetKey.from_user_string(k) for k in sorted(routes.matching(plan.targets, names))]
    between = dg.AssetSelection.assets(*sources).downstream() & dg.AssetSelection.assets(*targets).upstream()
    selection = (between | dg.AssetSelection.assets(*sources, *targets)).required_multi_asset_neighbors()
    # Each rule is a view, and compliance/current_violations evaluates every rule's own SQL on its
    # own in each run: a rule's findings are current without its step (about a third of a refresh's
    # steps); the hourly run refreshes the views and their row counts in the UI.
    return sorted(
        (k for k in selection.resolve(graph) if RULE_AREA_TAG not in graph.get(k).tags),
        key=lambda k: k.to_user_string(),
    )


def one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def evaluate(
    context: dg.SensorEvaluationContext,
    url: str,
    max_events: int = MAX_EVENTS_PER_TICK,
    budget_s: float = TIME_BUDGET_S,
    batch_limit: int = outbox.BATCH_LIMIT,
) -> dg.SensorResult:
    """One tick (the sensor's body, with its limits as arguments for tests)."""
    if not context.cursor:
        try:
            start = outbox.read_batch(url, None)
        except SourceUnavailable as exc:
            return dg.SensorResult(skip_reason=f"ERP source unreachable, starting later: {one_line(exc)}")
        return dg.SensorResult(
            skip_reason="started at the source's present outbox position (earlier events: the last full run)",
            cursor=start.cursor.to_json(),
        )
    cursor = outbox.OutboxCursor.from_json(context.cursor)
    key = run_key_for(context.cursor)
    earlier = context.instance.get_runs(filters=dg.RunsFilter(tags={RUN_KEY_TAG: key}), limit=1)
    if earlier and CURSOR_TAG in earlier[0].tags:  # a retried tick: its run went out already
        return dg.SensorResult(
            skip_reason=f"run {earlier[0].run_id} already covers the events from this cursor; moving on",
            cursor=earlier[0].tags[CURSOR_TAG],
        )
    busy = context.instance.get_runs(
        filters=dg.RunsFilter(job_name=jobs.outbox_refresh.name, statuses=IN_FLIGHT, tags={OUTBOX_TAG: "batch"}),
        limit=1,
    )
    if busy:
        return dg.SensorResult(skip_reason=f"refresh {busy[0].run_id} still in flight; new events wait for it")
    read_at = time.time()  # an event committed before this instant is in this batch or an earlier one (or pending)
    try:
        batch = drain(url, cursor, max_events, budget_s, batch_limit)
    except SourceUnavailable as exc:
        return dg.SensorResult(skip_reason=f"ERP source unreachable, cursor kept: {one_line(exc)}")
    new_cursor = batch.cursor.to_json()
    if not batch.events:
        note = f" ({batch.reread} updated rows of events already delivered)" if batch.reread else ""
        return dg.SensorResult(skip_reason=f"no new outbox events{note}", cursor=new_cursor)
    for event in batch.malformed[:MALFORMED_LOGGED]:
        context.log.warning(f"outbox event {event.id} ({event.event_type}): {event.problem}")
    plan = routes.plan(e.event_type for e in batch.events)
    if plan.unknown_types:
        context.log.warning(f"outbox event types no refresh follows: {plan.unknown_types}")
    selection = selection_for(plan, context.repository_def.asset_graph)
    context.log.info(
        f"{len(batch.events)} outbox events ({plan.by_route}), {len(batch.malformed)} with a malformed payload"
        f"{', more pending' if batch.more else ''}: refreshing {len(selection)} assets"
    )
    request = dg.RunRequest(
        run_key=key,
        asset_selection=selection,
        tags={
            OUTBOX_TAG: "batch",
            PRIORITY_TAG: REFRESH_PRIORITY,
            CURSOR_TAG: new_cursor,
            READ_AT_TAG: f"{read_at:.3f}",
            "neuroerp/outbox_events": str(len(batch.events)),
            "neuroerp/outbox_malformed": str(len(batch.malformed)),
            "neuroerp/outbox_pending": "more" if batch.more else "none",
        },
    )
    return dg.SensorResult(run_requests=[request], cursor=new_cursor)


@dg.sensor(
    job=jobs.outbox_refresh,
    minimum_interval_seconds=5,  # the daemon's sensor loop runs every 5 s
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Follows the ERP's outbox (exactly once, by commit order) and starts one refresh per batch of "
        "events for what they affect: certificates and customers → PSM/explosives rules, cases, scores; "
        "sales orders → sales marts and rules; invoices and payments → finance; articles → search and reorder."
    ),
)
def outbox_events(context: dg.SensorEvaluationContext, erp_source: ErpSource) -> dg.SensorResult:
    return evaluate(context, erp_source.url)
