"""The score trend of an area as a PNG (matplotlib, no display): score per day from
compliance.score_history, with the bands of the status thresholds (below 50 % critical, below 90 %
warning)."""

from __future__ import annotations

import base64
import datetime as dt
import io

GREEN, AMBER, RED, LINE = "#e3f1e3", "#fbf0d4", "#f8dcdc", "#2f5233"


def trend_png(points: list[tuple[dt.date, float]], title: str) -> bytes:
    """A small line chart (about 8 × 3.2 cm at 200 dpi); one point when only one day was recorded."""
    # imported here: every run's process loads the code location, few of them draw a chart
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.3, 1.3), dpi=200)
    try:
        ax.axhspan(0, 50, color=RED, zorder=0)
        ax.axhspan(50, 90, color=AMBER, zorder=0)
        ax.axhspan(90, 100, color=GREEN, zorder=0)
        if points:
            days = [d for d, _ in points]
            values = [v for _, v in points]
            ax.plot(days, values, color=LINE, linewidth=1.2, marker="o" if len(points) < 30 else None, markersize=2.5)
            if len(days) == 1:
                ax.set_xlim(days[0] - dt.timedelta(days=7), days[0] + dt.timedelta(days=7))
        else:
            ax.text(0.5, 0.5, "keine Werte", transform=ax.transAxes, ha="center", va="center", fontsize=6)
        ax.set_ylim(0, 100)
        ax.set_yticks([0, 50, 90])
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=5))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d.%m.%y"))
        ax.tick_params(labelsize=5, length=2, pad=1)
        if title:
            ax.set_title(title, fontsize=6, loc="left", pad=2)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout(pad=0.3)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", metadata={"Software": None})
        return buffer.getvalue()
    finally:
        plt.close(fig)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
