"""Source outages and refused logins, as a user meets them in `neuroerp materialize`: one clear
message first (which ERP source, host, port, database, user; never the password; what to check),
a non-zero exit code, a short summary, and retries for what may pass.

Faults tried on a second throw-away PostgreSQL 15 that the tests stop and start: server down
before the run, server back within the retries, server going down while a table is being read
(a fast shutdown that terminates the reading session), wrong password, wrong port.
"""

import contextlib
import re
import shutil
import threading
import time

import dagster as dg
import duckdb
import psycopg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from neuroerp.contract import DOMAINS, TABLES
from neuroerp.devtools.postgres import throwaway_postgres
from neuroerp.seed import seed_source
from neuroerp.source.connection import (
    RetryPolicy,
    SourceAddress,
    SourceUnavailable,
    check_source,
    probe,
    with_source_retries,
)
from pipelines.cli import main
from pipelines.instance import write_config
from tests.conftest import AS_OF, SEED

USER, PASSWORD = "erp_reader", "Geheim-Passwort-42"
INGEST = "group:source or key:raw/*"


@pytest.fixture(scope="module")
def server():
    """A server of our own to stop and start, with an ERP database read by a password login."""
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        # its own server, never the one NEUROERP_TEST_PG_URL names, so that variable does not matter
        pytest.skip("needs PostgreSQL's initdb and pg_ctl for a throw-away server it may stop")
    with throwaway_postgres() as pg:
        with psycopg.connect(pg.url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("CREATE DATABASE erp")
            conn.execute(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
        seed_source(pg.url_for("erp"), scale=0.01, seed=SEED, as_of=AS_OF, create_schema=True)
        with psycopg.connect(pg.url_for("erp").replace("+psycopg", ""), autocommit=True) as conn:
            for schema in DOMAINS:  # a SELECT-only role, as a replica user would be
                conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {USER}")
                conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {USER}")
        pg.add_password_login(USER, PASSWORD)
        yield pg


def _url(pg, password: str = PASSWORD, port: int | None = None) -> str:
    return f"postgresql+psycopg://{USER}:{password}@127.0.0.1:{port or pg.port}/erp"


def _materialize(home, url: str, *args: str, attempts: int = 2, delay: float = 0.1):
    env = {
        "NEUROERP_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "NEUROERP_SOURCE_URL": url,
        "NEUROERP_SOURCE_CONNECT_ATTEMPTS": str(attempts),
        "NEUROERP_SOURCE_RETRY_DELAY_S": str(delay),
    }
    return CliRunner().invoke(main, ["materialize", "--as-of", AS_OF.isoformat(), *args], env=env)


def _run_seconds(output: str) -> float:
    """How long the run itself took (the summary's title), without loading the definitions."""
    return float(re.search(r"materialisation (?:succeeded|FAILED) in ([\d.]+) s", output)[1])


def _after_summary(output: str) -> list[str]:
    """The lines after the summary table (or after its title when nothing materialised)."""
    lines = output.splitlines()
    last = max(i for i, line in enumerate(lines) if "┘" in line or "materialisation FAILED" in line)
    return [line for line in lines[last + 1 :] if line.strip()]


def _assert_names_the_source(line: str, pg, port: int | None = None) -> None:
    assert f"PostgreSQL at host 127.0.0.1, port {port or pg.port}, database erp, user {USER}" in line, line
    assert "NEUROERP_SOURCE_URL" in line


@contextlib.contextmanager
def _stopped(pg):
    pg.stop()
    try:
        yield
    finally:
        if not (pg.data_dir / "postmaster.pid").exists():
            pg.start()


def test_wrong_password_fails_before_any_step_without_retrying(server, tmp_path):
    result = _materialize(tmp_path, _url(server, password="falsch"), attempts=4, delay=5)
    assert result.exit_code == 1
    first, check, *rest = _after_summary(result.output)
    assert first.startswith(
        "failed ERP source check, before any step: SourceUnavailable: ERP source refused the login:"
    )
    _assert_names_the_source(first, server)
    assert f'password authentication failed for user "{USER}"' in first
    assert check.strip().startswith("Check the user and password in NEUROERP_SOURCE_URL")
    assert rest == ["nothing ran: the run was not started"]
    assert "falsch" not in result.output and PASSWORD not in result.output
    assert "tried" not in result.output and _run_seconds(result.output) < 5  # a refused login is not retried
    assert not (tmp_path / "warehouse.duckdb").exists()  # nothing unrelated was built either


def test_wrong_port_is_unreachable_and_retried_a_bounded_number_of_times(server, tmp_path):
    with socket_nobody_listens_on() as port:
        result = _materialize(tmp_path, _url(server, port=port), attempts=3, delay=0.1)
    assert result.exit_code == 1
    first, check, *_ = _after_summary(result.output)
    assert first.startswith("failed ERP source check, before any step: SourceUnavailable: ERP source unreachable:")
    _assert_names_the_source(first, server, port)
    assert "Connection refused" in first
    assert "Check that the server is running" in check and "(tried 3 times over 0.3 s)" in check
    assert PASSWORD not in result.output


@contextlib.contextmanager
def socket_nobody_listens_on():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]  # bound, not listening: connections are refused


def test_server_down_before_the_run(server, tmp_path):
    with _stopped(server):
        result = _materialize(tmp_path, _url(server))
    assert result.exit_code == 1
    lines = _after_summary(result.output)
    assert lines[0].startswith("failed ERP source check, before any step: SourceUnavailable: ERP source unreachable:")
    _assert_names_the_source(lines[0], server)
    assert len(lines) <= 3 and PASSWORD not in result.output


def test_a_server_back_within_the_retries_is_waited_for(server, tmp_path):
    server.stop()
    back = threading.Timer(1.0, server.start)
    started = time.monotonic()
    back.start()
    try:
        result = _materialize(tmp_path, _url(server), "--select", "group:source", attempts=6, delay=0.5)
    finally:
        back.join()
    assert result.exit_code == 0, result.output
    # It waited for the server instead of failing: the retries may fall in the check before the
    # run or in the run itself, so the wall clock and the retry lines are what tell.
    assert time.monotonic() - started > 1.0
    assert re.search(r"ERP source connection failed \(.+\); retry 1 of 5 in 0\.5 s", result.output)


def _stop_while_reading(pg, table: str, instance: dg.DagsterInstance, errors: list) -> None:
    """Once the run has profiled the source, hold `table` locked until the ingest waits for it,
    then shut the server down: the reading session is terminated mid-query."""
    try:
        deadline = time.monotonic() + 120
        while instance.get_latest_materialization_event(dg.AssetKey("erp_source_profile")) is None:
            assert time.monotonic() < deadline, "the run never profiled the source"
            time.sleep(0.05)
        holder = psycopg.connect(pg.url_for("erp").replace("+psycopg", ""))
        holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        waiting = f"SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = '{table}'::regclass"
        with psycopg.connect(pg.url_for("erp").replace("+psycopg", ""), autocommit=True) as watcher:
            while watcher.execute(waiting).fetchone()[0] == 0:
                assert time.monotonic() < deadline, f"the run never read {table}"
                time.sleep(0.05)
        pg.stop()  # fast: terminates every session, the waiting read among them
        with contextlib.suppress(psycopg.Error):
            holder.close()
    except BaseException as exc:
        errors.append(exc)


def test_server_going_down_while_a_table_is_read(server, tmp_path):
    errors: list = []
    instance = dg.DagsterInstance.from_config(str(write_config(tmp_path / "dagster").parent))  # the CLI's instance
    # sales_orders: read mid-way through the ingest, several tables that need the source come after it
    stopper = threading.Thread(target=_stop_while_reading, args=(server, "sales.sales_orders", instance, errors))
    stopper.start()
    try:
        result = _materialize(tmp_path, _url(server), "--select", INGEST)
    finally:
        stopper.join()
        instance.dispose()
        if not (server.data_dir / "postmaster.pid").exists():
            server.start()
    assert not errors, errors
    assert result.exit_code == 1
    lines = _after_summary(result.output)
    assert lines[0].startswith("failed raw/sales_orders: SourceUnavailable: ERP source unreachable:"), lines
    _assert_names_the_source(lines[0], server)
    assert "(tried 2 times over" in lines[1]
    assert "first failure: terminating connection due to administrator command" in lines[1]  # the read was cut
    # every later step that needed the source failed at once with the same cause: counted, not repeated
    assert re.fullmatch(r"\d+ more steps failed with the same cause: raw/\S+.*", lines[2]), lines
    assert re.fullmatch(r"\d+ steps not run: a step they depend on failed", lines[3]), lines
    assert len(lines) == 4, lines
    assert all("Not executing" not in line and "Traceback" not in line for line in lines)
    assert PASSWORD not in result.output
    # the run after the outage catches up: every table loaded, the interrupted one whole
    again = _materialize(tmp_path, _url(server), "--select", INGEST)
    assert again.exit_code == 0, again.output
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM ops.ingest_state").fetchone()[0] == len(TABLES)
        loaded = conn.execute("SELECT count(*) FROM raw.sales_orders").fetchone()[0]
    engine = sa.create_engine(_url(server))
    with engine.connect() as source:
        assert loaded == source.execute(sa.text("SELECT count(*) FROM sales.sales_orders")).scalar()
    engine.dispose()


def test_a_source_found_down_is_tried_once_by_later_steps_until_a_run_checks_it_again():
    """The first step to meet an outage retries; later steps of the run fail at once with the same
    message (no run of 30 steps waits 30 times); the check at the start of the next run retries again."""
    with socket_nobody_listens_on() as port:
        url = f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{port}/erp"
        policy = RetryPolicy(attempts=3, first_delay_s=0.01)
        for expected_retries in (2, 0, 0):
            retries: list[str] = []
            with pytest.raises(SourceUnavailable) as failed:
                with_source_retries(url, lambda: probe(url), policy, on_retry=retries.append)
            assert len(retries) == expected_retries
            assert str(failed.value).startswith("ERP source unreachable: PostgreSQL at host 127.0.0.1")
        retries = []
        with pytest.raises(SourceUnavailable):
            check_source(url, policy, on_retry=retries.append)
        assert len(retries) == 2


def test_messages_never_show_the_password():
    address = SourceAddress.of(_url_with("s3cr3t"))
    assert "s3cr3t" not in address.describe()
    assert address.scrub("FATAL: nope for s3cr3t") == "FATAL: nope for ***"


def _url_with(password: str) -> str:
    return f"postgresql+psycopg://{USER}:{password}@db.example:6543/erp"
