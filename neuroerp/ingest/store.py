"""The warehouse side of the ingest: raw tables, quarantine, watermarks, all-or-nothing apply.

A run of one table is one DuckDB transaction (the caller opens it): it stages what it read in
scratch tables (`scratch.<table>__*`, written batch by batch, so memory stays bounded however large
the table), screens the staged rows (duplicate keys, dangling references), then applies raw
upserts, hard deletes, quarantine, the new watermark and change marks and the run record. A crash
before the commit leaves raw and the watermark as they were, so the rerun reads the same rows
again.

A first load writes straight into the empty raw table (no second copy of a large table); DuckDB
writes a large transaction's rows to the file as they come, so memory stays bounded, and nothing
of them is visible until the commit.

What found nothing costs nothing: statements over empty staging are skipped, so a run that read
no row and compared no key touches only the state tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import duckdb
import polars as pl

from neuroerp.contract import ColumnType, Table, table
from neuroerp.ingest.changes import Marks
from neuroerp.ingest.types import key_text_sql, quote, raw_table, raw_table_ddl
from neuroerp.warehouse import fetch_frame, scalar

QUARANTINE = "quarantine.rejected_rows"
MAX_QUARANTINED_VALUE = 65_536  # characters of one value kept in row_json (longer ones are cut)
ABSENT_COLUMNS = "ops.absent_columns"
WRITES = (QUARANTINE, "ops.ingest_state", "ops.ingest_runs", ABSENT_COLUMNS)  # besides raw.<table>
# written by every raw/<table> asset for its own table, next to raw.<table>: a model that reads it
# also reads that raw table, which is the dependency the asset graph shows
PER_TABLE_SIDE_WRITES = frozenset({ABSENT_COLUMNS})
DDL = [
    "CREATE SCHEMA IF NOT EXISTS raw",
    "CREATE SCHEMA IF NOT EXISTS quarantine",
    "CREATE SCHEMA IF NOT EXISTS ops",
    "CREATE SCHEMA IF NOT EXISTS scratch",
    f"""CREATE TABLE IF NOT EXISTS {QUARANTINE} (
        source_table VARCHAR NOT NULL,
        source_pk VARCHAR,
        reasons VARCHAR NOT NULL,
        row_json VARCHAR NOT NULL,
        first_seen_at TIMESTAMPTZ NOT NULL,
        last_seen_at TIMESTAMPTZ NOT NULL,
        row_hash VARCHAR NOT NULL,
        row_length BIGINT
    )""",
    # row_json keeps at most MAX_QUARANTINED_VALUE characters of each value; row_hash (md5) and
    # row_length (characters) are of the whole row as read
    f"ALTER TABLE {QUARANTINE} ADD COLUMN IF NOT EXISTS row_length BIGINT",
    """CREATE TABLE IF NOT EXISTS ops.ingest_state (
        table_name VARCHAR PRIMARY KEY,
        watermark VARCHAR,
        loaded_at TIMESTAMPTZ NOT NULL
    )""",
    # change marks of the last read (PostgreSQL: xmin horizon, delete statistics; JSON) and when
    # every key was last compared with the source
    "ALTER TABLE ops.ingest_state ADD COLUMN IF NOT EXISTS source_marks VARCHAR",
    "ALTER TABLE ops.ingest_state ADD COLUMN IF NOT EXISTS reconciled_at TIMESTAMPTZ",
    # the optional columns (contract 1.1) the source lacks, as of each table's last run: read as null
    f"""CREATE TABLE IF NOT EXISTS {ABSENT_COLUMNS} (
        table_name VARCHAR NOT NULL,
        column_name VARCHAR NOT NULL,
        since_version VARCHAR NOT NULL,
        noted_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS ops.ingest_runs (
        table_name VARCHAR NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ NOT NULL,
        mode VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL,
        rows_ok BIGINT NOT NULL,
        rows_quarantined BIGINT NOT NULL,
        rows_upserted BIGINT NOT NULL,
        rows_deleted BIGINT NOT NULL,
        watermark VARCHAR
    )""",
    "ALTER TABLE ops.ingest_runs ADD COLUMN IF NOT EXISTS change_marker VARCHAR",
    "ALTER TABLE ops.ingest_runs ADD COLUMN IF NOT EXISTS keys_compared BOOLEAN",
    "ALTER TABLE ops.ingest_runs ADD COLUMN IF NOT EXISTS why VARCHAR",
]


@dataclass(frozen=True)
class State:
    loaded: bool
    watermark: dt.datetime | int | None
    marks: Marks | None = None
    reconciled_at: dt.datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """What a run records besides its rows: where the next read starts and how this one read."""

    watermark: dt.datetime | int | None  # the change column's high mark (None: tables read whole)
    marks: Marks | None  # the source's change marks taken before this read (PostgreSQL)
    reconciled_at: dt.datetime | None  # when every key was last compared with the source
    marker: str  # what this run read by: xmin, a change column, or none (whole)
    keys_compared: bool
    why: str


@dataclass
class Applied:
    rows_ok: int
    rows_quarantined: int
    rows_upserted: int
    rows_deleted: int


DDL_VERSION = hashlib.sha1("\n".join(DDL).encode()).hexdigest()[:16]


def ensure_warehouse(conn: duckdb.DuckDBPyConnection) -> None:
    """Create or upgrade the ingest's tables; one query when the warehouse is already up to date
    (each DDL statement commits on its own: a dozen cost more than an incremental run's read)."""
    recorded = "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ops' AND table_name = 'ingest_ddl'"
    if scalar(conn, recorded) and scalar(conn, "SELECT max(version) FROM ops.ingest_ddl") == DDL_VERSION:
        return
    for statement in DDL:
        conn.execute(statement)
    conn.execute("CREATE OR REPLACE TABLE ops.ingest_ddl AS SELECT ? AS version", [DDL_VERSION])


# what a run starts from, in one query: the warehouse's DDL version, whether raw.<table> exists,
# on-disk scratch tables a run that died after its commit left, the absent columns and quarantined
# rows of the last run, and the state
_OPENING = f"""
    WITH t AS (
        SELECT count(*) FILTER (schema_name = 'raw' AND table_name = $name) AS raw,
            list(table_name) FILTER (schema_name = 'scratch' AND starts_with(table_name, $name || '__')) AS leftovers
        FROM duckdb_tables()
    )
    SELECT (SELECT max(version) FROM ops.ingest_ddl), t.raw, t.leftovers,
        (SELECT list(column_name ORDER BY column_name) FROM {ABSENT_COLUMNS} WHERE table_name = $name),
        (SELECT count(*) FROM {QUARANTINE} WHERE source_table = $name),
        s.table_name IS NOT NULL, s.watermark, s.source_marks, s.reconciled_at
    FROM t LEFT JOIN ops.ingest_state s ON s.table_name = $name
"""


class IngestStore:
    def __init__(self, conn: duckdb.DuckDBPyConnection, spec: Table) -> None:
        self.conn, self.spec = conn, spec
        self.key = key_text_sql(spec)
        self.raw = raw_table(spec)
        self.direct = False
        self.stage_on_disk = False
        self.created: list[str] = []  # scratch tables of this run, dropped at its end
        self.staged = self.bad_rows = 0  # rows written to the target and to the bad rows so far
        self.deletions = False  # whether keys were marked deleted
        self.has_seen = False
        # as of the start of the run (see `open`)
        self.was_absent: tuple[str, ...] = ()  # the optional columns the source lacked at the last run
        self.quarantined = False  # whether rows of this table wait in quarantine
        self.leftovers: tuple[str, ...] = ()  # on-disk scratch tables of this table an earlier run left
        self.scratch_ddl: dict[str, str] = {}

    def scratch(self, part: str) -> str:
        """Scratch tables of this run: temp tables, except the staged rows of a large read, which
        go to disk (DuckDB keeps temp tables in memory)."""
        if part == "ok" and self.stage_on_disk:
            return f'scratch."{self.spec.name}__ok"'
        return f'temp."{self.spec.name}__{part}"'

    def ensure(self) -> None:
        ensure_warehouse(self.conn)
        self.conn.execute(raw_table_ddl(self.spec))

    # ------------------------------------------------------------------------------- state

    def open(self) -> State:
        """Create or upgrade the warehouse's tables where needed, and read where the last run left
        this table (also `was_absent`, `quarantined`, `leftovers`): one query when it is up to date
        (a statement costs about a millisecond, a run of an unchanged table little more)."""
        try:
            row = self.conn.execute(_OPENING, {"name": self.spec.name}).fetchone()
        except duckdb.Error:  # a new warehouse, or one of an older version: the DDL makes it current
            row = None
        if row is None or row[0] != DDL_VERSION or not row[1]:
            self.ensure()
            row = self.conn.execute(_OPENING, {"name": self.spec.name}).fetchone()
        _, _, leftovers, absent, quarantined, loaded, watermark, marks, reconciled_at = row
        self.leftovers, self.was_absent, self.quarantined = (
            tuple(leftovers or ()),
            tuple(absent or ()),
            bool(quarantined),
        )
        if not loaded:
            return State(loaded=False, watermark=None)
        return State(True, _parse_watermark(watermark), Marks.from_json(marks), reconciled_at)

    def quarantined_keys(self) -> pl.DataFrame:
        """Keys of quarantined rows (those with a key), as key columns of text."""
        if not self.quarantined:  # as of `open`; nothing of this run was quarantined yet
            return pl.DataFrame(schema={k: pl.String for k in self.spec.primary_key})
        return self._key_columns(
            f"SELECT DISTINCT source_pk AS k FROM {QUARANTINE} "
            f"WHERE source_table = '{self.spec.name}' AND source_pk IS NOT NULL"
        )

    def _key_columns(self, key_text_query: str) -> pl.DataFrame:
        pks = self.spec.primary_key
        if len(pks) == 1:
            select = f"k AS {quote(pks[0])}"
        else:
            select = ", ".join(f"json_extract_string(k, '$.{k}') AS {quote(k)}" for k in pks)
        return fetch_frame(self.conn, f"SELECT {select} FROM ({key_text_query})")

    # ----------------------------------------------------------------------------- staging

    def start(self, first_load: bool, large_read: bool) -> None:
        """Prepare the run; a first load writes into raw itself (left empty first). The scratch
        tables are made when first used: a run that reads no row and compares no key makes none."""
        self.direct = first_load
        self.stage_on_disk = large_read
        self.staged = self.bad_rows = 0
        self.deletions = self.has_seen = False
        temp = "" if large_read else "TEMP "
        self.scratch_ddl = {
            "bad": "CREATE OR REPLACE TEMP TABLE "
            "(source_pk VARCHAR, row_hash VARCHAR, reasons VARCHAR, row_json VARCHAR, row_length BIGINT)",
            "deleted": "CREATE OR REPLACE TEMP TABLE (source_pk VARCHAR)",
            "ok": f"CREATE OR REPLACE {temp}TABLE AS SELECT * FROM {self.raw} LIMIT 0",
        }
        if first_load:
            self.conn.execute(f"DELETE FROM {self.raw}")  # rows a version without one transaction left

    def _made(self, part: str) -> str:
        """The scratch table `part` ("bad", "deleted", "ok"), made on first use in this run."""
        name = self.scratch(part)
        if name not in self.created:
            self._create(self.scratch_ddl[part], part)
        return name

    @property
    def target(self) -> str:
        """Where the rows read go: raw itself on a first load, else the staged rows."""
        return self.raw if self.direct else self._made("ok")

    def _create(self, statement: str | tuple[str, ...], part: str | tuple[str, ...]) -> str:
        """Run `statement` with TABLE as the scratch table `part` (or several of each); they are
        dropped at the end of the run."""
        statements, parts = ((statement,), (part,)) if isinstance(statement, str) else (statement, part)
        names = [self.scratch(p) for p in parts]
        self.conn.execute(
            ";\n".join(s.replace(" TABLE ", f" TABLE {n} ", 1) for s, n in zip(statements, names, strict=True))
        )
        self.created.extend(n for n in names if n not in self.created)
        return names[0]

    def reconcile(self, source_keys: pl.DataFrame) -> pl.DataFrame:
        """Compare the source's keys with raw and quarantine (inside DuckDB, where it is cheap).

        Keys the warehouse holds and the source lost are marked deleted; returns the keys the
        source has and the warehouse lacks (rows that committed behind the window), as key columns.
        """
        c = self.conn
        c.register("source_keys", source_keys)
        source = self._create(
            f"CREATE OR REPLACE TEMP TABLE AS SELECT DISTINCT {self.key} AS k FROM source_keys", "source_keys"
        )
        c.unregister("source_keys")
        known = self._create(
            f"CREATE OR REPLACE TEMP TABLE AS SELECT {self.key} AS k FROM {self.raw} UNION "
            f"SELECT source_pk FROM {QUARANTINE} WHERE source_table = '{self.spec.name}' AND source_pk IS NOT NULL",
            "known_keys",
        )
        gone = scalar(c, f"INSERT INTO {self._made('deleted')} SELECT k FROM {known} EXCEPT SELECT k FROM {source}")
        self.deletions = self.deletions or bool(gone)
        return self._key_columns(f"SELECT k FROM {source} EXCEPT SELECT k FROM {known}")

    def add(self, ok: pl.DataFrame, bad: pl.DataFrame | None) -> None:
        """ok: typed contract columns (DuckDB casts uuid and json on insert); bad: source_pk, reasons,
        row_json (values cut to MAX_QUARANTINED_VALUE) and row_json_full (hashed and measured here)."""
        if ok.height:
            self.conn.register("batch_ok", ok.to_arrow(compat_level=pl.CompatLevel.oldest()))
            self.conn.execute(f"INSERT INTO {self.target} BY NAME SELECT * FROM batch_ok")
            self.conn.unregister("batch_ok")
            self.staged += ok.height
        if bad is not None and bad.height:
            self.bad_rows += bad.height
            self.conn.register("batch_bad", bad.to_arrow())
            self.conn.execute(
                f"INSERT INTO {self._made('bad')} SELECT source_pk, md5(row_json_full), reasons, row_json, "
                "length(row_json_full) FROM batch_bad"
            )
            self.conn.unregister("batch_bad")

    def screen(self, unique_key: bool = False) -> None:
        """Move staged rows with a duplicated key or a dangling reference to the bad rows.

        `unique_key`: the source guarantees one row per key (a unique index), so no key can repeat.
        """
        if self.staged == 0:
            return  # nothing staged: nothing to screen (bad rows never enter raw)
        c = self.conn
        if not unique_key:
            dups = self._create(
                "CREATE OR REPLACE TEMP TABLE AS SELECT source_pk, count(*) AS n "
                f"FROM {self._seen()} GROUP BY source_pk HAVING count(*) > 1",
                "dups",
            )
            if scalar(c, f"SELECT count(*) FROM {dups}"):
                bad = self._made("bad")
                c.execute(
                    f"UPDATE {bad} SET reasons = reasons || '; duplicate primary key: ' || d.n || ' source rows share it' "
                    f"FROM {dups} d WHERE {bad}.source_pk = d.source_pk"
                )
                self._move(
                    "SELECT s.*, 'duplicate primary key: ' || d.n || ' source rows share it' AS reasons "
                    f"FROM {self.target} s JOIN {dups} d ON d.source_pk = {key_text_sql(self.spec, 's')}"
                )
        failures, joins = [], []
        for i, col in enumerate(col for col in self.spec.columns if col.references):
            parent_table, parent_col = col.references.split(".")
            parent = table(parent_table)
            c.execute(raw_table_ddl(parent))  # a parent never loaded has no rows yet
            alias = f"p{i}"
            joins.append(
                f"LEFT JOIN (SELECT DISTINCT {quote(parent_col)} AS v FROM {raw_table(parent)}) {alias} "
                f"ON {alias}.v = s.{quote(col.name)}"
            )
            failures.append(
                (
                    f"s.{quote(col.name)} IS NOT NULL AND {alias}.v IS NULL",
                    f"'{col.name}: ' || CAST(s.{quote(col.name)} AS VARCHAR) || ' not found in {parent.qualified_name}'",
                )
            )
        if failures:
            reasons = (
                "concat_ws('; ', " + ", ".join(f"CASE WHEN {cond} THEN {text} END" for cond, text in failures) + ")"
            )
            where = " OR ".join(f"({cond})" for cond, _ in failures)
            self._move(f"SELECT s.*, {reasons} AS reasons FROM {self.target} s {' '.join(joins)} WHERE {where}")

    def _seen(self) -> str:
        """The keys this run read (loaded or bad), made once when first needed."""
        if not self.has_seen:
            self._create(
                f"CREATE OR REPLACE TEMP TABLE AS SELECT {self.key} AS source_pk FROM {self.target} "
                f"UNION ALL SELECT source_pk FROM {self._made('bad')} WHERE source_pk IS NOT NULL",
                "seen",
            )
            self.has_seen = True
        return self.scratch("seen")

    def _move(self, select_with_reasons: str) -> None:
        moving = self._create(f"CREATE OR REPLACE TEMP TABLE AS {select_with_reasons}", "moving")
        moved = scalar(self.conn, f"SELECT count(*) FROM {moving}")
        if moved == 0:
            return
        cols = ", ".join(quote(c) for c in self.spec.column_names)
        capped = ", ".join(f"{quote(c.name)} := {_capped_sql(c.name, c.type)}" for c in self.spec.columns)
        self.conn.execute(
            f"INSERT INTO {self._made('bad')} SELECT {key_text_sql(self.spec, 'm')}, md5(j), m.reasons, "
            f"to_json(struct_pack({capped}))::VARCHAR, length(j) "
            f"FROM (SELECT *, to_json(struct_pack({cols}))::VARCHAR AS j FROM {moving}) m"
        )
        self.conn.execute(
            f"DELETE FROM {self.target} WHERE {self.key} IN (SELECT {key_text_sql(self.spec, 'm')} FROM {moving} m)"
        )
        self.bad_rows += moved
        self.staged -= moved

    def mark_unseen_deleted(self) -> None:
        """After a full read: what the warehouse has and the read did not see is gone from the source."""
        seen = self._seen()
        gone = scalar(
            self.conn,
            f"INSERT INTO {self._made('deleted')} SELECT {self.key} FROM {self.raw} EXCEPT SELECT source_pk FROM {seen}",
        )
        gone += scalar(
            self.conn,
            f"INSERT INTO {self._made('deleted')} SELECT DISTINCT source_pk FROM {QUARANTINE} WHERE source_table = ? "
            f"AND source_pk IS NOT NULL AND source_pk NOT IN (SELECT source_pk FROM {seen})",
            [self.spec.name],
        )
        self.deletions = self.deletions or bool(gone)

    # ------------------------------------------------------------------------------- apply

    def apply(
        self, mode: str, started_at: dt.datetime, outcome: Outcome, rows_read: int, absent: tuple[str, ...] = ()
    ) -> Applied:
        """Write the staged run into raw, quarantine and state (inside the caller's transaction).

        `outcome.watermark` and `outcome.marks` are where the next incremental read starts; `absent`:
        the optional contract columns the source lacks (read as null), recorded in ops.absent_columns.
        """
        c, raw = self.conn, self.raw
        deleted = 0
        if self.deletions:
            deleted_keys = self._made("deleted")
            deleted = scalar(c, f"DELETE FROM {raw} WHERE {self.key} IN (SELECT source_pk FROM {deleted_keys})")
            c.execute(
                f"DELETE FROM {QUARANTINE} WHERE source_table = ? AND source_pk IN (SELECT source_pk FROM {deleted_keys})",
                [self.spec.name],
            )
        if self.direct:
            ok = upserted = scalar(c, f"SELECT count(*) FROM {raw}")
        elif self.staged == 0:
            ok = upserted = 0
        else:
            # the old versions of the rows read leave raw in one pass over its keys (comparing
            # first took a pass over every column, and deleting a second one); the rows go back in
            # as read, and only those that differ from their old version count as upserts
            staged = self._made("ok")
            old = self._create(
                f"CREATE OR REPLACE TEMP TABLE AS WITH d AS (DELETE FROM {raw} WHERE {self.key} IN "
                f"(SELECT {self.key} FROM {staged}) RETURNING *) SELECT * FROM d",
                "old",
            )
            upserted = scalar(c, f"SELECT count(*) FROM (SELECT * FROM {staged} EXCEPT SELECT * FROM {old})")
            c.execute(f"INSERT INTO {raw} SELECT * FROM {staged}")
            ok = self.staged
        if self.bad_rows or self.quarantined:  # (deletes above only empty it: then this is a no-op)
            self._apply_quarantine(started_at)
        self._record(mode, started_at, outcome, rows_read, ok, upserted, deleted)
        self._record_absent(absent)
        return Applied(rows_ok=ok, rows_quarantined=self.bad_rows, rows_upserted=upserted, rows_deleted=deleted)

    def _record(
        self, mode: str, started_at: dt.datetime, outcome: Outcome, rows_read: int, ok: int, upserted: int, deleted: int
    ) -> None:
        """The new state (where the next read starts) and the run record."""
        c = self.conn
        finished = dt.datetime.now(dt.UTC)
        marks = outcome.marks.to_json() if outcome.marks else None
        watermark = _format_watermark(outcome.watermark)
        state = [watermark, finished, marks, outcome.reconciled_at, self.spec.name]
        # an UPDATE of the row that is there costs a third of an INSERT OR REPLACE
        updated = "UPDATE ops.ingest_state SET watermark = ?, loaded_at = ?, source_marks = ?, reconciled_at = ? "
        if not scalar(c, f"{updated} WHERE table_name = ?", state):
            c.execute(
                "INSERT INTO ops.ingest_state (watermark, loaded_at, source_marks, reconciled_at, table_name) "
                "VALUES (?, ?, ?, ?, ?)",
                state,
            )
        c.execute(
            "INSERT INTO ops.ingest_runs (table_name, started_at, finished_at, mode, rows_read, rows_ok, "
            "rows_quarantined, rows_upserted, rows_deleted, watermark, change_marker, keys_compared, why) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [self.spec.name, started_at, finished, mode, rows_read, ok, self.bad_rows, upserted, deleted, watermark,
             outcome.marker, outcome.keys_compared, outcome.why],
        )  # fmt: skip

    def _record_absent(self, absent: tuple[str, ...]) -> None:
        if not absent and not self.was_absent:
            return  # nothing recorded, nothing to record
        c, now = self.conn, dt.datetime.now(dt.UTC)
        c.execute(f"DELETE FROM {ABSENT_COLUMNS} WHERE table_name = ?", [self.spec.name])
        for column in absent:
            c.execute(
                f"INSERT INTO {ABSENT_COLUMNS} VALUES (?, ?, ?, ?)",
                [self.spec.name, column, self.spec.column(column).since, now],
            )

    def quarantine_reasons(self) -> dict[str, int]:
        """Rows quarantined by this run, by their first reason."""
        rows = self.conn.execute(
            f"SELECT split_part(reasons, ';', 1), count(*) FROM {self._made('bad')} GROUP BY 1 ORDER BY 2 DESC LIMIT 10"
        ).fetchall()
        return dict(rows)

    def drop_scratch(self) -> None:
        """Drop this run's scratch tables, and any a run of this table that died after its commit left
        on disk (found by `open`; a run that dies before its commit leaves none)."""
        names = self.created + [f'scratch."{name}"' for name in self.leftovers]
        if names:
            self.conn.execute(";\n".join(f"DROP TABLE IF EXISTS {name}" for name in dict.fromkeys(names)))
        self.created, self.leftovers = [], ()

    def _apply_quarantine(self, now: dt.datetime) -> None:
        """Rows read this run leave quarantine unless they are bad again; bad ones are (re)recorded.

        Keyless rows are re-read on every run, so their old records are always replaced.
        """
        c, name, bad = self.conn, self.spec.name, self._made("bad")
        match = "q.source_pk IS NOT DISTINCT FROM b.source_pk AND q.row_hash = b.row_hash"
        c.execute(
            f"DELETE FROM {QUARANTINE} q WHERE q.source_table = ? "
            f"AND (q.source_pk IS NULL OR q.source_pk IN (SELECT source_pk FROM {self._seen()})) "
            f"AND NOT EXISTS (SELECT 1 FROM {bad} b WHERE {match})",
            [name],
        )
        c.execute(
            f"UPDATE {QUARANTINE} q SET reasons = b.reasons, last_seen_at = ?, row_json = b.row_json, "
            f"row_length = b.row_length FROM {bad} b WHERE q.source_table = ? AND {match}",
            [now, name],
        )
        c.execute(
            f"INSERT INTO {QUARANTINE} (source_table, source_pk, reasons, row_json, first_seen_at, last_seen_at, "
            f"row_hash, row_length) SELECT ?, b.source_pk, b.reasons, b.row_json, ?, ?, b.row_hash, b.row_length "
            f"FROM {bad} b "
            f"WHERE NOT EXISTS (SELECT 1 FROM {QUARANTINE} q WHERE q.source_table = ? AND {match})",
            [name, now, now, name],
        )


def _capped_sql(column: str, type_: ColumnType) -> str:
    """The value for row_json: text and JSON cut to MAX_QUARANTINED_VALUE characters."""
    if type_ not in (ColumnType.TEXT, ColumnType.JSON_TEXT, ColumnType.JSONB):
        return f"m.{quote(column)}"
    text = f"CAST(m.{quote(column)} AS VARCHAR)"
    cut = f"to_json(left({text}, {MAX_QUARANTINED_VALUE}) || '… [cut: ' || length({text}) || ' characters in all]')"
    return f"CASE WHEN length({text}) > {MAX_QUARANTINED_VALUE} THEN {cut} ELSE to_json(m.{quote(column)}) END"


def _format_watermark(value: dt.datetime | int | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value if isinstance(value, int) else value.astimezone(dt.UTC).isoformat())


def _parse_watermark(text: str | None) -> dt.datetime | int | None:
    if text is None:
        return None
    value = json.loads(text)
    return value if isinstance(value, int) else dt.datetime.fromisoformat(value)
