"""Every SQL file under `dbt_like_sql/` as an asset, its tests as asset checks next to it."""

import hashlib
from pathlib import Path

import dagster as dg

from assets.ingest.raw_tables import raw_key
from neuroerp.contract import TABLES
from neuroerp.ingest import QUARANTINE
from neuroerp.sqlmodels import Model, build, load_models, run_test
from pipelines.resources import Warehouse

SQL_ROOT = Path(__file__).resolve().parents[2] / "dbt_like_sql"
RAW_RELATIONS = {f"raw.{t.name}": raw_key(t) for t in TABLES}
# warehouse relations that exist without a model (written by the ingest)
EXTERNAL = set(RAW_RELATIONS) | {
    QUARANTINE,
    "ops.ingest_runs",
    "ops.ingest_state",
    "ops.source_profile",
    # written by Python assets (assets/reference, assets/compliance)
    "reference.bvl_products",
    "reference.precursors",
    "compliance.audit_fingerprints",
    "compliance.violations",
}


def model_key(relation: str) -> dg.AssetKey:
    return RAW_RELATIONS.get(relation) or dg.AssetKey(relation.split("."))


def _owners(model: Model) -> list[str] | None:
    if not model.owner:
        return None
    return [model.owner if "@" in model.owner or model.owner.startswith("team:") else f"team:{model.owner}"]


def build_model_asset(model: Model, root: Path = SQL_ROOT) -> dg.AssetsDefinition:
    key = model_key(model.relation)
    checks = [
        dg.AssetCheckSpec(
            t.name,
            asset=key,
            description=f"{t.description} ({t.kind}, severity {t.severity})",
            blocking=t.severity == "error",
        )
        for t in model.tests
    ]
    deps = [model_key(r) for r in model.upstream]

    @dg.asset(
        key=key,
        deps=deps,
        group_name=model.schema,
        kinds={"duckdb", "sql"},
        description=model.description or f"SQL model {model.relation} ({model.path.name}).",
        owners=_owners(model),
        tags={t: "" for t in model.tags},
        check_specs=checks,
        code_version=hashlib.sha1(model.sql.encode()).hexdigest()[:12],
        metadata={
            "dagster/table_name": model.relation,
            "materialized": model.materialized,
            "path": dg.MetadataValue.path(str(model.path.relative_to(root.parent))),
            "sql": dg.MetadataValue.md(f"```sql\n{model.sql}\n```"),
        },
        pool="duckdb_warehouse",
    )
    def sql_model(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        with warehouse.connect() as conn:
            built = build(conn, model)
            outcomes = [run_test(conn, t) for t in model.tests]
        for o in outcomes:
            if not o.passed:
                context.log.warning(f"{model.relation}: test {o.test.name} found {o.failing_rows} rows")
        metadata = {
            "materialized": built.materialized,
            "duration_s": round(built.seconds, 3),
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(name, type_) for name, type_ in built.columns]
            ),
        }
        if built.rows is not None:
            metadata["dagster/row_count"] = built.rows
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[
                dg.AssetCheckResult(
                    check_name=o.test.name,
                    passed=o.passed,
                    severity=dg.AssetCheckSeverity.ERROR if o.test.severity == "error" else dg.AssetCheckSeverity.WARN,
                    metadata={
                        "failing_rows": o.failing_rows,
                        "sample": dg.MetadataValue.json(o.sample),
                        "query": dg.MetadataValue.md(f"```sql\n{o.test.sql}\n```"),
                    },
                )  # fmt: skip
                for o in outcomes
            ],
        )

    return sql_model


def load_sql_assets(root: Path = SQL_ROOT) -> list[dg.AssetsDefinition]:
    return [build_model_asset(m, root) for m in load_models(root, EXTERNAL)]
