"""Every SQL model as a Dagster asset; its tests as asset checks next to it.

Each capability asks for its own folder (`sql_model_assets("marts", ...)`) and adds its freshness
promise; the models themselves are read once for the whole project, so dependencies and cycles
are checked across folders.
"""

import hashlib
from pathlib import Path

import dagster as dg

from assets.resources import Warehouse
from neuroerp.project import EXTERNAL, SQL_ROOT, project_models
from neuroerp.sqlmodels import Model, TestOutcome, build, load_models, run_test


def relation_key(relation: str) -> dg.AssetKey:
    """The asset of a warehouse relation: `raw.customers` -> raw/customers."""
    return dg.AssetKey(relation.split("."))


def _owners(model: Model) -> list[str] | None:
    if not model.owner:
        return None
    return [model.owner if "@" in model.owner or model.owner.startswith("team:") else f"team:{model.owner}"]


def _tags(model: Model) -> dict[str, str]:
    tags = {t: "" for t in model.tags}
    if model.rule:
        tags |= {"compliance/area": model.rule.area, "compliance/severity": model.rule.severity}
    return tags


def _definition_metadata(model: Model, root: Path) -> dict:
    metadata = {
        "dagster/table_name": model.relation,
        "materialized": model.materialized,
        "path": dg.MetadataValue.path(str(model.path.relative_to(root.parent))),
        "sql": dg.MetadataValue.md(f"```sql\n{model.query}\n```"),
    }
    if model.columns:
        metadata["dagster/column_schema"] = dg.TableSchema(
            columns=[dg.TableColumn(name, "", description=text or None) for name, text in model.columns.items()]
        )
    if model.rule:
        metadata |= {
            "rule_id": model.rule.id,
            "legal_basis": model.rule.legal_basis,
            "recommendation": model.rule.recommendation,
        }
    return metadata


def _check_result(outcome: TestOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=outcome.test.name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR if outcome.test.severity == "error" else dg.AssetCheckSeverity.WARN,
        metadata={
            "failing_rows": outcome.failing_rows,
            "sample": dg.MetadataValue.json(outcome.sample),
            "query": dg.MetadataValue.md(f"```sql\n{outcome.test.sql}\n```"),
        },
    )


def build_model_asset(
    model: Model,
    root: Path = SQL_ROOT,
    freshness_policy: dg.FreshnessPolicy | None = None,
) -> dg.AssetsDefinition:
    key = relation_key(model.relation)
    checks = [
        dg.AssetCheckSpec(
            t.name,
            asset=key,
            description=f"{t.description} ({t.kind}, severity {t.severity})",
            blocking=t.severity == "error",
        )
        for t in model.tests
    ]
    config_schema = (
        {name: dg.Field(str, is_required=False, description=text) for name, text in model.variables.items()}
        if model.variables
        else None
    )

    @dg.asset(
        key=key,
        deps=[relation_key(r) for r in model.upstream],
        group_name=model.schema,
        kinds={"duckdb", "sql"},
        description=model.description or f"SQL model {model.relation} ({model.path.name}).",
        owners=_owners(model),
        tags=_tags(model),
        check_specs=checks,
        code_version=hashlib.sha1(model.sql.encode()).hexdigest()[:12],
        metadata=_definition_metadata(model, root),
        config_schema=config_schema,
        freshness_policy=freshness_policy,
        pool="duckdb_warehouse",
    )
    def sql_model(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        variables = {k: v for k, v in (context.op_execution_context.op_config or {}).items() if v not in (None, "")}
        with warehouse.connect() as conn:
            built = build(conn, model, variables)
            outcomes = [run_test(conn, t) for t in model.tests]
        for o in outcomes:
            if not o.passed:
                context.log.warning(f"{model.relation}: test {o.test.name} found {o.failing_rows} rows")
        metadata = {
            "materialized": built.materialized,
            "duration_s": round(built.seconds, 3),
            "dagster/column_schema": dg.TableSchema(
                columns=[
                    dg.TableColumn(name, type_, description=model.columns.get(name)) for name, type_ in built.columns
                ]
            ),
        }
        if variables:
            metadata["run_values"] = dg.MetadataValue.json(variables)
        if built.rows is not None:
            metadata["dagster/row_count"] = built.rows
        return dg.MaterializeResult(metadata=metadata, check_results=[_check_result(o) for o in outcomes])

    return sql_model


def sql_model_assets(schema: str, freshness_policy: dg.FreshnessPolicy | None = None) -> list[dg.AssetsDefinition]:
    """The assets of one folder of `dbt_like_sql/` (one capability)."""
    return [build_model_asset(m, freshness_policy=freshness_policy) for m in project_models() if m.schema == schema]


def load_sql_assets(root: Path, external: set[str] = EXTERNAL) -> list[dg.AssetsDefinition]:
    """Assets for every model of another folder (tests, experiments)."""
    return [build_model_asset(m, root) for m in load_models(root, set(external))]
