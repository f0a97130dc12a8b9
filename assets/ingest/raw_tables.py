"""One asset per ERP contract table: its current state in `raw.<table>`, validated."""

import datetime as dt

import dagster as dg

from assets.freshness import EVERY_15_MINUTES
from assets.resources import ErpSource, Warehouse
from assets.run_order import run_order_tags
from assets.source.profile import erp_source_profile
from neuroerp.contract import Table, load_order, parents
from neuroerp.ingest import QUARANTINE, IngestOptions, ingest_table, reader_for
from neuroerp.warehouse import scalar

WAREHOUSE_POOL = "duckdb_warehouse"


class IngestConfig(dg.Config):
    full_refresh: bool = False
    """Read the whole table instead of what changed since the last run."""
    reconcile: bool = True
    """Compare every key with the source to find hard deletes, when the source may have deleted rows
    (PostgreSQL: its delete statistics moved; SQLite: every run)."""
    reconcile_every_hours: float = 24
    """Compare every key at least this often, whatever the statistics say: the safety net."""
    batch_rows: int = 200_000
    """Rows per batch: bounds memory on large tables."""
    overlap_minutes: int = 10
    """SQLite sources: how far behind the watermark to read again, for commits that land out of order
    (PostgreSQL reads by row version and needs no window)."""


def raw_key(spec: Table) -> dg.AssetKey:
    return dg.AssetKey(["raw", spec.name])


def _column_schema(spec: Table) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                c.name,
                c.type.duckdb_type,
                description=(f"one of {'|'.join(c.values)}" if c.values else None),
                constraints=dg.TableColumnConstraints(nullable=c.nullable, unique=spec.primary_key == (c.name,)),
            )
            for c in spec.columns
        ]
    )


def build_raw_asset(spec: Table) -> dg.AssetsDefinition:
    key = raw_key(spec)
    marker = "row version (xmin) on PostgreSQL" + (
        f", by `{spec.watermark_column}` on SQLite" if spec.watermark_column else ", whole on SQLite"
    )

    @dg.asset(
        key=key,
        group_name=f"ingest_{spec.domain}",
        kinds={"postgres", "duckdb", "pandera"},
        description=(
            f"{spec.description} Current state of `{spec.qualified_name}` in `raw.{spec.name}`, "
            f"read incrementally by {marker}; rows that fail validation go to `{QUARANTINE}`."
        ),
        deps=[erp_source_profile, *(raw_key(p) for p in parents(spec))],
        check_specs=[
            dg.AssetCheckSpec(
                "rows_balance",
                asset=key,
                blocking=True,
                description="Every row read lands once: rows read = rows loaded + rows quarantined.",
            ),
            dg.AssetCheckSpec(
                "nothing_quarantined",
                asset=key,
                description="No row of this table waits in quarantine (warns with the reasons).",
            ),
        ],
        pool=WAREHOUSE_POOL,
        op_tags=run_order_tags(f"raw.{spec.name}"),
        owners=["team:data-platform"],
        freshness_policy=EVERY_15_MINUTES,
        metadata={"dagster/column_schema": _column_schema(spec), "dagster/table_name": f"raw.{spec.name}"},
    )
    def raw_table(
        context: dg.AssetExecutionContext, config: IngestConfig, erp_source: ErpSource, warehouse: Warehouse
    ) -> dg.MaterializeResult:
        options = IngestOptions(
            batch_rows=config.batch_rows,
            overlap=dt.timedelta(minutes=config.overlap_minutes),
            reconcile=config.reconcile,
            reconcile_every=dt.timedelta(hours=config.reconcile_every_hours),
            full_refresh=config.full_refresh,
            retry=erp_source.retry,
        )
        with warehouse.connect() as conn:
            stats = ingest_table(reader_for(erp_source.url), conn, spec, options, on_retry=context.log.warning)
            waiting = scalar(conn, f"SELECT count(*) FROM {QUARANTINE} WHERE source_table = ?", [spec.name])
            waiting_reasons = conn.execute(
                f"SELECT split_part(reasons, ';', 1), count(*) FROM {QUARANTINE} WHERE source_table = ? "
                "GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
                [spec.name],
            ).fetchall()
            total = scalar(conn, f"SELECT count(*) FROM raw.{spec.name}")
        context.log.info(
            f"{spec.name}: {stats.mode} by {stats.marker}, read {stats.rows_read}, upserted {stats.rows_upserted}, "
            f"deleted {stats.rows_deleted}, quarantined {stats.rows_quarantined} in {stats.seconds:.2f} s "
            f"({stats.why})"
        )
        if stats.absent_columns:
            context.log.warning(
                f"{spec.name}: the source lacks the optional columns {', '.join(stats.absent_columns)} "
                "(contract 1.1): read as null, the rules that need them do not judge them"
            )
        watermark = stats.watermark.isoformat() if isinstance(stats.watermark, dt.datetime) else stats.watermark
        return dg.MaterializeResult(
            metadata={
                "mode": stats.mode,
                "change_marker": stats.marker,
                "keys_compared": stats.keys_compared,
                "why": stats.why,
                "rows_read": stats.rows_read,
                "rows_ok": stats.rows_ok,
                "rows_upserted": stats.rows_upserted,
                "rows_deleted": stats.rows_deleted,
                "rows_quarantined": stats.rows_quarantined,
                "watermark": str(watermark) if watermark is not None else "none",
                "duration_s": round(stats.seconds, 3),
                "rows_per_s": round(stats.rows_read / stats.seconds) if stats.seconds else 0,
                "dagster/row_count": total,
                # optional contract columns (1.1) the source lacks, read as null; said once per run
                "absent_optional_columns": dg.MetadataValue.json(list(stats.absent_columns)),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="rows_balance",
                    passed=stats.balanced,
                    metadata={
                        "rows_read": stats.rows_read,
                        "rows_ok": stats.rows_ok,
                        "rows_quarantined": stats.rows_quarantined,
                    },
                ),  # fmt: skip
                dg.AssetCheckResult(
                    check_name="nothing_quarantined",
                    passed=waiting == 0,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"waiting": waiting, "reasons": dg.MetadataValue.json(dict(waiting_reasons))},
                ),
            ],
        )

    return raw_table


raw_tables = [build_raw_asset(spec) for spec in load_order()]
