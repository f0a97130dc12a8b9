"""The asset graph as analysts see it: a snapshot that fails on an unintended rename, owners and
descriptions everywhere, freshness promises, and the layering of the code.

After an intended change: NEUROERP_UPDATE_SNAPSHOT=1 ./scripts/test tests/test_asset_graph.py
"""

import ast
import json
import os
from pathlib import Path

import dagster as dg

from neuroerp.events.routes import CASES_AND_SCORES
from neuroerp.project import project_models
from pipelines.definitions import defs

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def graph_snapshot() -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "owners": sorted(node.owners),
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "checks": sorted(c.name for c in node.check_keys),
        }
    return {
        "assets": assets,
        "jobs": sorted(j.name for j in defs.jobs),
        "schedules": sorted(s.name for s in defs.schedules),
        "sensors": sorted(s.name for s in defs.sensors),
    }


def _one_line_per_asset(snapshot: dict) -> str:
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in snapshot["assets"].items()]
    rest = [f'"{k}": {json.dumps(snapshot[k])}' for k in ("jobs", "schedules", "sensors")]
    return '{"assets": {\n' + ",\n".join(lines) + "\n},\n" + ",\n".join(rest) + "}\n"


def test_the_asset_graph_matches_its_snapshot():
    current = graph_snapshot()
    if os.environ.get("NEUROERP_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(_one_line_per_asset(current), encoding="utf-8")
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert sorted(current["assets"]) == sorted(expected["assets"]), "assets added, removed or renamed"
    for key, node in expected["assets"].items():
        assert current["assets"][key] == node, key
    assert {k: current[k] for k in ("jobs", "schedules", "sensors")} == {
        k: expected[k] for k in ("jobs", "schedules", "sensors")
    }


def test_every_asset_has_an_owner_a_description_kinds_and_a_freshness_promise():
    for spec in defs.resolve_all_asset_specs():
        name = spec.key.to_user_string()
        assert spec.owners, f"{name} has no owner"
        assert spec.description, f"{name} has no description"
        assert spec.kinds, f"{name} has no kinds"
        assert spec.freshness_policy is not None, f"{name} promises no freshness"


def test_every_check_is_described():
    for assets_def in defs.resolve_asset_graph().assets_defs:
        for spec in assets_def.check_specs:
            assert spec.description, f"{spec.asset_key.to_user_string()}:{spec.name} has no description"


def test_every_asset_is_in_a_scheduled_job():
    """Nothing goes stale silently: each asset is refreshed by a job that a schedule runs."""
    graph = defs.resolve_asset_graph()
    scheduled = {s.job_name for s in defs.schedules}
    covered = set()
    for job in defs.jobs:
        if job.name in scheduled:
            covered |= job.selection.resolve(graph)
    missing = graph.get_all_asset_keys() - covered
    assert not missing, sorted(k.to_user_string() for k in missing)


def test_a_run_builds_what_the_compliance_results_need_first_and_everything_else_later():
    """The run order (`assets/run_order.py`, from the project's declarations) agrees with Dagster's
    own graph: exactly the assets the cases, scores and alerts are built from run at the default
    priority; every other asset waits for them."""
    graph = defs.resolve_asset_graph()
    targets = [dg.AssetKey.from_user_string(k) for k in CASES_AND_SCORES]
    needed = dg.AssetSelection.assets(*targets).upstream().resolve(graph)
    later = {
        key
        for key in graph.get_all_asset_keys()
        if int(defs.resolve_assets_def(key).op.tags.get("dagster/priority", 0)) < 0
    }
    assert later == graph.get_all_asset_keys() - needed
    assert {dg.AssetKey(["marts", "customer_360"]), dg.AssetKey(["finance", "skonto_schedule"])} <= later
    assert dg.AssetKey(["finance", "supplier_ibans"]) in needed  # FIN-002 reads it: not later


def test_every_sql_model_is_an_asset_with_described_columns_where_officers_and_analysts_read():
    keys = {spec.key for spec in defs.resolve_all_asset_specs()}
    for model in project_models():
        assert dg.AssetKey(model.relation.split(".")) in keys, f"{model.path}: no capability loads {model.schema}/"
        if model.schema == "marts" or model.relation.startswith("compliance.current_violations") or model.rule:
            assert model.columns, f"{model.path}: describe the columns under columns:"


def test_the_code_location_is_named_neuroerp_however_it_starts():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'code_location_name = "neuroerp"' in pyproject.split("[tool.dg.project]")[1].split("[")[0]
    assert 'code_location_name = "neuroerp"' in pyproject.split("[tool.dagster]")[1].split("[")[0]
    assert "location_name: neuroerp" in (ROOT / "workspace.yaml").read_text()


# the layers: plain Python (neuroerp) <- assets and sensors <- the code location (pipelines)
FORBIDDEN = {
    "neuroerp": {"dagster", "assets", "sensors", "pipelines"},
    "assets": {"sensors", "pipelines"},
    "sensors": {"pipelines"},
}
# within neuroerp: writing demo data into a source must not load the ingest (pandera)
FORBIDDEN_WITHIN = {"neuroerp/source": {"neuroerp.ingest", "neuroerp.compliance"}, "neuroerp/seed": {"neuroerp.ingest"}}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_import_runs_upward():
    problems = []
    for package, banned in FORBIDDEN.items():
        for path in (ROOT / package).rglob("*.py"):
            for name in _imports(path):
                if name.split(".")[0] in banned:
                    problems.append(f"{path.relative_to(ROOT)} imports {name}")
    for folder, banned in FORBIDDEN_WITHIN.items():
        for path in (ROOT / folder).rglob("*.py"):
            problems += [f"{path.relative_to(ROOT)} imports {n}" for n in _imports(path) if n.startswith(tuple(banned))]
    assert not problems, "\n".join(problems)


def test_each_capability_has_one_name_in_every_layer():
    """A SQL folder is served by the asset folder of the same name."""
    sql = {p.name for p in (ROOT / "dbt_like_sql").iterdir() if p.is_dir()}
    asset_folders = {p.name for p in (ROOT / "assets").iterdir() if (p / "__init__.py").exists()}
    assert sql <= asset_folders, sql - asset_folders
