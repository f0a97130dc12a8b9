"""Configuration from the environment (12-factor): where the ERP is, where our data lives."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_VAR = "NEUROERP_HOME"
SOURCE_VAR = "NEUROERP_SOURCE_URL"
NATS_VAR = "NEUROERP_NATS_URL"
DEFAULT_HOME = "./.neuroerp"
DEMO_SOURCE_FILE = "demo-erp.sqlite"


@dataclass(frozen=True)
class Settings:
    home: Path
    source_url: str
    nats_url: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get(HOME_VAR) or DEFAULT_HOME).expanduser().resolve()
        return cls(
            home=home,
            source_url=os.environ.get(SOURCE_VAR) or demo_source_url(home),
            nats_url=os.environ.get(NATS_VAR) or None,
        )

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def vectors_dir(self) -> Path:
        return self.home / "vectors"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def payments_dir(self) -> Path:
        return self.home / "payments"

    @property
    def uses_demo_source(self) -> bool:
        return self.source_url == demo_source_url(self.home)


def demo_source_url(home: Path) -> str:
    """The embedded demo ERP: a SQLite file under the data home."""
    return f"sqlite:///{home / DEMO_SOURCE_FILE}"


def apply_defaults() -> Settings:
    """Resolve defaults into the environment, so `dg.EnvVar` always finds a value.

    Dagster's own state (runs, event log) goes to DAGSTER_HOME, by default `NEUROERP_HOME/dagster`,
    so the CLI and the UI see the same runs.
    """
    from neuroerp.finance.accounts import default_environment

    settings = Settings.from_env()
    os.environ[HOME_VAR] = str(settings.home)
    os.environ[SOURCE_VAR] = settings.source_url
    for name, value in default_environment(settings.uses_demo_source).items():
        os.environ.setdefault(name, value)  # finance: the tenants' debtor accounts, the § 247 BGB base rate
    if not os.environ.get("DAGSTER_HOME"):
        os.environ["DAGSTER_HOME"] = str(settings.home / "dagster")
    return settings
