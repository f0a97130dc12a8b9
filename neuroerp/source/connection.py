"""Reaching the ERP source: one clear message when it cannot be reached, bounded retries when a
failure may pass.

Every connection problem is sorted into one of a few kinds, each with a message that names the
source (dialect, host, port, database, user; never the password) and what to check:

- `unreachable`: nothing answers (refused, reset, timed out, the server shutting down or starting
  up, a connection dropped mid-read). Transient: retried with exponential backoff, a bounded
  number of times, then reported.
- `login`: the server answered and refused the user (wrong password, no pg_hba.conf entry,
  unknown role). Never retried: it will not pass by itself.
- `no_database` / `no_file`: the database (or the SQLite file) named in the URL does not exist.

Once a source has been found down, later calls in the same process try once instead of retrying
again (a run of 30 steps must not wait 30 times for the same outage); the first success clears it.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

from neuroerp.settings import SOURCE_VAR

CONNECT_TIMEOUT_S = 10  # a host that drops packets fails after this long instead of hanging

T = TypeVar("T")


@dataclass(frozen=True)
class SourceAddress:
    """Where the source is, without its password."""

    dialect: str
    host: str | None
    port: int | None
    database: str | None
    user: str | None
    password: str | None  # only to scrub it from driver messages; never printed

    @classmethod
    def of(cls, url: str) -> SourceAddress:
        parsed = sa.engine.make_url(url)
        dialect = parsed.get_backend_name()
        if dialect == "sqlite":
            return cls("sqlite", None, None, parsed.database, None, None)
        host = parsed.host or parsed.query.get("host") or "localhost (Unix socket)"
        return cls(dialect, str(host), parsed.port or 5432, parsed.database, parsed.username, parsed.password)

    def describe(self) -> str:
        if self.dialect == "sqlite":
            return f"SQLite file {self.database}"
        return f"PostgreSQL at host {self.host}, port {self.port}, database {self.database}, user {self.user}"

    def scrub(self, text: str) -> str:
        if self.password:
            text = text.replace(self.password, "***")
        return text


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a transient failure: attempts in all, and the delay
    before the first retry, doubling each time up to `max_delay_s`."""

    attempts: int = 4
    first_delay_s: float = 1.0
    max_delay_s: float = 8.0

    def delay(self, retry: int) -> float:
        return min(self.first_delay_s * 2 ** (retry - 1), self.max_delay_s)


class SourceUnavailable(RuntimeError):
    """The ERP source cannot be used right now; the message says which source and what to check.
    Raised once retrying is spent (or pointless): nothing retries it again."""

    def __init__(self, message: str, kind: str, transient: bool) -> None:
        super().__init__(message)
        self.kind = kind
        self.transient = transient


# What drivers say, by kind. psycopg and ADBC (both libpq) rarely set a SQLSTATE before the session
# exists, so the text decides; the SQLSTATE is used where there is one.
_LOGIN = re.compile(
    r"password authentication failed|no password supplied|no pg_hba\.conf entry|authentication failed|"
    r"role \".*\" does not exist|pg_hba\.conf rejects",
    re.I,
)
_NO_DATABASE = re.compile(r"database \".*\" does not exist", re.I)
_NO_FILE = re.compile(r"unable to open database file", re.I)
_GONE_HOST = re.compile(r"name or service not known|failed to resolve host|nodename nor servname", re.I)
_TRANSIENT = re.compile(
    r"connection refused|could not connect|server closed the connection|terminating connection|"
    r"connection reset|connection timed out|timeout expired|operation timed out|no route to host|network is unreachable|"
    r"temporary failure in name resolution|the database system is (starting up|shutting down|in recovery|"
    r"not yet accepting)|too many (connections|clients)|connection is (closed|lost|bad)|consuming input failed|"
    r"could not (receive|send) data|eof detected|ssl syscall error|failed to connect|no connection to the server|"
    r"lost synchronization|broken pipe|database is locked|connection to server .* failed|server conn crashed",
    re.I,
)
_SQLSTATES = {"28000": "login", "28P01": "login", "3D000": "no_database"}
_TRANSIENT_SQLSTATE = re.compile(r"^(08...|57P0[123]|53300)$")


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps (SQLAlchemy's .orig, __cause__, __context__)."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return seen


def classify(exc: BaseException) -> tuple[str, bool] | None:
    """(kind, transient) when the error is about reaching the source, else None."""
    for e in _chain(exc):
        if isinstance(e, SourceUnavailable):
            return e.kind, e.transient
    text = " ".join(str(e) for e in _chain(exc))
    states = {str(getattr(e, "sqlstate", None) or "") for e in _chain(exc)}
    for state in states:
        if state in _SQLSTATES:
            return _SQLSTATES[state], False
    if _LOGIN.search(text):
        return "login", False
    if _NO_DATABASE.search(text):
        return "no_database", False
    if _NO_FILE.search(text):
        return "no_file", False
    if _GONE_HOST.search(text):
        return "unreachable", False
    if any(_TRANSIENT_SQLSTATE.match(s) for s in states) or _TRANSIENT.search(text):
        return "unreachable", True
    return None


_DRIVER_NOISE = [
    re.compile(r"^\w+: \[libpq\] ", re.I),  # ADBC: "IO: [libpq] "
    re.compile(r"^Failed to connect: ", re.I),
    re.compile(r"^connection failed: ", re.I),
    re.compile(r"^connection to server (at|on) .*?(, port \d+)? failed: ", re.I),
    re.compile(r"^(FATAL|ERROR):\s+", re.I),
    re.compile(r"^\(\S+\) "),  # SQLAlchemy: "(psycopg.OperationalError) "
]


def _detail(exc: BaseException, address: SourceAddress) -> str:
    """The driver's own words, first line, without what the message already says."""
    driver = next((e for e in reversed(_chain(exc)) if str(e).strip()), exc)
    line = next((ln.strip() for ln in str(driver).splitlines() if ln.strip()), type(driver).__name__)
    said = re.search(r"\b(?:FATAL|ERROR):\s+(.+)$", line)  # what the server said, after the driver's words
    if said:
        line = said[1]
    for noise in _DRIVER_NOISE:
        line = noise.sub("", line)
    return address.scrub(line.rstrip(".")) or type(driver).__name__


_ADVICE = {
    "unreachable": "Check that the server is running and accepts connections on that host and port "
    "(listen_addresses, firewall), and that {var} names the right host and port.",
    "login": "Check the user and password in {var}, and that the server's pg_hba.conf admits this user "
    "from this machine.",
    "no_database": "Check the database name in {var}.",
    "no_file": "Check the path in {var}, or create the embedded demo source with `neuroerp demo`.",
}
_HEADLINE = {
    "unreachable": "ERP source unreachable",
    "login": "ERP source refused the login",
    "no_database": "ERP source database missing",
    "no_file": "ERP source not found",
}


def source_error(
    url: str, exc: BaseException, tries: int = 1, seconds: float = 0.0, first: BaseException | None = None
) -> SourceUnavailable:
    """The clear message for a connection problem (classify(exc) must not be None); `first`: the
    first failure of several tries, when it said something else (a read cut by a shutdown)."""
    found = classify(exc)
    if found is None:
        raise ValueError("not a connection problem") from exc
    kind, transient = found
    address = SourceAddress.of(url)
    detail = _detail(exc, address)
    if kind == "no_file":
        detail = "the file does not exist or cannot be opened"
    tried = ""
    if tries > 1:
        earlier = _detail(first, address) if first is not None else detail
        tried = f" (tried {tries} times over {seconds:.1f} s" + (
            f"; first failure: {earlier})" if earlier != detail else ")"
        )
    message = (
        f"{_HEADLINE[kind]}: {address.describe()} ({SOURCE_VAR}): {detail}.\n"
        f"{_ADVICE[kind].format(var=SOURCE_VAR)}{tried}"
    )
    return SourceUnavailable(message, kind, transient)


# sources found down in this process: identity -> when; later calls try once instead of retrying
_down: dict[str, dt.datetime] = {}
_down_lock = threading.Lock()


def _identity(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def known_down(url: str) -> bool:
    with _down_lock:
        return _identity(url) in _down


def with_source_retries(
    url: str,
    action: Callable[[], T],
    policy: RetryPolicy = RetryPolicy(),
    on_retry: Callable[[str], None] | None = None,
) -> T:
    """Run `action`, which talks to the source; retry transient connection failures with backoff.

    Other errors pass through untouched. A connection failure that persists (or that retrying cannot
    fix) becomes one `SourceUnavailable` with the clear message.
    """
    attempts = 1 if known_down(url) else max(1, policy.attempts)
    started = time.monotonic()
    first: BaseException | None = None
    for attempt in range(1, attempts + 1):
        try:
            result = action()
        except Exception as exc:
            found = classify(exc)
            if found is None:
                raise
            with _down_lock:
                _down[_identity(url)] = dt.datetime.now(dt.UTC)
            if any(isinstance(e, SourceUnavailable) for e in _chain(exc)):
                raise  # reported already, by a call inside this one
            first = first or exc
            if found[1] and attempt < attempts:
                delay = policy.delay(attempt)
                if on_retry:
                    on_retry(
                        f"ERP source connection failed ({_detail(exc, SourceAddress.of(url))}); "
                        f"retry {attempt} of {attempts - 1} in {delay:.1f} s"
                    )
                time.sleep(delay)
                continue
            raise source_error(url, exc, tries=attempt, seconds=time.monotonic() - started, first=first) from exc
        with _down_lock:
            _down.pop(_identity(url), None)
        return result
    raise AssertionError("unreachable")  # the loop returns or raises


def postgres_conninfo(url: str) -> str:
    """A libpq URI for the SQLAlchemy URL, with a connect timeout unless the URL sets one."""
    parsed = sa.engine.make_url(url)
    if "connect_timeout" not in parsed.query:
        parsed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_S)})
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def probe(url: str) -> None:
    """Connect once and ask the source for one value; raises what the driver raises."""
    address = SourceAddress.of(url)
    if address.dialect == "sqlite":
        import sqlite3

        path = Path(address.database or "")
        if not path.is_file():
            raise sqlite3.OperationalError("unable to open database file")
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return
    import psycopg

    with psycopg.connect(postgres_conninfo(url)) as conn:
        conn.execute("SELECT 1").fetchone()


def check_source(url: str, policy: RetryPolicy = RetryPolicy(), on_retry: Callable[[str], None] | None = None) -> None:
    """Fail fast, with the clear message, when the source cannot be reached or refuses the login.

    Run once when a run starts: it forgets what earlier runs of this process found, and retries
    transient failures with the whole policy.
    """
    with _down_lock:
        _down.pop(_identity(url), None)
    with_source_retries(url, lambda: probe(url), policy, on_retry)
