"""Compliance benchmark: every rule at scale 1, against the target of 10 seconds.

    scripts/bench compliance [--scale 1]

Seeds a throw-away PostgreSQL 15, ingests it into a DuckDB warehouse and builds the staging
views (not timed), then times the compliance run: audit fingerprints read from the source, every
rule model, the violation history and the scores. For comparison, in the same run, the
independent polars statements of the same rules (tests/seed_rules.py) over the same data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import duckdb
import polars as pl

from bench.seeding import seeded_postgres
from neuroerp.compliance.engine import run_compliance
from neuroerp.contract import TABLES, load_order
from neuroerp.ingest import ingest_table
from neuroerp.ingest.readers import PostgresReader
from neuroerp.project import EXTERNAL, SQL_ROOT
from neuroerp.sqlmodels import build, load_models

TARGET_S = 10.0
RESULTS = Path(__file__).parent / "results"


def polars_reference(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> tuple[float, int]:
    """Seconds and findings of the polars rule statements over the warehouse's raw tables."""
    from tests import seed_rules

    frames = {t.name: conn.sql(f"SELECT * FROM raw.{t.name}").pl() for t in TABLES}
    # the polars statements expect floats where the warehouse has decimals
    # and UTC where DuckDB says Etc/UTC
    frames = {
        n: f.with_columns(
            pl.col(pl.Decimal).cast(pl.Float64),
            *(
                pl.col(c).dt.convert_time_zone("UTC")
                for c, t in f.schema.items()
                if isinstance(t, pl.Datetime) and t.time_zone
            ),
        )
        for n, f in frames.items()
    }
    started = time.perf_counter()
    found = sum(
        len(rule(frames.__getitem__, as_of)) for name, rule in seed_rules.RULES.items() if not name.startswith("FIN-")
    )
    return time.perf_counter() - started, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    as_of = dt.date.today() - dt.timedelta(days=1)
    with seeded_postgres(args.scale, as_of) as (url, tmp):
        models = load_models(SQL_ROOT, EXTERNAL)
        with duckdb.connect(str(tmp / "warehouse.duckdb")) as conn:
            conn.execute("SET VARIABLE as_of = ?", [as_of.isoformat()])
            reader = PostgresReader(url)
            rows = sum(ingest_table(reader, conn, spec).rows_read for spec in load_order())
            for model in models:
                if model.schema in ("staging", "marts"):
                    build(conn, model)
            print(f"scale {args.scale}: {rows:,} rows ingested; timing the compliance run", flush=True)
            started = time.perf_counter()
            run = run_compliance(conn, url, [m for m in models if m.schema == "compliance"])
            total = time.perf_counter() - started
            by_area = conn.execute("SELECT area, count(*) FROM compliance.violations GROUP BY 1 ORDER BY 1").fetchall()
            reference_s, reference_found = polars_reference(conn, as_of)

    slowest = sorted(run.seconds_by_model.items(), key=lambda kv: -kv[1])[:8]
    print(f"\nCompliance run at scale {args.scale} ({run.violations['open']:,} open violations)")
    print(f"{'step':48s} {'s':>7s}")
    print(f"{'-' * 48} {'-' * 7}")
    for name, seconds in slowest:
        print(f"{name:48s} {seconds:7.2f}")
    print(f"{'audit fingerprints + violation history':48s} {run.seconds_state:7.2f}")
    print(f"{'all rules, history and scores (target 10 s)':48s} {total:7.2f}")
    print(f"{'same rules as polars statements (tests/)':48s} {reference_s:7.2f}")
    print("\nopen violations by area: " + ", ".join(f"{a} {n:,}" for a, n in by_area))
    verdict = "meets" if total <= TARGET_S else "misses"
    print(f"{verdict} the target: {total:.1f} s for every rule at scale {args.scale}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "compliance.json").write_text(
        json.dumps(
            {"scale": args.scale, "seconds_total": total, "seconds_by_model": run.seconds_by_model,
             "seconds_state": run.seconds_state, "polars_reference_seconds": reference_s,
             "polars_reference_findings": reference_found, "open_violations": run.violations["open"]},
            indent=1,
        )
    )  # fmt: skip


if __name__ == "__main__":
    main()
