"""The case lifecycle (neuroerp.compliance.cases.derive) on occurrences and decisions made up for
the purpose, and the decision ledger: tampering found, concurrent writers safe.

Bad input tried on the ledger: an edited note, an edited entry with its hash recomputed (and the
last one so), a removed entry (in the middle and at the end), two entries swapped, an inserted
forged entry, a half-written last line, a missing head; on decide: a status it cannot move to
from each state (the whole table), and two officers closing the same case at once.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
from pathlib import Path

import duckdb
import pytest

from neuroerp.compliance.cases import (
    CaseView,
    DecisionRefused,
    Episode,
    check_decision_input,
    decide,
    derive,
    find_case,
    refusal,
)
from neuroerp.compliance.ledger import Decision, DecisionLedger, LedgerError, entry_hash

T0 = dt.datetime(2026, 11, 2, 6, 5, tzinfo=dt.UTC)  # evaluations every hour from here


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def decision(status: str, hours: float, seen: float, covered: set[str], seq: int = 1) -> Decision:
    return Decision(
        seq=seq, decision_id=f"d{seq}", case_id="c", tenant_id="t", area="psm", rule_id="PSM-002",
        subject_type="article", subject_id="a", status=status, decided_by="Erika Muster", decided_at=at(hours),
        note="n", seen_evaluated_at=at(seen), covered=frozenset(covered), prev_hash="", hash="",
    )  # fmt: skip


# ------------------------------------------------------------------------------------ lifecycle


def test_no_occurrence_no_case():
    assert derive([], [], at(0)).status is None


def test_a_case_opens_when_first_found_and_stays_open_while_any_violation_is():
    s = derive([Episode("v1", at(0), at(2)), Episode("v2", at(1))], [], at(3))
    assert (s.status, s.first_seen_at, s.opened_at, s.resolved_at, s.reopened) == ("open", at(0), at(0), None, 0)


def test_a_case_resolves_by_itself_when_none_of_its_violations_is_found_any_more():
    s = derive([Episode("v1", at(0), at(2)), Episode("v2", at(1), at(3))], [], at(4))
    assert (s.status, s.resolution, s.resolved_at) == ("resolved", "cleared", at(3))


def test_a_violation_that_ends_as_another_starts_keeps_the_case_open():
    s = derive([Episode("v1", at(0), at(2)), Episode("v2", at(2))], [], at(3))
    assert (s.status, s.reopened, s.opened_at) == ("open", 0, at(0))


def test_a_case_resolved_by_itself_reopens_when_found_again():
    s = derive([Episode("v1", at(0), at(1)), Episode("v1", at(3))], [], at(4))
    assert (s.status, s.reopened, s.opened_at, s.first_seen_at, s.resolved_at) == ("open", 1, at(3), at(0), None)


def test_acknowledged_stays_while_what_it_covered_is_found_and_resolves_by_itself_when_cleared():
    ack = decision("acknowledged", 0.5, seen=0, covered={"v1"})
    s = derive([Episode("v1", at(0))], [ack], at(5))
    assert (s.status, s.last_decision, s.new_since_decision) == ("acknowledged", ack, 0)
    s = derive([Episode("v1", at(0), at(3))], [ack], at(5))
    assert (s.status, s.resolution, s.resolved_at) == ("resolved", "cleared", at(3))


def test_an_officer_resolved_past_event_stays_resolved_while_still_found():
    """A past sale cannot be undone: the rule finds it at every run, the officer's resolution holds."""
    done = decision("resolved", 0.5, seen=0, covered={"v1", "v2"})
    s = derive([Episode("v1", at(0)), Episode("v2", at(0))], [done], at(10))
    assert (s.status, s.resolution, s.resolved_at, s.decisions) == ("resolved", "decision", at(0.5), 1)


@pytest.mark.parametrize("status", ["resolved", "dismissed", "acknowledged"])
def test_a_decided_case_reopens_on_an_occurrence_its_decision_did_not_cover(status):
    d = decision(status, 0.5, seen=0, covered={"v1"})
    s = derive([Episode("v1", at(0)), Episode("v2", at(2))], [d], at(3))  # a new sale of the product
    assert (s.status, s.reopened, s.opened_at, s.new_since_decision) == ("open", 1, at(2), 1)
    assert s.last_decision == d  # still shown: who decided what before it came back


def test_a_covered_violation_that_was_cleared_and_comes_back_reopens():
    d = decision("resolved", 0.5, seen=0, covered={"v1"})
    s = derive([Episode("v1", at(0), at(1)), Episode("v1", at(2))], [d], at(3))
    assert (s.status, s.reopened) == ("open", 1)


def test_a_decision_covers_what_was_found_up_to_the_evaluation_the_officer_saw():
    """Found exactly at the evaluation the officer's view stood for: covered (a boundary)."""
    d = decision("resolved", 1.5, seen=1, covered={"v1", "v2"})
    s = derive([Episode("v1", at(0)), Episode("v2", at(1))], [d], at(3))
    assert s.status == "resolved"
    s = derive([Episode("v1", at(0)), Episode("v2", at(0), at(0.5)), Episode("v2", at(1))], [d], at(3))
    assert s.status == "resolved"  # v2 came back before the officer looked: the officer saw it
    # found by a run after the officer's view but before the decision: not covered, reopens at once
    late = decision("resolved", 1.5, seen=0, covered={"v1"})
    s = derive([Episode("v1", at(0)), Episode("v2", at(1))], [late], at(3))
    assert (s.status, s.opened_at, s.reopened) == ("open", at(1.5), 1)


def test_a_rebuilt_warehouse_keeps_every_decision():
    """After a rebuild every violation is detected anew, after the decision: its covered
    violations' first episodes count as covered, a violation it did not cover reopens."""
    d = decision("resolved", 0.5, seen=0, covered={"v1", "v2"})
    assert derive([Episode("v1", at(10)), Episode("v2", at(10))], [d], at(11)).status == "resolved"
    s = derive([Episode("v1", at(10)), Episode("v3", at(10))], [d], at(11))
    assert (s.status, s.new_since_decision) == ("open", 1)


def test_decisions_apply_in_order_and_the_last_one_holds():
    ack = decision("acknowledged", 0.5, seen=0, covered={"v1"}, seq=1)
    dis = decision("dismissed", 0.7, seen=0, covered={"v1"}, seq=2)
    s = derive([Episode("v1", at(0))], [dis, ack], at(2))
    assert (s.status, s.decisions, s.last_decision, s.resolved_at) == ("dismissed", 2, dis, at(0.7))


MOVES = {  # (current state, wanted) -> allowed
    ("open", "acknowledged"): True, ("open", "resolved"): True, ("open", "dismissed"): True,
    ("acknowledged", "acknowledged"): False, ("acknowledged", "resolved"): True,
    ("acknowledged", "dismissed"): True,
    ("resolved", "acknowledged"): False, ("resolved", "resolved"): False, ("resolved", "dismissed"): False,
    ("dismissed", "acknowledged"): False, ("dismissed", "resolved"): False, ("dismissed", "dismissed"): False,
}  # fmt: skip


@pytest.mark.parametrize(("current", "wanted"), sorted(MOVES))
def test_which_decision_a_case_can_take(current, wanted):
    episodes = [Episode("v1", at(0), at(1) if current == "resolved" else None)]
    decisions = [] if current in ("open", "resolved") else [decision(current, 0.5, seen=0, covered={"v1"})]
    state = derive(episodes, decisions, at(2))
    assert state.status == current
    reason = refusal(state, wanted, "c")
    assert (reason is None) == MOVES[(current, wanted)], reason
    if reason:
        assert "c" in reason and current in reason


@pytest.mark.parametrize(
    ("status", "by", "note", "says"),
    [
        ("reopened", "E. Muster", "n", "--status must be one of"),
        ("resolved", "", "n", "--by must name"),
        ("resolved", "   ", "n", "--by must name"),
        ("resolved", "E. Muster", "", "--note must say why"),
        ("resolved", "E. Muster", " \n ", "--note must say why"),
        ("resolved", "E.\nMuster", "n", "on one line"),
        ("resolved", "E. Muster", "x" * 4001, "at most 4000"),
        ("resolved", "E. Muster", "bell\x07", "printable"),
    ],
)
def test_bad_decision_input_is_refused(status, by, note, says):
    with pytest.raises(DecisionRefused, match=says):
        check_decision_input(status, by, note)


def test_a_case_is_named_by_its_id_or_a_unique_prefix(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        with pytest.raises(DecisionRefused, match="no cases yet"):
            find_case(conn, "a" * 32)
        conn.execute("CREATE SCHEMA compliance")
        conn.execute(
            "CREATE TABLE compliance.cases AS SELECT * FROM (VALUES ('aaaaaaaa1', 't', 'psm', 'PSM-002', 'article', "
            "'x', TIMESTAMPTZ '2026-11-02 06:05+00'), ('aaaaaaaa2', 't', 'psm', 'PSM-002', 'article', 'y', "
            "TIMESTAMPTZ '2026-11-02 06:05+00')) AS c(case_id, tenant_id, area, rule_id, subject_type, subject_id, "
            "evaluated_at)"
        )
        conn.execute(
            "CREATE TABLE compliance.violation_history AS SELECT 'aaaaaaaa2' AS case_id, 'v1' AS violation_id, "
            "TIMESTAMPTZ '2026-11-02 06:05+00' AS first_detected_at, TIMESTAMPTZ '2026-11-02 06:05+00' AS "
            "last_detected_at, NULL::TIMESTAMPTZ AS resolved_at"
        )
        with pytest.raises(DecisionRefused, match="matches more than one case"):
            find_case(conn, "AAAAAAAA")
        with pytest.raises(DecisionRefused, match="at least 8"):
            find_case(conn, "aaaaaaa")
        with pytest.raises(DecisionRefused, match="unknown case"):
            find_case(conn, "aaaaaaaa3")
        view = find_case(conn, " aaaaaaaa2 ")
    assert (view.case_id, view.subject_id, view.episodes, view.evaluated_at) == (
        "aaaaaaaa2",
        "y",
        (Episode("v1", at(0)),),
        at(0),
    )


# ---------------------------------------------------------------------------------------- ledger


def _fields(case_id: str, status: str = "acknowledged") -> dict:
    return {
        "case_id": case_id, "tenant_id": "t", "area": "psm", "rule_id": "PSM-002", "subject_type": "article",
        "subject_id": "a", "status": status, "decided_by": "Erika Muster", "note": f"note {case_id}",
        "seen_evaluated_at": at(0).isoformat(), "covered": {"v1"},
    }  # fmt: skip


@pytest.fixture
def ledger(tmp_path) -> DecisionLedger:
    ledger = DecisionLedger(tmp_path / "ledger")
    with ledger.locked():
        for i in range(4):
            ledger.append(_fields(f"case{i}"), now=at(i))
    return ledger


def _lines(ledger: DecisionLedger) -> list[str]:
    return ledger.path.read_text(encoding="utf-8").splitlines(keepends=True)


def _write(ledger: DecisionLedger, lines: list[str]) -> None:
    ledger.path.write_text("".join(lines), encoding="utf-8")


def _rehash(line: str, **changes) -> str:
    entry = json.loads(line) | changes
    entry["hash"] = entry_hash(entry)
    return json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"


def test_an_untouched_ledger_verifies(ledger):
    check = ledger.verify()
    assert check.ok and check.intact == 4 and [d.seq for d in check.decisions()] == [1, 2, 3, 4]
    written = [json.loads(line)["decision_id"] for line in _lines(ledger)]
    assert [d.decision_id for d in check.decisions()] == written and len(set(written)) == 4
    assert "Erika Muster" in ledger.path.read_text(encoding="utf-8")


def test_a_ledger_keeps_umlauts_as_written_for_whoever_reads_the_file(tmp_path):
    ledger = DecisionLedger(tmp_path / "ledger")
    with ledger.locked():
        ledger.append({**_fields("c"), "decided_by": "Jörg Müßig", "note": "Prüfung erledigt"}, now=at(0))
    text = ledger.path.read_text(encoding="utf-8")
    assert "Jörg Müßig" in text and "Prüfung erledigt" in text and "\\u00" not in text
    assert ledger.verify().ok


def test_an_edited_entry_is_found(ledger):
    lines = _lines(ledger)
    entry = json.loads(lines[1])
    entry["note"] = "never happened"
    lines[1] = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
    _write(ledger, lines)
    check = ledger.verify()
    assert not check.ok and check.intact == 1
    assert any("line 2" in p and "edited" in p for p in check.problems)


def test_an_edited_entry_with_its_hash_recomputed_breaks_the_chain(ledger):
    lines = _lines(ledger)
    lines[1] = _rehash(lines[1], status="dismissed")
    _write(ledger, lines)
    check = ledger.verify()
    assert check.intact == 2 and any("line 3" in p and "does not follow" in p for p in check.problems)


def test_the_last_entry_edited_with_its_hash_recomputed_is_found_by_the_head(ledger):
    lines = _lines(ledger)
    lines[3] = _rehash(lines[3], status="dismissed")
    _write(ledger, lines)
    check = ledger.verify()
    assert not check.ok and any("records 4 entries" in p for p in check.problems)


@pytest.mark.parametrize("removed", [1, 3])
def test_a_removed_entry_is_found(ledger, removed):
    lines = _lines(ledger)
    del lines[removed]
    _write(ledger, lines)
    check = ledger.verify()
    assert not check.ok
    if removed == 3:  # the end: the chain is whole, the head is not
        assert check.intact == 3 and any("removed from its end" in p for p in check.problems)
    else:
        assert check.intact == 1 and any("line 2 holds seq 3" in p for p in check.problems)


def test_swapped_entries_are_found(ledger):
    lines = _lines(ledger)
    lines[1], lines[2] = lines[2], lines[1]
    _write(ledger, lines)
    check = ledger.verify()
    assert check.intact == 1 and any("moved" in p for p in check.problems)


def test_an_inserted_entry_is_found(ledger):
    lines = _lines(ledger)
    forged = _rehash(lines[1], decision_id="forged", note="slipped in")
    _write(ledger, [*lines[:2], forged, *lines[2:]])
    check = ledger.verify()
    assert check.intact == 2 and any("line 3 holds seq 2" in p for p in check.problems)


def test_a_half_written_line_and_a_missing_head_are_found(ledger):
    ledger.path.write_bytes(ledger.path.read_bytes() + b'{"seq": 5, "decision')
    assert any("incomplete" in p for p in ledger.verify().problems)
    ledger.path.write_bytes(ledger.path.read_bytes().rsplit(b"\n", 1)[0] + b"\n")
    assert ledger.verify().ok
    ledger.head_path.unlink()
    assert any("missing" in p for p in ledger.verify().problems)


def test_nothing_is_appended_to_a_ledger_that_fails_verification(ledger):
    lines = _lines(ledger)
    del lines[1]
    _write(ledger, lines)
    before = ledger.path.read_bytes(), ledger.head_path.read_bytes()
    with ledger.locked(), pytest.raises(LedgerError, match="nothing written"):
        ledger.append(_fields("case9"))
    assert (ledger.path.read_bytes(), ledger.head_path.read_bytes()) == before


def _append_many(folder: str, worker: int, n: int) -> None:
    ledger = DecisionLedger(Path(folder))
    for i in range(n):
        with ledger.locked():
            ledger.append(_fields(f"w{worker}-{i}"))


def _decide_once(folder: str, results) -> None:
    view = CaseView(
        case_id="c", tenant_id="t", area="psm", rule_id="PSM-002", subject_type="article", subject_id="a",
        episodes=(Episode("v1", at(0)),), evaluated_at=at(0),
    )  # fmt: skip
    try:
        decide(Path(folder), view, "resolved", "Erika Muster", "stock returned")
        results.put("recorded")
    except DecisionRefused as exc:
        results.put(str(exc))


def test_concurrent_writers_keep_the_chain_whole(tmp_path):
    context = multiprocessing.get_context("spawn")
    folder = str(tmp_path / "ledger")
    workers = [context.Process(target=_append_many, args=(folder, w, 15)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
        assert p.exitcode == 0
    check = DecisionLedger(Path(folder)).verify()
    assert check.ok and check.intact == 60


def test_two_officers_closing_the_same_case_at_once_record_one_decision(tmp_path):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    folder = str(tmp_path / "ledger")
    officers = [context.Process(target=_decide_once, args=(folder, results)) for _ in range(3)]
    for p in officers:
        p.start()
    for p in officers:
        p.join(60)
    outcomes = sorted(results.get(timeout=10) for _ in officers)
    assert outcomes[-1] == "recorded" and all("is resolved" in o for o in outcomes[:-1]), outcomes
    assert len(DecisionLedger(Path(folder)).verify().decisions()) == 1
