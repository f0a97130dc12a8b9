"""The ERP source as the pipeline finds it: does it follow the contract, and how big is it."""

import datetime as dt

import dagster as dg

from assets.freshness import EVERY_15_MINUTES
from assets.resources import ErpSource, Warehouse
from neuroerp.contract import TABLES
from neuroerp.source.database import contract_deviations, row_counts
from neuroerp.source.profile import write_profile

CONTRACT_CHECK = dg.AssetCheckSpec(
    "follows_contract",
    asset="erp_source_profile",
    description="Every table and column of the ERP source contract exists in the source.",
    blocking=True,
)


@dg.asset(
    group_name="source",
    kinds={"sqlalchemy", "duckdb"},
    owners=["team:data-platform"],
    freshness_policy=EVERY_15_MINUTES,
    check_specs=[CONTRACT_CHECK],
)
def erp_source_profile(context: dg.AssetExecutionContext, erp_source: ErpSource, warehouse: Warehouse):
    """Row counts per contract table of the ERP source, kept in `ops.source_profile`.

    The check next to it fails when the source lacks a contract table or column, so nothing
    downstream reads a database that does not follow the contract.
    """
    with erp_source.engine() as engine:
        problems = erp_source.call(lambda: contract_deviations(engine), on_retry=context.log.warning)
        counts = {} if problems else erp_source.call(lambda: row_counts(engine), on_retry=context.log.warning)
    with warehouse.connect() as conn:
        write_profile(conn, counts, erp_source.dialect, dt.datetime.now(dt.UTC))
    for problem in problems:
        context.log.error(problem)
    markdown = "| table | rows |\n|---|---:|\n" + "\n".join(
        f"| {t.qualified_name} | {counts.get(t.name, 'n/a')} |" for t in TABLES
    )
    return dg.MaterializeResult(
        metadata={
            "source_dialect": erp_source.dialect,
            "tables": len(TABLES),
            "rows_total": sum(counts.values()),
            "row_counts": dg.MetadataValue.md(markdown),
            "dagster/row_count": len(TABLES),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="follows_contract",
                passed=not problems,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"problems": dg.MetadataValue.json(problems)},
            )
        ],
    )
