"""Issue 17 at full size: a new user's scale-1 run on PostgreSQL, as of today, end to end.

    scripts/bench scale1 [--scale 1] [--as-of YYYY-MM-DD]

On a throw-away PostgreSQL 15, exactly what the README tells a user to do, through the CLI:
`neuroerp seed --scale 1 --create-schema` (as of today: the day whose data broke every score),
then `neuroerp materialize`. It checks that the run succeeds, that no staging model had to leave
a row out (the generator keeps the contract's invariants), and that every tenant has a fresh
score in every area. Then, as the baseline in the same run, the compliance group again with one
rule made to fail (`--rule psm_sellout_months=999999999` overflows PSM-002's dates): the run
exits 1, psm is stale with its last good score, every other area is fresh. Minutes on 2 cores:
too long for the test suite, whose small version is tests/compliance/test_independent_areas.py.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import sqlalchemy as sa

from neuroerp.devtools.postgres import throwaway_postgres

RESULTS = Path(__file__).parent / "results"
AREAS = 7


def _neuroerp(env: dict[str, str], *args: str) -> tuple[int, float, str]:
    """Run the CLI as a user would; exit code, seconds, the end of its output."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "neuroerp"), *args], env=env, capture_output=True, text=True
    )
    return done.returncode, time.perf_counter() - started, (done.stdout + done.stderr)[-3000:]


@contextlib.contextmanager
def a_new_user(as_of: dt.date) -> Iterator[tuple[dict[str, str], Path]]:
    """A throw-away PostgreSQL 15 with an empty database `erp` and a fresh NEUROERP_HOME: the CLI's
    environment (NEUROERP_SOURCE_URL points at `erp`) and that home."""
    with throwaway_postgres() as pg, tempfile.TemporaryDirectory() as tmp:
        admin = sa.create_engine(pg.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE erp"))
        admin.dispose()
        home = Path(tmp) / "home"
        env = {**os.environ, "NEUROERP_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
               "NEUROERP_SOURCE_URL": pg.url_for("erp"), "NEUROERP_AS_OF": as_of.isoformat()}  # fmt: skip
        yield env, home


def _scores(warehouse: Path) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        areas = conn.execute(
            "SELECT tenant_id, area, score_pct, freshness, stale_since FROM compliance.area_scores"
        ).fetchall()
        quarantined = dict(conn.execute("SELECT relation, count(*) FROM quarantine.model_rows GROUP BY 1").fetchall())
        rules = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'ok'), count(*) FROM compliance.rule_runs "
            "WHERE evaluated_at = (SELECT max(evaluated_at) FROM compliance.rule_runs)"
        ).fetchone()
    tenants = {t for t, *_ in areas}
    fresh = [(t, a) for t, a, s, f, _ in areas if f == "fresh" and s is not None]
    stale = sorted({a for t, a, s, f, _ in areas if f == "stale" and s is not None})
    return {"tenants": len(tenants), "area_scores": len(areas), "fresh": len(fresh), "stale_with_last_good": stale,
            "quarantined": quarantined, "rules_ok": rules[0], "rules": rules[1]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date.today())
    args = parser.parse_args()
    rows = []
    with a_new_user(args.as_of) as (env, home):
        code, seconds, out = _neuroerp(
            env, "seed", "--scale", str(args.scale), "--create-schema", "--as-of", args.as_of.isoformat()
        )
        rows.append(("neuroerp seed", seconds, code, out.strip().splitlines()[-1] if out.strip() else ""))
        if code:
            sys.exit(f"seeding failed:\n{out}")
        code, seconds, out = _neuroerp(env, "materialize")
        clean = _scores(home / "warehouse.duckdb")
        rows.append(("neuroerp materialize (everything)", seconds, code, json.dumps(clean)))
        clean_ok = (
            code == 0
            and clean["fresh"] == clean["area_scores"] == clean["tenants"] * AREAS
            and not clean["quarantined"]
        )
        if code:
            print(out)
        code, seconds, out = _neuroerp(
            env, "materialize", "--select", "group:compliance", "--rule", "psm_sellout_months=999999999"
        )
        failing = _scores(home / "warehouse.duckdb")
        rows.append(("  baseline: group:compliance, PSM-002 failing", seconds, code, json.dumps(failing)))
        failing_ok = (
            code == 1
            and failing["stale_with_last_good"] == ["psm"]
            and failing["fresh"] == failing["tenants"] * (AREAS - 1)
        )

    print(f"\nScale {args.scale} on PostgreSQL 15, as of {args.as_of}, through the CLI")
    print(f"{'step':46s} {'s':>7s} {'exit':>4s}  result")
    print(f"{'-' * 46} {'-' * 7} {'-' * 4}  {'-' * 40}")
    for name, seconds, code, result in rows:
        print(f"{name:46s} {seconds:7.1f} {code:4d}  {result}")
    verdict = "every score fresh, nothing quarantined" if clean_ok else "FAILED: see the first materialize row"
    print(f"\nclean run: {verdict}")
    verdict = "psm stale with its last good score, the others fresh, exit 1" if failing_ok else "FAILED"
    print(f"failing rule: {verdict}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale1.json").write_text(
        json.dumps(
            {
                "scale": args.scale,
                "as_of": args.as_of.isoformat(),
                "rows": rows,
                "clean_ok": clean_ok,
                "failing_ok": failing_ok,
            },
            indent=1,
            default=str,
        )  # fmt: skip
    )
    sys.exit(0 if clean_ok and failing_ok else 1)


if __name__ == "__main__":
    main()
