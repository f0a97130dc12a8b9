"""`neuroerp`: seed demo data, run the pipeline in-process, try the service on a fresh machine."""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from neuroerp.settings import apply_defaults

console = Console(stderr=True)
DEMO_SCALE = 0.05


@click.group(help="NeuroERP analytics and compliance service.")
def main() -> None:
    pass


# ------------------------------------------------------------------------------------- seed


@main.command(help="Write deterministic demo ERP data into a contract database (PostgreSQL or SQLite).")
@click.option("--source-url", envvar="NEUROERP_SOURCE_URL", required=True, help="SQLAlchemy URL of the target.")
@click.option("--scale", type=float, default=0.01, show_default=True, help="1 is about 20k customers, 1M order lines.")
@click.option("--seed", "seed_value", type=int, default=42, show_default=True, help="Same seed, same data.")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None, help="The data's today (default: today).")
@click.option("--create-schema", is_flag=True, help="Create the domain schemas and contract tables first.")
@click.option("--replace", is_flag=True, help="Empty the contract tables before writing.")
@click.option("--manifest", type=click.Path(path_type=Path), default=None,
              help="Where to write the planted-violation manifest (default: NEUROERP_HOME/seed-manifest.json).")  # fmt: skip
def seed(source_url: str, scale: float, seed_value: int, as_of, create_schema: bool, replace: bool, manifest) -> None:
    settings = apply_defaults()
    result = _seed(
        source_url, scale, seed_value, as_of.date() if as_of else None, create_schema, replace,
        manifest or settings.home / "seed-manifest.json",
    )  # fmt: skip
    total = sum(result.rows.values())
    console.print(
        f"[green]seeded[/green] {total:,} rows into {len(result.rows)} tables "
        f"(generate {result.seconds_generate:.1f} s, write {result.seconds_write:.1f} s); "
        f"{len(result.manifest['planted'])} planted violations listed in {result.manifest_path}"
    )


def _seed(url: str, scale: float, seed_value: int, as_of, create_schema: bool, replace: bool, manifest_path: Path):
    from neuroerp.seed import SeedError, seed_source

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        stage = progress.add_task("generating", total=None)
        write = None

        def on_stage(message: str) -> None:
            progress.update(stage, description=message)

        def on_write(total: int, n: int) -> None:
            nonlocal write
            if write is None:
                progress.remove_task(stage)
                write = progress.add_task("writing rows", total=total)
            progress.advance(write, n)

        try:
            return seed_source(
                url, scale=scale, seed=seed_value, as_of=as_of, create_schema=create_schema, replace=replace,
                manifest_path=manifest_path, on_stage=on_stage, on_write=on_write,
            )  # fmt: skip
        except SeedError as exc:
            raise click.ClickException(str(exc)) from exc


# ------------------------------------------------------------------------------ materialize


@main.command(help="Materialise all assets (or a Dagster selection) once, in-process.")
@click.option("--select", "selection", default=None, help='Dagster asset selection, e.g. "group:ingest_crm".')
def materialize(selection: str | None) -> None:
    apply_defaults()
    ok = run_materialization(selection)
    sys.exit(0 if ok else 1)


def run_materialization(selection: str | None = None) -> bool:
    """Run the selection in-process with a progress bar; print a summary; True when all succeeded."""
    import dagster as dg

    from pipelines.definitions import defs

    asset_graph = defs.resolve_asset_graph()
    keys = (
        dg.AssetSelection.from_string(selection).resolve(asset_graph) if selection else asset_graph.get_all_asset_keys()
    )
    if not keys:
        raise click.ClickException(f"the selection {selection!r} matches no asset")
    tracker = _StepTracker(len(keys))

    @dg.logger
    def progress_logger(_init_context) -> logging.Logger:
        log = logging.getLogger("neuroerp.materialize")
        log.handlers = [tracker]
        log.setLevel(logging.DEBUG)
        log.propagate = False
        return log

    job = dg.define_asset_job(
        "neuroerp_cli_materialize", selection=dg.AssetSelection.assets(*keys).required_multi_asset_neighbors()
    )
    run_defs = dg.Definitions.merge(defs, dg.Definitions(jobs=[job], loggers={"progress": progress_logger}))
    instance = _instance()
    started = time.perf_counter()
    with tracker.progress:
        result = run_defs.resolve_job_def(job.name).execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"progress": {}}},
        )
    _print_summary(result, time.perf_counter() - started)
    for message in tracker.errors:
        console.print(f"[red]error[/red] {message}")
    failed_checks = [
        e for e in result.get_asset_check_evaluations() if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]
    return result.success and not failed_checks


def _instance():
    """The Dagster instance under DAGSTER_HOME; the first opening (which creates its storage)
    is serialised across processes, so concurrent CLI runs on a fresh home do not race."""
    import fcntl
    import os

    import dagster as dg

    lock_path = Path(os.environ["DAGSTER_HOME"]) / ".instance.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return dg.DagsterInstance.get()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class _StepTracker(logging.Handler):
    """Turns Dagster's step events into a progress bar and keeps failures for the summary."""

    def __init__(self, total: int) -> None:
        super().__init__(level=logging.DEBUG)
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console,
        )  # fmt: skip
        self.task = self.progress.add_task("materialising", total=total)
        self.errors: list[str] = []  # what assets logged at ERROR level

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        if event is None:
            if record.levelno >= logging.ERROR:
                self.errors.append(record.getMessage())
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self.progress.update(self.task, description=f"running {event.step_key}")
        elif kind == "ASSET_MATERIALIZATION":
            self.progress.advance(self.task)


def _print_summary(result, seconds: float) -> None:
    import dagster as dg

    table = Table(title=f"materialisation {'succeeded' if result.success else 'FAILED'} in {seconds:.1f} s")
    for column in ("asset", "rows", "checks"):
        table.add_column(column)
    checks: dict[str, list[str]] = {}
    passed: dict[str, int] = {}
    for evaluation in result.get_asset_check_evaluations():
        key = evaluation.asset_key.to_user_string()
        if evaluation.passed:
            passed[key] = passed.get(key, 0) + 1
        else:
            mark = "FAILED" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warns"
            checks.setdefault(key, []).append(f"{evaluation.check_name}: {mark}")
    for key, n in passed.items():
        checks.setdefault(key, []).insert(0, f"{n} ok")
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        key = mat.asset_key.to_user_string()
        rows = mat.metadata.get("dagster/row_count")
        table.add_row(
            key, f"{rows.value:,}" if isinstance(rows, dg.IntMetadataValue) else "", ", ".join(checks.get(key, []))
        )
    console.print(table)
    for failure in result.get_step_failure_events():
        error = failure.event_specific_data.error
        while error.cause is not None:  # the user's exception, not Dagster's wrapper
            error = error.cause
        console.print(f"[red]failed[/red] {failure.step_key}: {error.cls_name}: {error.message.strip()}")


# ------------------------------------------------------------------------------------- demo


@main.command(help="Create the embedded demo ERP if missing, materialise everything, print a summary.")
@click.option("--scale", type=float, default=DEMO_SCALE, show_default=True, help="Size of a new demo ERP.")
@click.option("--seed", "seed_value", type=int, default=42, show_default=True)
def demo(scale: float, seed_value: int) -> None:
    settings = apply_defaults()
    console.print(f"data home: {settings.home}")
    if settings.uses_demo_source:
        database = settings.home / "demo-erp.sqlite"
        if not database.exists():
            console.print(f"creating the demo ERP (scale {scale}) at {database}")
            _seed(settings.source_url, scale, seed_value, dt.datetime.now(dt.UTC).date(), True, False,
                  settings.home / "seed-manifest.json")  # fmt: skip
        else:
            console.print(f"using the existing demo ERP at {database}")
    else:
        console.print(f"using the ERP source from NEUROERP_SOURCE_URL ({_redact(settings.source_url)})")
    ok = run_materialization()
    console.print(f"warehouse: {settings.warehouse_path}")
    console.print(f"reports:   {settings.reports_dir}")
    sys.exit(0 if ok else 1)


def _redact(url: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    main()
