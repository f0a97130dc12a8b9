"""Skonto plan benchmark: 10,000 open invoices over 60 days, the MIP against its baselines.

    scripts/bench skonto [--invoices 10000] [--seeds 3]

Synthetic instances (neuroerp.finance.synthetic): the demo generator's supplier terms, none overdue,
receipts on weekdays, payroll on the 28th, a credit line that covers the due-date plan plus a share
("tightness") of what taking every open discount would pay early. For each: HiGHS's solve time and
proven MIP gap, and the EUR the plan keeps more than each baseline (valued by the same exact
evaluator). Target: gap <= 0.1 % in <= 10 s.
"""

from __future__ import annotations

import argparse
import statistics
from decimal import Decimal

from neuroerp.finance.solver import solve
from neuroerp.finance.synthetic import instance

BASELINES = ("pay on due date", "best saving first", "best rate first")


def _pct(gain: Decimal, base: Decimal) -> str:
    return f"{float(gain / abs(base) * 100):+.2f} %" if base else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    print(f"Skonto plan: {args.invoices:,} open invoices x 60 days, HiGHS (one thread), {args.seeds} seeds per row")
    header = ("tightness", "binaries", "solve s (median/max)", "MIP gap % (max)", "plan keeps EUR",
              *(f"vs {b}" for b in BASELINES))  # fmt: skip
    rows = []
    for tightness in (0.05, 0.1, 0.2, 0.3):
        runs = [solve(instance(args.invoices, seed=s, tightness=tightness)) for s in range(args.seeds)]
        net = sum((r.value.net for r in runs), Decimal(0)) / len(runs)
        gains = []
        for b in BASELINES:
            base = sum((r.baselines[b].net for r in runs), Decimal(0)) / len(runs)
            gains.append(f"{net - base:+,.2f} ({_pct(net - base, base)})")
        times = [r.solve_seconds for r in runs]
        assert all(r.value.keeps_credit_line for r in runs)
        rows.append(
            (f"{tightness:.2f}", f"{runs[0].binaries:,}", f"{statistics.median(times):.2f} / {max(times):.2f}",
             f"{max(r.mip_gap_pct for r in runs):.4f}", f"{net:,.2f}", *gains)
        )  # fmt: skip
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    print("\ntightness: share of the early payments of every open discount that the credit line leaves room for")


if __name__ == "__main__":
    main()
