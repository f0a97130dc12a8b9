"""Ingest benchmark: the project's ingest against raw ADBC and pandas.read_sql, in one run.

    scripts/bench ingest [--scale 1.1] [--repeat 3]

1. On a throw-away PostgreSQL 15 seeded at the given scale, reads `sales.sales_order_lines`
   (about 1M rows at scale 1.1) with the query the ingest uses, three ways:
   raw ADBC `fetch_arrow_table`, the floor of any ingest into DuckDB (that fetch plus one insert
   of the Arrow table into the warehouse file), `pandas.read_sql` (psycopg), and the project's ingest (typed,
   validated with pandera, screened for duplicates and dangling references, written to DuckDB in
   one transaction). Prints rows/s, CPU seconds and the ratio to raw ADBC. Also the guarded query
   (what a table with rows in quarantine is read with) and the ingest again with 2,000 extra rows
   holding NaN and infinity (quarantined): what hostile rows cost.
2. Full load of every table at that scale versus an incremental run when nothing changed (but
   another transaction ran), and one after 1 % of the rows of every mutable table changed (in a
   fresh process, as a run gets).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import json
import multiprocessing
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import sqlalchemy as sa

from neuroerp.contract import TableKind, load_order, table
from neuroerp.devtools.postgres import settle, throwaway_postgres
from neuroerp.ingest import ingest_table
from neuroerp.ingest.parsing import parse
from neuroerp.ingest.readers import PostgresReader, Selection
from neuroerp.ingest.validation import find_problems, table_validator
from neuroerp.seed import seed_source
from neuroerp.source.database import create_source_engine, qualified_name

TABLE = "sales_order_lines"
RESULTS = Path(__file__).parent / "results"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _measure(fn, repeat: int) -> tuple[float, float, int]:
    """Median wall seconds, median CPU seconds of this process, rows."""
    walls, cpus, rows = [], [], 0
    for _ in range(repeat):
        cpu, wall = _cpu(), time.perf_counter()
        rows = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus), rows


def compare_readers(url: str, repeat: int, work: Path) -> list[dict]:
    import adbc_driver_postgresql.dbapi as adbc
    import pandas as pd

    spec = table(TABLE)
    reader = PostgresReader(url)
    with adbc.connect(reader.uri) as conn, conn.cursor() as cur:
        declared, _ = reader.declared(cur, spec)
    query = reader.query(spec, Selection(full=True), declared, guarded=False)  # the ingest's read of clean data
    guarded = reader.query(spec, Selection(full=True), declared, guarded=True)  # ... of a table with bad rows

    def raw_adbc(sql: str = query) -> int:
        with adbc.connect(reader.uri) as conn, conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetch_arrow_table().num_rows

    def floor() -> int:
        """The floor of any ingest into DuckDB: the raw fetch, then one insert of that Arrow table
        into the warehouse file (no typing, no validation, no screening)."""
        with adbc.connect(reader.uri) as conn, conn.cursor() as cur:
            cur.execute(query)
            data = cur.fetch_arrow_table()
        with duckdb.connect(str(warehouse)) as conn:
            conn.execute("CREATE OR REPLACE TABLE main.floor AS SELECT * FROM data")
            conn.execute("DROP TABLE main.floor")
        return data.num_rows

    def pandas_read_sql() -> int:
        engine = create_source_engine(url)
        with engine.connect() as conn:
            n = len(pd.read_sql(sa.text(query), conn))
        engine.dispose()
        return n

    def extract_and_validate() -> int:
        schema = table_validator(spec)  # what the ingest validates with: the pre-screen, pandera where it fails
        n = 0
        with reader.connect() as conn:
            for frame in reader.batches(conn, spec, Selection(full=True), 200_000, guarded=False):
                typed, _ = parse(spec, frame)
                find_problems(schema, spec, typed)
                n += frame.height
        return n

    warehouse = work / "bench.duckdb"
    with duckdb.connect(str(warehouse)) as conn:  # the parents, so references can be checked
        for parent in load_order():
            if parent.name in ("customers", "staff", "suppliers", "articles", "warehouses", "sales_orders"):
                ingest_table(reader, conn, parent)

    def project_ingest(quarantined: int = 0) -> int:
        with duckdb.connect(str(warehouse)) as conn:
            conn.execute(f"DROP TABLE IF EXISTS raw.{TABLE}")
            conn.execute("DELETE FROM ops.ingest_state WHERE table_name = ?", [TABLE])
            conn.execute("DELETE FROM quarantine.rejected_rows WHERE source_table = ?", [TABLE])
            stats = ingest_table(reader, conn, spec)
            assert stats.rows_quarantined == quarantined and stats.balanced, stats
            return stats.rows_read

    def ingest_in_child() -> tuple[int, float]:
        """The complete ingest again, in its own process: rows and peak memory (MiB)."""
        script = (
            "import duckdb, sys; from neuroerp.contract import table; from neuroerp.ingest import ingest_table; "
            "from neuroerp.ingest.readers import PostgresReader; c = duckdb.connect(sys.argv[2]); "
            f"c.execute('DROP TABLE IF EXISTS raw.{TABLE}'); "
            f"c.execute(\"DELETE FROM ops.ingest_state WHERE table_name = '{TABLE}'\"); "
            f"n = ingest_table(PostgresReader(sys.argv[1]), c, table('{TABLE}')).rows_ok; "
            # VmHWM: the peak of this program's own memory (ru_maxrss would include the forking parent)
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]; "
            "print(n, hwm)"
        )
        result = subprocess.run([sys.executable, "-c", script, url, str(warehouse)], capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(result.stderr)
        rows, peak_kib = result.stdout.split()
        return int(rows), int(peak_kib) / 1024

    rows = []
    for name, fn, times in (
        ("raw ADBC fetch_arrow_table", raw_adbc, repeat),
        ("raw ADBC, guarded query", lambda: raw_adbc(guarded), repeat),
        ("floor: raw ADBC + DuckDB insert", floor, repeat),
        ("pandas.read_sql (psycopg)", pandas_read_sql, 1),
        ("ingest: extract + type + validate", extract_and_validate, repeat),
        ("ingest: complete (into DuckDB)", project_ingest, repeat),
    ):
        wall, cpu, n = _measure(fn, times)
        rows.append({"reader": name, "rows": n, "seconds": wall, "cpu_seconds": cpu, "rows_per_s": n / wall})
    with _hostile_rows(url) as planted:  # the same read with values the binary path cannot carry
        wall, cpu, n = _measure(lambda: project_ingest(quarantined=planted), repeat)
    rows.append({"reader": f"ingest: complete, {planted:,} rows NaN/infinity", "rows": n, "seconds": wall,
                 "cpu_seconds": cpu, "rows_per_s": n / wall})  # fmt: skip
    base, bottom = rows[0]["rows_per_s"], rows[2]["rows_per_s"]
    for r in rows:
        r["vs_raw_adbc"] = r["rows_per_s"] / base
        r["vs_floor"] = r["rows_per_s"] / bottom
    _, peak = ingest_in_child()
    with adbc.connect(reader.uri) as conn, conn.cursor() as cur:
        cur.execute(query)
        whole = cur.fetch_arrow_table().nbytes / 2**20
    return rows, {"ingest_peak_rss_mib": peak, "table_as_arrow_mib": whole}


@contextlib.contextmanager
def _hostile_rows(url: str, each: int = 1000):
    """Copies of `each` order lines with NaN quantities and as many delivered at infinity; removed after."""
    engine = create_source_engine(url)
    name = qualified_name("postgresql", table(TABLE))
    columns = [c.name for c in table(TABLE).columns]
    with engine.begin() as conn:
        for prefix, override in (("nan", {"quantity": "'NaN'"}), ("inf", {"delivered_at": "'infinity'"})):
            values = ", ".join(
                f"'{prefix}-' || line_id" if c == "line_id" else override.get(c, f'"{c}"') for c in columns
            )
            conn.execute(sa.text(f"INSERT INTO {name} SELECT {values} FROM {name} ORDER BY line_id LIMIT {each}"))
    try:
        yield 2 * each
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DELETE FROM {name} WHERE line_id LIKE 'nan-%' OR line_id LIKE 'inf-%'"))
        engine.dispose()


def full_vs_incremental(url: str, work: Path, repeat: int) -> list[dict]:
    """The full load, then `repeat` incremental runs of each kind (their median: the first reads
    after seeding touch pages the machine has not cached yet), each 1 % change on other rows.

    Each run ends with a CHECKPOINT, as a run of the product ends by closing the warehouse (which
    writes the run's changes into the file): no run pays for the writes another left behind."""
    reader = PostgresReader(url)
    out = []
    with duckdb.connect(str(work / "incremental.duckdb")) as conn:

        def run_all() -> tuple[float, list]:
            started = time.perf_counter()
            stats = [ingest_table(reader, conn, spec) for spec in load_order()]
            conn.execute("CHECKPOINT")
            return time.perf_counter() - started, stats

        def record(label: str, runs: list[tuple[float, list]]) -> None:
            seconds, stats = sorted(runs, key=lambda run: run[0])[len(runs) // 2]
            out.append({"run": label, "seconds": seconds, "rows_read": sum(s.rows_read for s in stats),
                        "rows_upserted": sum(s.rows_upserted for s in stats)})  # fmt: skip

        record("full load, all tables", [run_all()])
        idle = []
        for _ in range(repeat):
            _another_transaction(url)  # a source is never quiet: with no id assigned, nothing would be read at all
            idle.append(run_all())
        record(f"incremental, nothing changed (median of {repeat})", idle)
        incremental = []
        for sample in range(repeat):
            _change_one_percent(url, sample)
            incremental.append(run_all())
        record(f"incremental, 1 % changed (median of {repeat})", incremental)  # rows read: that run's change
    for r in out:
        r["vs_full"] = r["seconds"] / out[0]["seconds"]
    return out


def _another_transaction(url: str) -> None:
    """A transaction that writes nothing the ingest reads, but takes a transaction id: where no id
    was assigned since the last read, no row can be new and the read only looks up keyless rows
    in the key's index; otherwise every table is scanned for its row versions."""
    engine = create_source_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT txid_current()"))
    engine.dispose()


def _in_fresh_process(fn, *args):
    """`fn(*args)` in a new interpreter, as a Dagster run gets one: what the readers' comparison
    leaves in this process (Arrow and allocator pools after reading the 1M rows six times) made
    every incremental run after it about 20 % slower, in PostgreSQL's wait as much as in ours."""
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def _change_one_percent(url: str, sample: int = 0) -> int:
    """Touch 1 % of the rows of every mutable table (`sample` picks which 1 %)."""
    engine = create_source_engine(url)
    changed = 0
    with engine.begin() as conn:
        for spec in load_order():
            if spec.kind is not TableKind.MUTABLE:
                continue
            name = qualified_name("postgresql", spec)
            key = ", ".join(f'"{k}"' for k in spec.primary_key)
            changed += conn.execute(
                sa.text(
                    f"UPDATE {name} SET updated_at = now() WHERE ({key}) IN "
                    f"(SELECT {key} FROM {name} TABLESAMPLE BERNOULLI (1) REPEATABLE ({7 + sample}))"
                )
            ).rowcount
    engine.dispose()
    return changed


def _table(title: str, rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    widths = [max(len(header), *(len(fmt.format(r[key])) for r in rows)) for key, header, fmt in columns]
    lines = [title, "  ".join(h.ljust(w) for (_, h, _), w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(fmt.format(r[k]).rjust(w) for (k, _, fmt), w in zip(columns, widths, strict=True)))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.1, help="demo data scale (1.1 gives ~1M order lines)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with throwaway_postgres() as pg, tempfile.TemporaryDirectory() as tmp:
        admin = sa.create_engine(pg.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE bench"))
        url = pg.url_for("bench")
        started = time.perf_counter()
        seed_source(url, scale=args.scale, seed=1, as_of=dt.date.today() - dt.timedelta(days=1), create_schema=True)
        settle(url)  # vacuumed and analysed, as a running ERP's database
        print(f"seeded scale {args.scale} in {time.perf_counter() - started:.1f} s", flush=True)
        readers, memory = compare_readers(url, args.repeat, Path(tmp))
        print()
        print(_table(
            f"Reading {TABLE} ({readers[0]['rows']:,} rows), median of {args.repeat}",
            readers,
            [("reader", "reader", "{}"), ("seconds", "s", "{:.2f}"), ("cpu_seconds", "cpu s", "{:.2f}"),
             ("rows_per_s", "rows/s", "{:,.0f}"), ("vs_raw_adbc", "vs raw ADBC", "{:.0%}"),
             ("vs_floor", "vs floor", "{:.0%}")],
        ))  # fmt: skip
        runs = _in_fresh_process(full_vs_incremental, url, Path(tmp), args.repeat)
        print()
        print(_table(
            f"All tables at scale {args.scale}: full load vs incremental",
            runs,
            [("run", "run", "{}"), ("seconds", "s", "{:.1f}"), ("rows_read", "rows read", "{:,}"),
             ("rows_upserted", "rows upserted", "{:,}"), ("vs_full", "vs full", "{:.1%}")],
        ))  # fmt: skip
        print(
            f"\nmemory: the complete ingest of {TABLE} in its own process peaks at "
            f"{memory['ingest_peak_rss_mib']:.0f} MiB RSS (batches of 200,000 rows); the table alone is "
            f"{memory['table_as_arrow_mib']:.0f} MiB as Arrow"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ingest.json").write_text(
        json.dumps({"readers": readers, "runs": runs, "memory": memory, "scale": args.scale}, indent=1)
    )


if __name__ == "__main__":
    main()
