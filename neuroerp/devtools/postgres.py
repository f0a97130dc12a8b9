"""A throw-away PostgreSQL server for tests and benchmarks: initdb + pg_ctl on a temp dir.

As root, PostgreSQL refuses to run, so the server runs as the `postgres` user via `su`.
Run `python -m neuroerp.devtools.postgres` to start one by hand; it prints its URL and stops on
Ctrl-C. Tests of source outages stop and start it (`stop()`, `start()`) and add a login that needs
a password (`add_password_login`).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",  # throw-away data: durability buys nothing here
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "256MB",
    "max_connections": "100",
    "max_wal_size": "4GB",
}


class PostgresUnavailable(RuntimeError):
    pass


@dataclass
class ThrowawayPostgres:
    port: int
    data_dir: Path
    socket_dir: Path
    run_as: str | None
    options: str = ""
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self, mode: str = "fast") -> None:
        """Shut the server down (`fast`: sessions are terminated, as in a planned outage)."""
        _run([shutil.which("pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"], self.run_as)

    def start(self) -> None:
        _run([shutil.which("pg_ctl"), "-D", str(self.data_dir), "-o", self.options, "-l", str(self.log), "-w",
              "-t", "60", "start"], self.run_as, self.log)  # fmt: skip

    def add_password_login(self, user: str, password: str) -> None:
        """A role that must give its password over TCP (the rest of the server trusts local logins)."""
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(f"host all {user} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        _run([shutil.which("pg_ctl"), "-D", str(self.data_dir), "reload"], self.run_as)


def settle(url: str) -> None:
    """VACUUM (ANALYZE) a freshly seeded database, as a running ERP's has been: the first reads of
    a bulk load otherwise set every row's hint bits (writing each page again) while autovacuum
    starts on the same tables, and a benchmark measures that instead of the reads."""
    import sqlalchemy as sa

    from neuroerp.source.database import create_source_engine

    engine = create_source_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM (ANALYZE)"))
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str], run_as: str | None, log: Path | None = None) -> None:
    command = args if run_as is None else ["su", run_as, "-s", "/bin/sh", "-c", shlex.join(args)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        detail = result.stderr.strip() or result.stdout.strip()
        if log and log.exists():
            detail += "\n" + log.read_text()[-2000:]
        raise PostgresUnavailable(f"{args[0]} failed: {detail}")


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """Start a fresh PostgreSQL on a free port; stop it and remove its files afterwards."""
    for tool in ("initdb", "pg_ctl"):
        if shutil.which(tool) is None:
            raise PostgresUnavailable(f"{tool} is not on PATH: install PostgreSQL 15")
    run_as = "postgres" if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="neuroerp-pg-"))
    data_dir, socket_dir, log = base / "data", base / "sock", base / "server.log"
    socket_dir.mkdir()
    if run_as:
        user = pwd.getpwnam(run_as)
        for path in (base, socket_dir):
            os.chown(path, user.pw_uid, user.pw_gid)
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    server = None
    try:
        _run([initdb, "-D", str(data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
              "--no-instructions"], run_as)  # fmt: skip
        for attempt in range(5):
            port = _free_port()
            options = " ".join([f"-p {port}", f"-k {socket_dir}"] + [f"-c {k}={v}" for k, v in SERVER_SETTINGS.items()])
            try:
                _run(
                    [pg_ctl, "-D", str(data_dir), "-o", options, "-l", str(log), "-w", "-t", "60", "start"], run_as, log
                )
                server = ThrowawayPostgres(port, data_dir, socket_dir, run_as, options, log)
                break
            except PostgresUnavailable:
                if attempt == 4:
                    raise
                time.sleep(0.5)
        yield server
    finally:
        if server is not None and (data_dir / "postmaster.pid").exists():
            with contextlib.suppress(PostgresUnavailable):
                _run([pg_ctl, "-D", str(data_dir), "-m", "immediate", "-w", "stop"], run_as)
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    with throwaway_postgres() as pg:
        print(pg.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
