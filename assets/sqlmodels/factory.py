"""Every SQL model as a Dagster asset; its tests as asset checks next to it.

Each capability asks for its own folder (`sql_model_assets("marts", ...)`) and adds its freshness
promise; the models themselves are read once for the whole project, so dependencies and cycles
are checked across folders.
"""

import hashlib
from collections.abc import Mapping
from pathlib import Path

import dagster as dg

from assets.resources import Warehouse
from assets.run_order import run_order_tags
from neuroerp.ingest.store import PER_TABLE_SIDE_WRITES
from neuroerp.project import EXTERNAL, SQL_ROOT, asset_relations, project_models
from neuroerp.sqlmodels import Built, Model, TestOutcome, build, load_models, producers, run_test

EVERY_RULE_EVALUATED = "every_rule_evaluated"
RULE_AREA_TAG = "compliance/area"  # on every rule's asset


def relation_key(relation: str, asset_of: Mapping[str, str] | None = None) -> dg.AssetKey:
    """The asset of a warehouse relation: `raw.customers` -> raw/customers. `asset_of` names the
    step that writes a relation on the side (compliance.rule_runs: compliance/current_violations)."""
    relation = (asset_relations() if asset_of is None else asset_of).get(relation, relation)
    return dg.AssetKey(relation.split("."))


def _deps(relations: list[str], asset_of: Mapping[str, str] | None) -> list[dg.AssetKey]:
    """The assets a model reads. What every ingest asset writes beside its raw table (the optional
    columns the source lacks) is no asset of its own: the model reads that raw table too."""
    return list(dict.fromkeys(relation_key(r, asset_of) for r in relations if r not in PER_TABLE_SIDE_WRITES))


def _owners(model: Model) -> list[str] | None:
    if not model.owner:
        return None
    return [model.owner if "@" in model.owner or model.owner.startswith("team:") else f"team:{model.owner}"]


def _tags(model: Model) -> dict[str, str]:
    tags = {t: "" for t in model.tags}
    if model.rule:
        tags |= {RULE_AREA_TAG: model.rule.area, "compliance/severity": model.rule.severity}
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


def _rules_check(built: Built) -> dg.AssetCheckResult:
    failed = built.failed_members
    return dg.AssetCheckResult(
        check_name=EVERY_RULE_EVALUATED,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "failed_rules": len(failed),
            "stale_areas": dg.MetadataValue.json(sorted({m.area for m in failed})),
            "errors": dg.MetadataValue.json({m.rule_id: m.error for m in failed}),
        },
    )


def _build_metadata(built: Built) -> dict:
    metadata: dict = {}
    if built.quarantined:
        metadata["quarantined_rows"] = dg.MetadataValue.json(built.quarantined)
        metadata["quarantined_total"] = sum(built.quarantined.values())
    if built.members:
        rows = "\n".join(
            f"| {m.rule_id} | {m.area} | {m.status} | {'' if m.findings is None else m.findings} | "
            f"{(m.error or '').replace('|', '/')[:200]} |"
            for m in built.members
        )
        metadata["rules"] = dg.MetadataValue.md(
            "| rule | area | status | findings | error |\n|---|---|---|---:|---|\n" + rows
        )
        metadata["rules_failed"] = len(built.failed_members)
        metadata["evaluated_at"] = dg.MetadataValue.timestamp(built.evaluated_at)
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
    asset_of: Mapping[str, str] | None = None,
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
    if model.members:
        checks.append(
            dg.AssetCheckSpec(
                EVERY_RULE_EVALUATED,
                asset=key,
                description=(
                    "Every rule evaluated without error (severity error, not blocking): a failing rule is left "
                    "out and recorded in compliance.rule_runs, its area's score goes stale, the rest goes on."
                ),
                blocking=False,
            )
        )
    config_schema = (
        {name: dg.Field(str, is_required=False, description=text) for name, text in model.variables.items()}
        if model.variables
        else None
    )

    @dg.asset(
        key=key,
        deps=_deps(model.upstream, asset_of),
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
        op_tags=run_order_tags(model.relation),
    )
    def sql_model(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        variables = {k: v for k, v in (context.op_execution_context.op_config or {}).items() if v not in (None, "")}
        with warehouse.connect() as conn:
            built = build(conn, model, variables, run_id=context.run.run_id)
            if model.rule:  # a rule view is evaluated here too, so its asset fails when its SQL does
                built.rows = conn.execute(f"SELECT count(*) FROM {model.relation}").fetchall()[0][0]
            outcomes = [run_test(conn, t) for t in model.tests]
        for o in outcomes:
            if not o.passed:
                context.log.warning(f"{model.relation}: test {o.test.name} found {o.failing_rows} rows")
        for m in built.failed_members:
            context.log.error(f"{model.relation}: rule {m.rule_id} failed, area {m.area} is stale: {m.error}")
        check_results = [_check_result(o) for o in outcomes] + ([_rules_check(built)] if model.members else [])
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
        metadata |= _build_metadata(built)
        return dg.MaterializeResult(metadata=metadata, check_results=check_results)

    return sql_model


def sql_model_assets(schema: str, freshness_policy: dg.FreshnessPolicy | None = None) -> list[dg.AssetsDefinition]:
    """The assets of one folder of `dbt_like_sql/` (one capability)."""
    return [build_model_asset(m, freshness_policy=freshness_policy) for m in project_models() if m.schema == schema]


def load_sql_assets(root: Path, external: set[str] = EXTERNAL) -> list[dg.AssetsDefinition]:
    """Assets for every model of another folder (tests, experiments)."""
    models = load_models(root, set(external))
    return [build_model_asset(m, root, asset_of=producers(models)) for m in models]
