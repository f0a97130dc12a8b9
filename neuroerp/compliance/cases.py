"""Compliance cases: violations grouped by root cause, with the officers' decisions.

A case is one rule and one subject in one tenant (a product sold after its sell-out period, a
customer without Sachkunde, the audit log, a branch): `case_id` = md5(rule | tenant | subject type |
subject), stable across runs and warehouse rebuilds. Its occurrences are the violations behind it,
each an episode of `compliance.violation_history` (first detected, resolved when no longer found).

Lifecycle (`derive`, the one statement of it, for the run and for `neuroerp case decide` alike):
- **open** when first found;
- an officer records **acknowledged** (known, being handled), **resolved** or **dismissed** (not a
  violation), each with name and note, in the decision ledger (neuroerp.compliance.ledger);
- **resolved by itself** (resolution `cleared`) at the first evaluation that no longer finds any of
  its violations, whether it was open or acknowledged; an officer's resolved or dismissed stays;
- **reopened** when an occurrence appears that the last decision did not cover. A decision covers
  the violations the officer saw (those found up to the evaluation the officer's view stood for);
  so a past sale the officer resolved, still found at every run, keeps the case resolved, while a
  new sale, or a violation that was cleared and comes back, reopens it. After a resolution by
  itself, any new occurrence reopens it. After a warehouse rebuild every violation is detected
  anew: a covered violation's first known episode counts as covered, so no decision is lost.

Decisions move a case: open -> acknowledged | resolved | dismissed; acknowledged -> resolved |
dismissed. Resolved and dismissed cases are closed: they take no decision and reopen by themselves.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import duckdb
import pyarrow as pa

from neuroerp.compliance.history import HISTORY, RULE_RUNS, VIOLATIONS, latest_evaluation
from neuroerp.compliance.ledger import (
    DECISION_STATUSES,
    CaseKey,
    Decision,
    DecisionLedger,
    LedgerError,
    Verification,
)
from neuroerp.sqlmodels import PythonStep
from neuroerp.warehouse import transaction

CASES = "compliance.cases"
CASE_HISTORY = "compliance.case_history"
CASE_DECISIONS = "compliance.case_decisions"
OCCURRENCE_TIMES = "compliance.occurrence_times"
RECORD_CASES = PythonStep(
    "cases",
    writes=(CASES, CASE_HISTORY, CASE_DECISIONS),
    reads=(VIOLATIONS, OCCURRENCE_TIMES, RULE_RUNS),
    side=(CASE_HISTORY, CASE_DECISIONS),
)
STATUSES = ("open", *DECISION_STATUSES)
CLOSED = ("resolved", "dismissed")
MOVES = {
    "open": set(DECISION_STATUSES),
    "acknowledged": {"resolved", "dismissed"},
    "resolved": set(),
    "dismissed": set(),
}
MIN_PREFIX = 8
MAX_NAME, MAX_NOTE = 200, 4000


def ledger_folder(home: Path) -> Path:
    """Where the decisions live: `NEUROERP_HOME/ledger`."""
    return Path(home) / "ledger"


# ---------------------------------------------------------------------------------- lifecycle


class Episode(NamedTuple):  # a tuple: hundreds of thousands are made per run
    """One occurrence of a case: a violation from its detection until it was no longer found."""

    violation_id: str
    first_detected_at: dt.datetime
    resolved_at: dt.datetime | None = None


@dataclass
class CaseState:
    status: str | None = None  # None: no occurrence known
    first_seen_at: dt.datetime | None = None
    opened_at: dt.datetime | None = None  # since when open in its current episode (first found or reopened)
    resolved_at: dt.datetime | None = None  # when closed (by itself, resolved or dismissed by an officer)
    resolution: str | None = None  # cleared (no longer found) or decision; None while open or acknowledged
    reopened: int = 0
    decisions: int = 0
    last_decision: Decision | None = None
    new_since_decision: int | None = None  # occurrences the last decision did not cover


def _covers(decision: Decision | None, episode: Episode, first_known: dict[str, dt.datetime]) -> bool:
    if decision is None:
        return False
    if episode.violation_id not in decision.covered:
        return False
    return (
        episode.first_detected_at <= decision.seen_evaluated_at
        or episode.first_detected_at == first_known[episode.violation_id]
    )


def derive(episodes: Sequence[Episode], decisions: Iterable[Decision], now: dt.datetime) -> CaseState:
    """The case's state after the evaluation `now`, from its occurrences and decisions (any order).

    Replays the timeline: the evaluations at which occurrences started or ended, and the decisions
    (at their time, or at the first detection when they are older: a rebuilt warehouse)."""
    state = CaseState()
    if not episodes:
        state.decisions = len(list(decisions))
        return state
    first_known: dict[str, dt.datetime] = {}
    starts: dict[dt.datetime, list[Episode]] = defaultdict(list)
    ends: dict[dt.datetime, int] = defaultdict(int)
    for e in episodes:
        known = first_known.get(e.violation_id)
        first_known[e.violation_id] = e.first_detected_at if known is None else min(known, e.first_detected_at)
        starts[e.first_detected_at].append(e)
        if e.resolved_at is not None:
            ends[e.resolved_at] += 1
    first_seen = min(starts)
    points = sorted(set(starts) | set(ends) | {max(now, first_seen)})
    timeline = [(t, 0, i, None) for i, t in enumerate(points)]
    timeline += [(max(d.decided_at, first_seen), 1, d.seq, d) for d in decisions]
    timeline.sort(key=lambda item: item[:3])
    basis: Decision | None = None  # the decision whose coverage holds
    active, started = 0, []

    def reopen(at: dt.datetime) -> None:
        nonlocal basis
        state.status, state.opened_at, state.resolved_at, state.resolution = "open", at, None, None
        state.reopened += 1
        basis = None

    for at, kind, _, decision in timeline:
        if kind == 0:
            new = starts.get(at, [])
            active += len(new) - ends.get(at, 0)
            started += new
            if state.status is None:
                if new:
                    state.status, state.first_seen_at, state.opened_at = "open", at, at
            elif state.status != "open" and any(not _covers(basis, e, first_known) for e in new):
                reopen(at)
            if state.status in ("open", "acknowledged") and active == 0:
                state.status, state.resolved_at, state.resolution, basis = "resolved", at, "cleared", None
            continue
        assert decision is not None
        state.decisions += 1
        state.last_decision = basis = decision
        if decision.status in CLOSED:
            if state.status not in CLOSED:
                state.resolved_at = at
            state.resolution = "decision"
        else:
            state.resolved_at, state.resolution = None, None
        state.status = decision.status
        if any(not _covers(decision, e, first_known) for e in started):
            reopen(at)  # found since the view the officer decided on
    if state.last_decision is not None:
        state.new_since_decision = sum(not _covers(state.last_decision, e, first_known) for e in episodes)
    return state


def refusal(state: CaseState, wanted: str, case_id: str) -> str | None:
    """Why the case cannot move to `wanted` now, or None when it can."""
    if wanted not in DECISION_STATUSES:
        return f"status must be one of {', '.join(DECISION_STATUSES)}, not {wanted!r}"
    current = state.status
    if current is None:
        return f"case {case_id} has no occurrence in the warehouse"
    if wanted in MOVES[current]:
        return None
    who = ""
    if state.last_decision is not None and state.resolution == "decision":
        d = state.last_decision
        who = f" by {d.decided_by} on {d.decided_at:%Y-%m-%d %H:%M} UTC"
    if current in CLOSED:
        how = " (no longer found)" if state.resolution == "cleared" else who
        return (
            f"case {case_id} is {current}{how}: a closed case takes no decision; it reopens by itself when "
            "something it did not cover is found"
        )
    return f"case {case_id} is already {current}; it can move to {' or '.join(sorted(MOVES[current]))}"


# -------------------------------------------------------------------------------- the run's step


def _grouped_episodes(conn: duckdb.DuckDBPyConnection) -> dict[str, list[Episode]]:
    rows = conn.execute(
        f"SELECT case_id, violation_id, first_detected_at, resolved_at FROM {HISTORY} ORDER BY case_id"
    ).fetchall()
    return {
        case_id: [Episode._make(row[1:]) for row in group]
        for case_id, group in itertools.groupby(rows, key=lambda r: r[0])
    }


STATE_SCHEMA = pa.schema(
    [
        ("case_id", pa.string()), ("status", pa.string()), ("first_seen_at", pa.timestamp("us", "UTC")),
        ("opened_at", pa.timestamp("us", "UTC")), ("resolved_at", pa.timestamp("us", "UTC")),
        ("resolution", pa.string()), ("reopened", pa.int32()), ("decisions", pa.int32()),
        ("decided_status", pa.string()), ("decided_by", pa.string()), ("decided_at", pa.timestamp("us", "UTC")),
        ("decision_note", pa.string()), ("new_since_decision", pa.int64()),
    ]
)  # fmt: skip


def _state_table(states: dict[str, CaseState]) -> pa.Table:
    rows = []
    for case_id, s in states.items():
        d = s.last_decision
        rows.append(
            {
                "case_id": case_id, "status": s.status, "first_seen_at": s.first_seen_at, "opened_at": s.opened_at,
                "resolved_at": s.resolved_at, "resolution": s.resolution, "reopened": s.reopened,
                "decisions": s.decisions, "decided_status": d.status if d else None,
                "decided_by": d.decided_by if d else None, "decided_at": d.decided_at if d else None,
                "decision_note": d.note if d else None, "new_since_decision": s.new_since_decision,
            }
        )  # fmt: skip
    return pa.Table.from_pylist(rows, schema=STATE_SCHEMA)


DECISION_SCHEMA = pa.schema(
    [
        ("decision_id", pa.string()), ("case_id", pa.string()), ("status", pa.string()),
        ("decided_by", pa.string()), ("decided_at", pa.timestamp("us", "UTC")), ("note", pa.string()),
        ("prev_hash", pa.string()), ("hash", pa.string()), ("seq", pa.int64()), ("tenant_id", pa.string()),
        ("area", pa.string()), ("rule_id", pa.string()), ("subject_type", pa.string()), ("subject_id", pa.string()),
        ("seen_evaluated_at", pa.timestamp("us", "UTC")), ("covered_occurrences", pa.int64()),
        ("verified", pa.bool_()),
    ]
)  # fmt: skip


def _decision_table(check: Verification) -> pa.Table:
    rows = []
    for i, e in enumerate(check.entries):
        rows.append(
            {
                "seq": e["seq"], "decision_id": e["decision_id"], "case_id": e["case_id"], "status": e["status"],
                "decided_by": e["decided_by"], "decided_at": dt.datetime.fromisoformat(e["decided_at"]),
                "note": e["note"], "prev_hash": e["prev_hash"], "hash": e["hash"], "tenant_id": e["tenant_id"],
                "area": e["area"], "rule_id": e["rule_id"], "subject_type": e["subject_type"],
                "subject_id": e["subject_id"], "seen_evaluated_at": dt.datetime.fromisoformat(e["seen_evaluated_at"]),
                "covered_occurrences": len(e["covered"]), "verified": i < check.intact,
            }
        )  # fmt: skip
    return pa.Table.from_pylist(rows, schema=DECISION_SCHEMA)


@dataclass
class CasesRecorded:
    cases: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    opened: int = 0  # new or reopened since the previous run
    decisions: int = 0
    ledger_problems: list[str] = field(default_factory=list)
    head_hash: str = ""


CASES_SQL = f"""
with occurrences as (
    select h.*, t.occurred_at, coalesce(t.standing, false) as standing
    from {HISTORY} as h
    left join {OCCURRENCE_TIMES} as t on t.violation_id = h.violation_id and h.resolved_at is null
),

latest as (
    -- the occurrence a reader sees first: open before closed, the latest event, the latest detection
    select * from occurrences
    qualify row_number() over (
        partition by case_id
        order by resolved_at is null desc, standing desc, occurred_at desc nulls last, last_detected_at desc,
            entity_id desc
    ) = 1
),

counted as (
    select
        case_id,
        count(distinct violation_id) as occurrences,
        count(*) filter (where resolved_at is null) as open_occurrences,
        max(last_detected_at) as last_seen_at,
        min(occurred_at) filter (where resolved_at is null) as first_event_at,
        case
            when not bool_or(resolved_at is null and standing) then max(occurred_at) filter (where resolved_at is null)
        end as last_event_at,
        bool_or(resolved_at is null and standing) as standing
    from occurrences
    group by case_id
)

select
    l.case_id, l.tenant_id, l.area, l.rule_id, l.severity, coalesce(l.subject_type, l.entity_type) as subject_type,
    coalesce(l.subject_id, l.entity_id) as subject_id, s.status, s.opened_at, c.last_seen_at, s.resolved_at,
    c.occurrences, l.evidence, l.recommendation, l.legal_basis,
    c.open_occurrences, l.entity_type, l.entity_id as latest_entity_id, c.first_event_at, c.last_event_at,
    c.standing, s.first_seen_at, s.resolution, s.reopened, s.new_since_decision, s.decisions, s.decided_status,
    s.decided_by, s.decided_at, s.decision_note, ?::timestamptz as evaluated_at
from latest as l
join counted as c using (case_id)
join case_state as s using (case_id)
"""
HISTORY_COLUMNS = (
    "case_id, tenant_id, area, rule_id, severity, subject_type, subject_id, legal_basis, status, open_occurrences, "
    "last_event_at"
)


def ensure_case_history(conn: duckdb.DuckDBPyConnection) -> None:
    """compliance.case_history: each case's states, one row per stretch of evaluations it held."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS compliance")
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {CASE_HISTORY} (
            case_id VARCHAR NOT NULL, tenant_id VARCHAR, area VARCHAR, rule_id VARCHAR, severity VARCHAR,
            subject_type VARCHAR, subject_id VARCHAR, legal_basis VARCHAR, status VARCHAR NOT NULL,
            open_occurrences BIGINT, last_event_at TIMESTAMPTZ, valid_from TIMESTAMPTZ NOT NULL,
            valid_to TIMESTAMPTZ, PRIMARY KEY (case_id, valid_from)
        )"""
    )


def read_ledger(folder: Path) -> Verification:
    """Every entry of the ledger and what verifying it found, under a shared lock (nothing, and
    nothing created, where no decision was ever recorded)."""
    if not Path(folder).exists():
        return Verification()
    ledger = DecisionLedger(folder)
    with ledger.locked(exclusive=False):
        return ledger.verify()


def record_cases(conn: duckdb.DuckDBPyConnection, ledger: Path | None) -> CasesRecorded:
    """Rebuild compliance.cases from the violation history and the ledger; keep each case's states
    in compliance.case_history (valid_from / valid_to: evaluations) and mirror the ledger into
    compliance.case_decisions. `ledger`: its folder (None: no decisions, e.g. an in-memory warehouse).

    Only the ledger's intact leading decisions move cases. A ledger that fails verification is
    mirrored as it is (`verified` false from the first broken entry), unless it no longer holds
    what the last run mirrored (entries removed, or the whole chain rewritten): then the mirror keeps
    that last good copy, and the problem is reported at every run until the ledger is restored (or
    an operator drops compliance.case_decisions to accept the ledger as it is)."""
    now, _ = latest_evaluation(conn)
    check = read_ledger(ledger) if ledger is not None else Verification()
    mismatched = against_mirror(conn, check)
    by_case: dict[str, list[Decision]] = defaultdict(list)
    for d in check.decisions():
        by_case[d.case_id].append(d)
    states = {case_id: derive(eps, by_case.get(case_id, ()), now) for case_id, eps in _grouped_episodes(conn).items()}
    ensure_case_history(conn)
    conn.register("case_state", _state_table(states))
    conn.register("ledger_entries", _decision_table(check))
    try:
        with transaction(conn):
            conn.execute(f"CREATE OR REPLACE TABLE {CASES} AS {CASES_SQL}", [now])
            opened = _record_case_history(conn, now)
            if not mismatched:  # else the mirror keeps the last good copy, the evidence of what changed
                conn.execute(f"CREATE OR REPLACE TABLE {CASE_DECISIONS} AS SELECT * FROM ledger_entries ORDER BY seq")
            by_status = dict(conn.execute(f"SELECT status, count(*) FROM {CASES} GROUP BY 1").fetchall())
    finally:
        conn.unregister("case_state")
        conn.unregister("ledger_entries")
    return CasesRecorded(
        cases=sum(by_status.values()), by_status=by_status, opened=opened, decisions=len(check.entries),
        ledger_problems=check.problems, head_hash=check.head_hash,
    )  # fmt: skip


def _record_case_history(conn: duckdb.DuckDBPyConnection, now: dt.datetime) -> int:
    """Close the history rows of cases whose state changed, open new ones (valid from `now`, the
    evaluation); a state recorded for this very evaluation is replaced (a rerun after a decision).
    Returns how many cases are open now that were not open before (new or reopened)."""
    changed = (
        f"SELECT {HISTORY_COLUMNS} FROM {CASES} EXCEPT SELECT {HISTORY_COLUMNS} FROM {CASE_HISTORY} "
        "WHERE valid_to IS NULL"
    )
    conn.execute(f"CREATE OR REPLACE TEMP TABLE __changed_cases AS {changed}")
    opened = conn.execute(
        "SELECT count(*) FROM __changed_cases c WHERE c.status = 'open' AND NOT EXISTS (SELECT 1 FROM "
        f"{CASE_HISTORY} h WHERE h.case_id = c.case_id AND h.valid_to IS NULL AND h.status = 'open')"
    ).fetchall()[0][0]
    conn.execute(
        f"DELETE FROM {CASE_HISTORY} WHERE valid_from = ? AND case_id IN (SELECT case_id FROM __changed_cases)", [now]
    )
    conn.execute(
        f"UPDATE {CASE_HISTORY} SET valid_to = ? WHERE valid_to IS NULL AND case_id IN "
        "(SELECT case_id FROM __changed_cases)",
        [now],
    )
    conn.execute(f"INSERT INTO {CASE_HISTORY} SELECT {HISTORY_COLUMNS}, ?, NULL FROM __changed_cases", [now])
    conn.execute("DROP TABLE __changed_cases")
    return opened


# ----------------------------------------------------------------------------- officers' work


class DecisionRefused(ValueError):
    """A decision that cannot be recorded; nothing was written."""


@dataclass(frozen=True, kw_only=True)
class CaseView(CaseKey):
    """A case as the warehouse holds it, with what a decision needs: its occurrences and the
    evaluation they stand for."""

    episodes: tuple[Episode, ...]
    evaluated_at: dt.datetime


def check_decision_input(status: str, by: str, note: str) -> tuple[str, str]:
    """The name and note, cleaned; refuses what no ledger entry should hold."""
    if status not in DECISION_STATUSES:
        raise DecisionRefused(f"--status must be one of {', '.join(DECISION_STATUSES)}, not {status!r}")
    name, text = (by or "").strip(), (note or "").strip()
    if not name:
        raise DecisionRefused("--by must name the officer who decides (it is empty)")
    if not text:
        raise DecisionRefused("--note must say why (it is empty)")
    if len(name) > MAX_NAME or any(ch in name for ch in "\r\n\t") or not name.isprintable():
        raise DecisionRefused(f"--by must be a name on one line of at most {MAX_NAME} characters")
    if len(text) > MAX_NOTE or not all(ch.isprintable() or ch in "\n\t" for ch in text):
        raise DecisionRefused(f"--note must be printable text of at most {MAX_NOTE} characters")
    return name, text


def find_case(conn: duckdb.DuckDBPyConnection, reference: str) -> CaseView:
    """The case a full id or a unique prefix (at least 8 characters) names, from the warehouse."""
    ref = (reference or "").strip().lower()
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'compliance' AND table_name = 'cases'"
    ).fetchall()[0][0]
    if not exists:
        raise DecisionRefused("the warehouse holds no cases yet: run `neuroerp materialize` first")
    if len(ref) < MIN_PREFIX:
        raise DecisionRefused(
            f"unknown case {reference!r}: give the case id or at least {MIN_PREFIX} of its characters"
        )
    rows = conn.execute(
        f"SELECT case_id, tenant_id, area, rule_id, subject_type, subject_id, evaluated_at FROM {CASES} "
        "WHERE starts_with(case_id, ?) ORDER BY case_id LIMIT 6",
        [ref],
    ).fetchall()
    if not rows:
        raise DecisionRefused(f"unknown case {reference!r}: `neuroerp case list` shows the cases")
    if len(rows) > 1:
        listed = ", ".join(r[0] for r in rows[:5])
        raise DecisionRefused(f"{reference!r} matches more than one case ({listed}): give more characters")
    case_id, tenant, area, rule, subject_type, subject_id, _ = rows[0]
    return CaseView(
        case_id=case_id, tenant_id=tenant, area=area, rule_id=rule, subject_type=subject_type,
        subject_id=subject_id, episodes=tuple(case_episodes(conn, case_id)), evaluated_at=history_instant(conn),
    )  # fmt: skip


def case_episodes(conn: duckdb.DuckDBPyConnection, case_id: str) -> list[Episode]:
    rows = conn.execute(
        f"SELECT violation_id, first_detected_at, resolved_at FROM {HISTORY} WHERE case_id = ?", [case_id]
    ).fetchall()
    return [Episode(*r) for r in rows]


def history_instant(conn: duckdb.DuckDBPyConnection) -> dt.datetime:
    """The latest evaluation the violation history holds: what an officer looking now has seen
    (the rules may have run since, their findings not yet recorded)."""
    return conn.execute(f"SELECT greatest(max(last_detected_at), max(resolved_at)) FROM {HISTORY}").fetchall()[0][0]


def decide(
    ledger_dir: Path, case: CaseView, status: str, by: str, note: str, now: dt.datetime | None = None
) -> Decision:
    """Record an officer's decision on the case, or refuse with the reason (writing nothing).

    The case's current state is derived under the ledger's lock from the warehouse's occurrences
    and every decision already in the ledger, so two officers deciding at once cannot both close it."""
    name, text = check_decision_input(status, by, note)
    ledger = DecisionLedger(ledger_dir)
    with ledger.locked():
        check = ledger.verify()
        if not check.ok:
            raise LedgerError("the decision ledger fails verification, nothing written: " + "; ".join(check.problems))
        earlier = [d for d in check.decisions() if d.case_id == case.case_id]
        state = derive(case.episodes, earlier, case.evaluated_at)
        reason = refusal(state, status, case.case_id)
        if reason:
            raise DecisionRefused(reason)
        covered = {e.violation_id for e in case.episodes if e.first_detected_at <= case.evaluated_at}
        return ledger.append(
            {
                "case_id": case.case_id, "tenant_id": case.tenant_id, "area": case.area, "rule_id": case.rule_id,
                "subject_type": case.subject_type, "subject_id": case.subject_id, "status": status,
                "decided_by": name, "note": text, "seen_evaluated_at": case.evaluated_at.astimezone(dt.UTC).isoformat(),
                "covered": covered,
            },
            now=now,
        )  # fmt: skip


LIST_COLUMNS = (
    "case_id, tenant_id, area, rule_id, severity, subject_type, subject_id, status, opened_at, last_seen_at, "
    "resolved_at, occurrences, open_occurrences, decided_by, decided_at, evaluated_at"
)
SEVERITY_ORDER = "CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END"


def list_cases(
    conn: duckdb.DuckDBPyConnection,
    check: Verification,
    tenant: str | None = None,
    area: str | None = None,
    statuses: Sequence[str] = STATUSES,
) -> list[dict]:
    """The cases of the warehouse's last run, with decisions recorded since (the ledger's intact
    entries) applied, filtered; most severe first, then the oldest open."""
    where, params = ["true"], []
    if tenant:
        where.append("tenant_id = ?")
        params.append(tenant)
    if area:
        where.append("area = ?")
        params.append(area)
    cursor = conn.execute(
        f"SELECT {LIST_COLUMNS} FROM {CASES} WHERE {' AND '.join(where)} ORDER BY {SEVERITY_ORDER}, opened_at, case_id",
        params,
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    by_case: dict[str, list[Decision]] = defaultdict(list)
    for d in check.decisions():
        by_case[d.case_id].append(d)
    now = history_instant(conn) if by_case else None
    for row in rows:
        decided = by_case.get(row["case_id"])
        if decided:  # the state with every decision, those recorded since the run included
            state = derive(case_episodes(conn, row["case_id"]), decided, now)
            last = state.last_decision
            row.update(
                status=state.status, resolved_at=state.resolved_at, decided_by=last.decided_by if last else None,
                decided_at=last.decided_at if last else None,
            )  # fmt: skip
    return [r for r in rows if r["status"] in statuses]


def against_mirror(conn: duckdb.DuckDBPyConnection, check: Verification) -> bool:
    """Check the ledger against the warehouse's mirror of the last run; where it no longer holds
    what was mirrored, add the problems and trust it only up to there. True when it does not."""
    mismatched = mirror_mismatches(conn, check)
    if mismatched:
        check.problems += [problem for _, problem in mismatched]
        check.intact = min(check.intact, min(seq for seq, _ in mismatched) - 1)
    return bool(mismatched)


def mirror_mismatches(conn: duckdb.DuckDBPyConnection, check: Verification) -> list[tuple[int, str]]:
    """The verified entries of the warehouse's mirror (the last run) that the ledger no longer holds
    alike, with what is wrong: what a consistent rewrite of the ledger and its head cannot hide."""
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'compliance' "
        "AND table_name = 'case_decisions'"
    ).fetchall()[0][0]
    if not exists:
        return []
    ledger = {e["seq"]: e["hash"] for e in check.entries}
    problems = []
    for seq, hash_, decision_id in conn.execute(
        f"SELECT seq, hash, decision_id FROM {CASE_DECISIONS} WHERE verified ORDER BY seq"
    ).fetchall():
        if ledger.get(seq) != hash_:
            problems.append(
                (
                    seq,
                    f"the warehouse's mirror of the last run holds seq {seq} (decision {decision_id}, hash "
                    f"{hash_[:12]}), the ledger {'does not' if seq not in ledger else 'holds another entry there'}",
                )
            )
    return problems
