"""The event bus the alerts go to, as a Dagster resource (bound by the code location)."""

import dagster as dg
from pydantic import Field

NATS_VAR = "NEUROERP_NATS_URL"


class EventBus(dg.ConfigurableResource):
    """NATS JetStream for outbound alerts; no URL: alerts stay in the warehouse only."""

    nats_url: str = Field(default="", description=f"nats://host:port of the event bus ({NATS_VAR}); empty: none.")
    timeout_s: float = Field(default=5.0, description="Seconds for connecting and for each acknowledgement.")
