"""`neuroerp`: seed demo data, run the pipeline in-process, try the service on a fresh machine."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import shutil
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from neuroerp.settings import apply_defaults

console = Console(stderr=True)
PROJECT_ROOT = Path(__file__).resolve().parents[1]
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


RULE_ENV_PREFIX = "NEUROERP_COMPLIANCE_"


def _rule_overrides(given: tuple[str, ...]) -> dict[str, str]:
    """NAME=VALUE pairs for compliance.settings: NEUROERP_COMPLIANCE_<NAME> first, --rule wins."""
    overrides = {
        key.removeprefix(RULE_ENV_PREFIX).lower(): value
        for key, value in os.environ.items()
        if key.startswith(RULE_ENV_PREFIX) and value
    }
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r}: expected NAME=VALUE, e.g. eudr_application_date=2027-06-30")
        overrides[name.strip().lower()] = value.strip()
    return overrides


as_of_option = click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    envvar="NEUROERP_AS_OF",
    default=None,
    help="The day the compliance rules judge (default: today); recorded with the run.",
)


@main.command(help="Materialise all assets (or a Dagster selection) once, in-process.")
@click.option("--select", "selection", default=None, help='Dagster asset selection, e.g. "group:ingest_crm".')
@as_of_option
@click.option("--rule", "rules", multiple=True, metavar="NAME=VALUE",
              help="Override a value of compliance.settings for this run (repeatable); recorded with the run.")  # fmt: skip
def materialize(selection: str | None, as_of, rules: tuple[str, ...]) -> None:
    apply_defaults()
    ok = run_materialization(selection, as_of.date() if as_of else None, _rule_overrides(rules))
    sys.exit(0 if ok else 1)


def run_materialization(
    selection: str | None = None, as_of: dt.date | None = None, overrides: dict[str, str] | None = None
) -> bool:
    """Run the selection in-process with a progress bar; print a summary; True when all succeeded.

    The run is Dagster's ad-hoc asset job (as when materialising from the UI); the judged day and
    rule overrides go into its run configuration, so the UI shows what each run judged.
    """
    import dagster as dg

    from assets.compliance.run_config import AS_OF_TAG, SETTINGS_KEY, settings_run_config
    from pipelines.definitions import defs
    from pipelines.instance import fail_orphaned_runs, run_tags, shared_instance

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

    keys = dg.AssetSelection.assets(*keys).required_multi_asset_neighbors().resolve(asset_graph)
    day = as_of or dt.date.today()
    run_config: dict = {"loggers": {"progress": {}}}
    if SETTINGS_KEY in keys:
        run_config |= settings_run_config(day, overrides)
    elif overrides:
        raise click.ClickException("--rule only applies when the selection includes compliance/settings")
    if not _source_answers(defs, keys):
        return False
    run_defs = dg.Definitions.merge(defs, dg.Definitions(loggers={"progress": progress_logger}))
    instance = shared_instance()
    for run_id in fail_orphaned_runs(instance):
        console.print(f"[yellow]marked run {run_id} failed: its process had died; its pool slots are free again")
    started = time.perf_counter()
    with tracker.progress:
        result = run_defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance,
            asset_selection=list(keys),
            raise_on_error=False,
            run_config=run_config,
            tags={**run_tags(), AS_OF_TAG: day.isoformat(), "neuroerp/launched_by": "cli"},
        )
    _print_summary(result, time.perf_counter() - started)
    _print_failures(result, tracker)
    failed_checks = [
        e for e in result.get_asset_check_evaluations() if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]
    return result.success and not failed_checks


def _source_answers(defs, keys) -> bool:
    """Check the ERP source before the run when the selection reads it: an outage or a refused
    login ends here in seconds, with one message, before Dagster plans a run it cannot carry out.
    (Runs from the UI or a schedule meet the same check when their resources are set up.)"""
    from assets.resources import ErpSource
    from neuroerp.settings import SOURCE_VAR
    from neuroerp.source.connection import SourceUnavailable

    if not any("erp_source" in defs.resolve_assets_def(key).required_resource_keys for key in keys):
        return True
    started = time.perf_counter()
    try:
        ErpSource(url=os.environ[SOURCE_VAR]).check(on_retry=lambda message: console.print(f"[yellow]{message}"))
    except SourceUnavailable as exc:
        console.print(f"materialisation FAILED in {time.perf_counter() - started:.1f} s")
        _print_cause(SOURCE_CHECK, type(exc).__name__, str(exc))
        console.print("nothing ran: the run was not started")
        return False
    return True


SOURCE_CHECK = "ERP source check, before any step"


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
        self.not_run = 0  # steps Dagster did not start because a step they depend on failed

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        if event is None:
            if record.levelno >= logging.ERROR:
                message = getattr(record, "dagster_meta", {}).get("orig_message") or record.getMessage()
                if message.startswith("Dependencies for step ") and message.endswith("Not executing."):
                    self.not_run += 1
                else:
                    self.errors.append(message)
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
    if table.rows:
        console.print(table)
    else:
        console.print(table.title)


MORE_FAILURES_SHOWN = 3
MORE_ERRORS_SHOWN = 3


def _failures(result) -> list[tuple[str, str, str]]:
    """(where, exception class, message) of every failure, in the order they happened: a failed
    step, a resource that failed before any step (the ERP source check), or an error-severity check
    that failed (it blocks what depends on its asset). The root cause, not Dagster's wrappers."""
    import dagster as dg

    found = []
    for event in result.all_events:
        kind = event.event_type_value
        if kind == "ASSET_CHECK_EVALUATION":
            check = event.event_specific_data
            if not check.passed and check.severity == dg.AssetCheckSeverity.ERROR:
                rows, problems = check.metadata.get("failing_rows"), check.metadata.get("problems")
                if rows is not None:
                    said = f"{rows.value} failing rows"
                elif problems is not None and problems.value:
                    said = "; ".join(map(str, problems.value[:3])) + ("; ..." if len(problems.value) > 3 else "")
                else:
                    said = "see the check's metadata in the UI"
                found.append((check.asset_key.to_user_string(), "FailedCheck", f"{check.check_name}: {said}"))
            continue
        if kind == "STEP_FAILURE":
            where = event.step_key.replace("__", "/")
        elif kind == "RESOURCE_INIT_FAILURE":
            where = "resource setup, before any step"
        else:
            continue
        error = getattr(event.event_specific_data, "error", None)
        if error is None:
            continue
        while error.cause is not None and error.cls_name.startswith("Dagster"):  # the user's exception
            error = error.cause
        if error.cls_name == "DagsterAssetCheckFailedError":
            continue  # a blocking check failed: listed already, as the check
        if kind == "RESOURCE_INIT_FAILURE" and error.cls_name == "SourceUnavailable":
            where = SOURCE_CHECK
        message = re.sub(rf"^[\w.]*\b{re.escape(error.cls_name)}: ", "", error.message.strip())
        found.append((where, error.cls_name, message))
    return found


def _cause(cls: str, message: str) -> tuple[str, str]:
    """What makes two failures the same: the class and the first line; for an ERP source outage,
    the source and the kind of fault (the driver's words differ as a server goes down)."""
    first = (message.splitlines() or [""])[0]
    if cls == "SourceUnavailable":
        first = first.split(" (NEUROERP_SOURCE_URL)")[0]
    return cls, first


def _print_cause(where: str, cls: str, message: str) -> str:
    """The root cause on one line (never wrapped: tools read it), its advice indented below."""
    first, *rest = message.splitlines() or [""]
    console.print(f"[red]failed[/red] {where}: {cls}: {first}", soft_wrap=True, highlight=False)
    for line in rest[:5]:
        console.print(f"  {line.strip()}", soft_wrap=True, highlight=False)
    return first


def _print_failures(result, tracker: _StepTracker) -> None:
    """The cause first (the first line after the summary table), then a count of the rest.

    An outage makes every step that reads the source fail alike: one message, then how many more
    failed the same way, instead of hundreds of lines.
    """
    failures = _failures(result)
    if failures:
        where, cls, message = failures[0]
        first = _print_cause(where, cls, message)
        cause = _cause(cls, first)
        same = [w for w, c, m in failures[1:] if _cause(c, m) == cause]
        if same:
            shown = ", ".join(same[:5]) + (", ..." if len(same) > 5 else "")
            console.print(f"{len(same)} more steps failed with the same cause: {shown}", soft_wrap=True)
        other = [(w, c, m) for w, c, m in failures[1:] if _cause(c, m) != cause]
        for w, c, m in other[:MORE_FAILURES_SHOWN]:
            console.print(f"[red]failed[/red] {w}: {c}: {(m.splitlines() or [''])[0]}", soft_wrap=True)
        if len(other) > MORE_FAILURES_SHOWN:
            console.print(f"{len(other) - MORE_FAILURES_SHOWN} more steps failed (see the run in the UI)")
        if not any(e.event_type_value == "STEP_START" for e in result.all_events):
            console.print("nothing ran: the run stopped before its first step")
    if tracker.not_run:
        console.print(f"{tracker.not_run} steps not run: a step they depend on failed")
    messages = [m for m in dict.fromkeys(tracker.errors) if not any(m.strip() in f[2] for f in failures)]
    for message in messages[:MORE_ERRORS_SHOWN]:
        console.print(f"[red]error[/red] {message}", soft_wrap=True, highlight=False)
    if len(messages) > MORE_ERRORS_SHOWN:
        console.print(f"{len(messages) - MORE_ERRORS_SHOWN} more errors in the run's log")


# ------------------------------------------------------------------------------------- demo


@main.command(help="Create the embedded demo ERP if missing, materialise everything, print a summary.")
@click.option("--scale", type=float, default=DEMO_SCALE, show_default=True, help="Size of a new demo ERP.")
@click.option("--seed", "seed_value", type=int, default=42, show_default=True)
@as_of_option
def demo(scale: float, seed_value: int, as_of) -> None:
    settings = apply_defaults()
    day = as_of.date() if as_of else dt.datetime.now(dt.UTC).date()
    console.print(f"data home: {settings.home}")
    if settings.uses_demo_source:
        database = settings.home / "demo-erp.sqlite"
        if not database.exists():
            console.print(f"creating the demo ERP (scale {scale}) at {database}")
            _seed(settings.source_url, scale, seed_value, day, True, False,
                  settings.home / "seed-manifest.json")  # fmt: skip
        else:
            console.print(f"using the existing demo ERP at {database}")
    else:
        console.print(f"using the ERP source from NEUROERP_SOURCE_URL ({_redact(settings.source_url)})")
    ok = run_materialization(as_of=day, overrides=_rule_overrides(()))
    console.print(f"warehouse: {settings.warehouse_path}")
    console.print(f"reports:   {settings.reports_dir}")
    for tenant in sorted((settings.reports_dir / "compliance").glob("*")):
        latest = max(tenant.glob("*/report.pdf"), default=None)
        if latest is not None:
            console.print(f"  officer report {tenant.name}: {latest}")
    sys.exit(0 if ok else 1)


# -------------------------------------------------------------------------------- simulate


@main.command(help="A live ERP: keep writing orders, certificate changes, payments and their outbox events.")
@click.option(
    "--rate",
    type=click.FloatRange(min=0.01, max=1000),
    default=1.0,
    show_default=True,
    help="Business changes per second.",
)
@click.option("--source-url", default=None, help="ERP source to write into (default: NEUROERP_SOURCE_URL or the demo).")
@click.option("--max-events", type=click.IntRange(min=1), default=None, help="Stop after this many changes.")
@click.option("--seed", "seed_value", type=int, default=None, help="Same seed, same sequence of changes.")
def simulate(rate: float, source_url: str | None, max_events: int | None, seed_value: int | None) -> None:
    from neuroerp.events.simulate import Simulator, SimulatorError
    from neuroerp.source.connection import SourceUnavailable, with_source_retries

    settings = apply_defaults()
    url = source_url or settings.source_url
    try:
        simulator = with_source_retries(url, lambda: Simulator(url, seed=seed_value))
    except (SimulatorError, SourceUnavailable) as exc:
        console.print(f"[red]cannot simulate:[/red] {exc}")
        sys.exit(2)
    console.print(f"writing {rate:g} changes/s with outbox events into {_redact(url)}; Ctrl-C stops")
    started = time.monotonic()

    def report(event_type: str) -> None:
        total = sum(simulator.written.values())
        if total % max(1, int(rate * 10)) == 0:
            console.print(f"{total:,} changes in {time.monotonic() - started:.0f} s: {dict(simulator.written)}")

    try:
        written = simulator.run(rate, max_events=max_events, on_event=report)
    except KeyboardInterrupt:
        written = simulator.written
        console.print("stopped")
    console.print(f"[green]wrote[/green] {sum(written.values()):,} changes: {dict(written)}")


# --------------------------------------------------------------------------------- payments


@main.group(help="Payment runs (SEPA pain.001 files under NEUROERP_HOME/payments) and their ledger.")
def payments() -> None:
    pass


@payments.command("list", help="List the payment runs in the ledger: files, payments, totals.")
def payments_list() -> None:
    from collections import defaultdict

    from neuroerp.finance.ledger import PaymentLedger

    settings = apply_defaults()
    runs: dict[str, list] = defaultdict(list)
    for item in PaymentLedger(settings.home).items():
        runs[item.run_id].append(item)
    table = Table(title=f"payment runs in {settings.payments_dir}")
    for column in ("run", "tenant", "created (UTC)", "payments", "total EUR", "file"):
        table.add_column(column)
    for run_id, items in sorted(runs.items(), key=lambda kv: kv[1][0].created_at):
        first = items[0]
        total = sum(i.amount for i in items)
        table.add_row(run_id, first.tenant_id, f"{first.created_at:%Y-%m-%d %H:%M}", str(len(items)), f"{total:,.2f}",
                      first.file)  # fmt: skip
    console.print(table)


@payments.command("void", help="Record that a run was not submitted to the bank: its invoices may be paid again.")
@click.argument("run_id")
@click.option("--by", required=True, help="Who voids it.")
@click.option("--reason", required=True, help="Why (kept in the ledger).")
def payments_void(run_id: str, by: str, reason: str) -> None:
    from neuroerp.finance.ledger import PaymentLedger

    settings = apply_defaults()
    ledger = PaymentLedger(settings.home)
    try:
        with ledger.locked():
            freed = ledger.void(run_id, by=by, reason=reason)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    console.print(f"voided payment run {run_id}: {freed} invoice(s) may be paid by the next run")


# ------------------------------------------------------------------------------------- case
# The officers' case work (issue 9): list cases, record decisions in the ledger, verify it. The
# warehouse is only read, through a short read-only connection; decisions go to NEUROERP_HOME/ledger.

CASE_STATUSES = ("open", "acknowledged", "resolved", "dismissed")
CASE_LIST_CHOICES = (*CASE_STATUSES, "active", "all")
out = Console(width=None if sys.stdout.isatty() else 200)  # answers to stdout (pipe them); errors to stderr


@contextlib.contextmanager
def _read_warehouse(path: Path, wait_s: float):
    """A short read-only connection. While a run writes the warehouse (DuckDB admits one writing
    process, and no reader beside it) wait for the step to finish, as every run does, and say so."""
    import duckdb

    from neuroerp.warehouse import LOCK_MESSAGES, open_with_retry

    if not path.exists():
        raise click.ClickException(f"no warehouse at {path}: run `neuroerp materialize` first; nothing written")
    try:
        conn = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        if not any(m in str(exc) for m in LOCK_MESSAGES):
            raise
        console.print(f"a run is writing the warehouse; waiting up to {wait_s:.0f} s for its step to finish ...")
        try:
            conn = open_with_retry(path, read_only=True, timeout_s=wait_s)
        except duckdb.IOException as again:
            raise click.ClickException(
                f"the warehouse stayed busy for {wait_s:.0f} s; nothing written: {again}"
            ) from None
    try:
        yield conn
    finally:
        conn.close()


WAIT_OPTION = click.option("--wait", "wait_s", type=float, default=600.0, show_default=True,
                           help="Seconds to wait while a run writes the warehouse.")  # fmt: skip


@main.group(help="Compliance cases: list them, record an officer's decision, verify the decision ledger.")
def case() -> None:
    pass


@case.command("list", help="List compliance cases (open and acknowledged unless --status says otherwise).")
@click.option("--tenant", default=None, help="Only this tenant.")
@click.option("--area", default=None, help="Only this area (psm, explosives, enni, traces, lksg, gdpr, gobd, finance).")
@click.option("--status", "status", type=click.Choice(CASE_LIST_CHOICES), default="active", show_default=True,
              help="active = open and acknowledged.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
@WAIT_OPTION
def case_list(tenant: str | None, area: str | None, status: str, as_json: bool, wait_s: float) -> None:
    import json

    from neuroerp.compliance.cases import against_mirror, list_cases

    settings = apply_defaults()
    check = _ledger_check(settings)
    wanted = {"active": ("open", "acknowledged"), "all": CASE_STATUSES}.get(status, (status,))
    with _read_warehouse(settings.warehouse_path, wait_s) as conn:
        if not _has_cases(conn):
            raise click.ClickException("the warehouse holds no cases yet: run `neuroerp materialize` first")
        against_mirror(conn, check)
        rows = list_cases(conn, check, tenant=tenant, area=area, statuses=wanted)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, default=str, ensure_ascii=False))
        return
    table = Table(
        title=f"{len(rows)} {status} case(s)" + (f" of {tenant}" if tenant else "") + (f" in {area}" if area else "")
    )
    for column in ("case", "tenant", "area", "rule", "severity", "subject", "status", "opened", "last seen",
                   "open/all", "decided by"):  # fmt: skip
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["case_id"][:12], r["tenant_id"], r["area"], r["rule_id"], r["severity"],
            f"{r['subject_type']} {r['subject_id']}", r["status"], f"{r['opened_at']:%Y-%m-%d}",
            f"{r['last_seen_at']:%Y-%m-%d}", f"{r['open_occurrences']}/{r['occurrences']}", r["decided_by"] or "",
        )  # fmt: skip
    out.print(table)
    if check.problems:
        console.print("[red]the decision ledger fails verification[/red]: run `neuroerp case verify`")


@case.command("decide", help="Record an officer's decision on a case (append-only; never edited).")
@click.argument("case_id")
@click.option("--status", required=True, type=click.Choice(("acknowledged", "resolved", "dismissed")),
              help="acknowledged: known, being handled; resolved: fixed; dismissed: not a violation.")  # fmt: skip
@click.option("--by", "by", required=True, help="The officer who decides (name).")
@click.option("--note", required=True, help="Why: what was done or found (kept in the ledger).")
@WAIT_OPTION
def case_decide(case_id: str, status: str, by: str, note: str, wait_s: float) -> None:
    from neuroerp.compliance.cases import (
        DecisionRefused,
        against_mirror,
        check_decision_input,
        decide,
        find_case,
        ledger_folder,
    )
    from neuroerp.compliance.ledger import LedgerError

    settings = apply_defaults()
    try:
        check_decision_input(status, by, note)  # before touching anything
        with _read_warehouse(settings.warehouse_path, wait_s) as conn:
            view = find_case(conn, case_id)
            check = _ledger_check(settings)
            if against_mirror(conn, check):  # rewritten since the last run mirrored it
                raise LedgerError("the decision ledger fails verification: " + "; ".join(check.problems))
        decision = decide(ledger_folder(settings.home), view, status, by, note)
    except (DecisionRefused, LedgerError) as exc:
        raise click.ClickException(f"{exc} (nothing written)") from None
    out.print(
        f"case {decision.case_id} ({decision.rule_id}, {decision.subject_type} {decision.subject_id}): {status} by "
        f"{decision.decided_by}; ledger entry {decision.seq}, hash {decision.hash[:12]}. The next run shows it in "
        "compliance.cases and the scores."
    )


@case.command("show", help="One case: what it is about, its evidence, occurrences and decisions.")
@click.argument("case_id")
@WAIT_OPTION
def case_show(case_id: str, wait_s: float) -> None:
    from neuroerp.compliance.cases import CASES, DecisionRefused, against_mirror, find_case, list_cases

    settings = apply_defaults()
    check = _ledger_check(settings)
    with _read_warehouse(settings.warehouse_path, wait_s) as conn:
        try:
            view = find_case(conn, case_id)
        except DecisionRefused as exc:
            raise click.ClickException(str(exc)) from None
        against_mirror(conn, check)
        (row,) = [r for r in list_cases(conn, check, tenant=view.tenant_id) if r["case_id"] == view.case_id] or [None]
        detail = conn.execute(
            f"SELECT severity, recommendation, legal_basis, evidence, entity_type, latest_entity_id, resolution, "
            f"reopened FROM {CASES} WHERE case_id = ?",
            [view.case_id],
        ).fetchall()[0]
        occurrences = conn.execute(
            "SELECT entity_id, first_detected_at, resolved_at FROM compliance.violation_history WHERE case_id = ? "
            "ORDER BY first_detected_at DESC, entity_id LIMIT 10",
            [view.case_id],
        ).fetchall()
    severity, recommendation, basis, evidence, entity_type, latest, resolution, reopened = detail
    status = row["status"] if row else "?"
    out.print(f"[bold]{view.case_id}[/bold]  {view.rule_id} ({severity}), {view.tenant_id}, area {view.area}")
    out.print(f"subject: {view.subject_type} {view.subject_id}; status: {status}"
              + (f" ({resolution})" if resolution and status in ("resolved", "dismissed") else "")
              + (f"; reopened {reopened}x" if reopened else ""))  # fmt: skip
    out.print(f"legal basis: {basis}\nrecommendation: {recommendation}")
    out.print(f"latest occurrence ({entity_type} {latest}): {evidence}")
    table = Table(title=f"occurrences ({len(view.episodes)} episodes, the latest 10)")
    for column in ("entity", "first detected (UTC)", "no longer found (UTC)"):
        table.add_column(column)
    for entity, first, resolved in occurrences:
        table.add_row(entity, f"{first:%Y-%m-%d %H:%M}", f"{resolved:%Y-%m-%d %H:%M}" if resolved else "")
    out.print(table)
    decisions = [d for d in check.decisions() if d.case_id == view.case_id]
    for d in decisions:
        out.print(f"decision {d.seq}: {d.status} by {d.decided_by} on {d.decided_at:%Y-%m-%d %H:%M} UTC: {d.note}")
    if not decisions:
        out.print("no decision yet: `neuroerp case decide " + view.case_id[:12] + " --status ... --by ... --note ...`")


@case.command("verify", help="Verify the decision ledger: no entry edited, removed, inserted or moved.")
@WAIT_OPTION
def case_verify(wait_s: float) -> None:
    from neuroerp.compliance.cases import against_mirror, ledger_folder

    settings = apply_defaults()
    check = _ledger_check(settings)
    if settings.warehouse_path.exists():
        with _read_warehouse(settings.warehouse_path, wait_s) as conn:
            against_mirror(conn, check)
    where = ledger_folder(settings.home)
    problems = check.problems
    if problems:
        for problem in problems:
            console.print(f"[red]tampered[/red] {problem}")
        raise click.ClickException(
            f"the decision ledger in {where} fails verification ({len(problems)} problem(s)); only its "
            f"{check.intact} intact leading entries move cases"
        )
    out.print(f"ledger intact: {len(check.entries)} decision(s) in {where}, head {check.head_hash}")


def _ledger_check(settings):
    from neuroerp.compliance.cases import ledger_folder, read_ledger

    return read_ledger(ledger_folder(settings.home))


def _has_cases(conn) -> bool:
    return bool(
        conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'compliance' AND table_name = 'cases'"
        ).fetchall()[0][0]
    )


# ----------------------------------------------------------------------------------- report
# The compliance officer's report (issue 10): rendered from the warehouse (read-only) into the
# report archive; `report verify` checks every archived file against reports/manifest.jsonl.


@main.group(
    invoke_without_command=True,
    help="Render the compliance officer's report now (PDF, HTML, cases.xlsx per tenant); "
    "`neuroerp report verify` checks the report archive against its manifest.",
)
@click.option("--tenant", default=None, help="Only this tenant (default: every tenant).")
@WAIT_OPTION
@click.pass_context
def report(ctx: click.Context, tenant: str | None, wait_s: float) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from neuroerp.report import write_reports

    settings = apply_defaults()
    with _read_warehouse(settings.warehouse_path, wait_s) as conn:
        if not _has_cases(conn):
            raise click.ClickException("the warehouse has no compliance results yet: run `neuroerp materialize` first")
        try:
            reports = write_reports(conn, settings.reports_dir, tenant)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    for r in reports:
        score = "–" if r.score_pct is None else f"{r.score_pct:.1f} %"
        out.print(f"{r.tenant}: score {score} ({r.status}), {r.open_cases} open case(s): {r.folder}")


@report.command("verify", help="Recompute the SHA-256 of every archived report file; name each one changed or removed.")
def report_verify() -> None:
    import hashlib

    from neuroerp.archive import verify_archive

    settings = apply_defaults()
    result = verify_archive(settings.reports_dir)
    for kind, paths in (("changed", result.changed), ("removed", result.removed), ("not in the manifest", result.unlisted),
                        ("malformed", result.malformed)):  # fmt: skip
        for path in paths:
            console.print(f"[red]{kind}[/red] {path}")
    if not result.ok:
        bad = len(result.changed) + len(result.removed) + len(result.unlisted) + len(result.malformed)
        raise click.ClickException(f"the report archive in {settings.reports_dir} fails verification: {bad} problem(s)")
    manifest = settings.reports_dir / "manifest.jsonl"
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.exists() else "none"
    out.print(f"report archive intact: {result.checked} file(s) match reports/manifest.jsonl (its SHA-256: {digest})")


# -------------------------------------------------------------------------------------- dev


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    help="Start the Dagster UI and daemon (dg dev) on the shared instance; extra arguments go to dg dev.",
)
@click.pass_context
def dev(ctx: click.Context) -> None:
    from pipelines.instance import write_config

    apply_defaults()
    write_config(Path(os.environ["DAGSTER_HOME"]))
    dg_cli = shutil.which("dg", path=str(Path(sys.executable).parent)) or shutil.which("dg")
    if dg_cli is None:
        raise click.ClickException("dg is not installed (it comes with dagster-dg-cli; run scripts/bootstrap)")
    os.chdir(PROJECT_ROOT)
    os.environ.setdefault("VIRTUAL_ENV", str(Path(sys.executable).parent.parent))  # the venv dg dev expects
    os.execv(dg_cli, [dg_cli, "dev", *ctx.args])


def _redact(url: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)


# ----------------------------------------------------------------------------------- search


@main.command(
    help="Semantic and full-text (hybrid) search over articles and customers; --stats for the index and cache."
)
@click.argument("query", required=False)
@click.option("--kind", type=click.Choice(["article", "customer"]), default=None, help="Only articles or customers.")
@click.option("--tenant", default=None, help="Only this tenant's rows (tenant_id).")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--mode", type=click.Choice(["hybrid", "vector", "text"]), default="hybrid", show_default=True,
              help="hybrid: meaning and words fused; vector: meaning only; text: words only.")  # fmt: skip
@click.option("--no-cache", is_flag=True, help="Search even when a cached answer exists (and do not store one).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit on stdout.")
@click.option("--stats", is_flag=True, help="What the index holds and how the query cache does.")
def search(query, kind, tenant, limit, mode, no_cache, as_json, stats) -> None:
    import dataclasses
    import json

    from neuroerp.search.config import SearchSettings
    from neuroerp.search.search import MAX_TEXT_WORDS, IndexMissing, QueryError
    from neuroerp.search.service import open_searcher

    settings = SearchSettings.from_env(apply_defaults().home)
    out = Console()
    if stats:
        _search_stats(settings, out)
        return
    if query is None:
        raise click.UsageError("give a QUERY, e.g. neuroerp search 'Dünger für Raps', or --stats")
    searcher = open_searcher(settings)
    try:
        result = searcher.search(query, kind=kind, tenant=tenant, limit=limit, mode=mode, use_cache=not no_cache)
    except QueryError as exc:
        raise click.BadParameter(str(exc), param_hint="QUERY") from exc
    except IndexMissing as exc:
        raise click.ClickException(f"{exc} (neuroerp materialize --select group:search)") from exc
    finally:
        searcher.cache.close()
    if as_json:
        for hit in result.hits:
            out.print_json(json.dumps(dataclasses.asdict(hit) | {"why": hit.why}, ensure_ascii=False, default=str))
        return
    where = "cache" if result.cached else f"{result.mode} search"
    table = Table(title=f"{len(result.hits)} hits for {query!r} ({where}, {result.seconds * 1000:.0f} ms)")
    for column in ("#", "kind", "number", "name", "tenant", "category / place", "why it matched"):
        table.add_column(column, overflow="fold")
    for rank, hit in enumerate(result.hits, start=1):
        detail = " / ".join(x for x in (hit.category, hit.place) if x) + ("" if hit.active else " (inactive)")
        table.add_row(str(rank), hit.kind, hit.number, hit.name, hit.tenant_id, detail, hit.why)
    out.print(table)
    if result.truncated:
        console.print(
            f"[yellow]the query has more than {MAX_TEXT_WORDS} words: the text indexes read the first {MAX_TEXT_WORDS}"
        )


def _search_stats(settings, out: Console) -> None:
    from neuroerp.search.cache import QueryCache
    from neuroerp.search.service import describe

    tables = describe(settings)
    index_table = Table(title=f"search index under {settings.vectors_dir}")
    for column in ("table", "rows", "version", "model", "last embedded"):
        index_table.add_column(column)
    for info in tables:
        models = ", ".join(f"{m} ({n:,})" for m, n in info.models.items())
        index_table.add_row(info.table, f"{info.rows:,}", str(info.version), models, info.last_embedded_at or "")
    out.print(index_table if tables else "no search index yet (neuroerp materialize --select group:search)")
    with QueryCache(settings.cache_path, settings.cache_ttl_s) as cache:
        s = cache.stats()
    rate = f"{s.hit_rate:.1%}" if s.hit_rate is not None else "no lookups yet"
    cache_table = Table(title=f"query cache (TTL {settings.cache_ttl_s} s)")
    for column in ("lookups", "hits", "misses", "hit rate", "expired", "entries", "index changes", "purged"):
        cache_table.add_column(column, justify="right")
    cache_table.add_row(
        f"{s.lookups:,}", f"{s.hits:,}", f"{s.misses:,}", rate, f"{s.expired:,}", f"{s.entries:,}",
        f"{s.invalidations:,}", f"{s.purged:,}",
    )  # fmt: skip
    out.print(cache_table)


if __name__ == "__main__":
    main()
