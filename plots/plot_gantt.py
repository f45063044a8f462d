#!/usr/bin/env python3
"""Draw a Gantt chart of one run's activity trace (outputs.trace, docs/EXPERIMENTS.md).

Reads RESULT_DIR/traces/run-NNNNNN.csv (activity, kind, by, start_s, end_s, latency_s, amount,
served, src, dst, route, outcome) and draws one bar per activity from its start to the service
of its last unit, one row per --lane (activities that overlap in time on tracks of their own) (the sending host by default; `route` puts an activity on
the row of its first resource, `by` on the row of the entity that started it), coloured by
kind, hatched when it did not finish. Control messages (no resources) are left out unless
--messages. Like plot_sweep.py, the same inputs give the same bytes.

Example:
  plot_gantt.py results/shuffle/traces/run-000000.csv --lane src --out plots/shuffle-gantt.png
"""

from __future__ import annotations

import argparse
import csv
import os
import sys

from plot_sweep import PlotError, output_metadata, run

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

COLUMNS = ["activity", "kind", "by", "start_s", "end_s", "latency_s", "amount", "served", "src", "dst", "route", "outcome"]
COLOURS = {"network": "#1f77b4", "disk": "#ff7f0e", "cpu": "#2ca02c", "message": "#7f7f7f"}
MIXED = "#9467bd"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="plot_gantt.py", description="Draw a Gantt chart of a BDSim activity trace.")
    p.add_argument("trace", metavar="TRACE_CSV", help="a trace file (RESULT_DIR/traces/run-NNNNNN.csv)")
    p.add_argument("--lane", choices=["src", "dst", "route", "by"], default="src", help="what a row of the chart is")
    p.add_argument("--messages", action="store_true", help="draw control messages too")
    p.add_argument("--max-lanes", type=int, default=60, metavar="N", help="at most N rows, the busiest (default 60)")
    p.add_argument("--title", help="the chart's title (default: the file's name)")
    p.add_argument("--out", required=True, help="the image to write (.png, .svg or .pdf)")
    return p.parse_args(argv)


def lane_of(row: dict, lane: str) -> str:
    if lane == "route":
        return row["route"].split(" ")[0] if row["route"] else "(no route)"
    return row[lane] or "(none)"


def draw(args: argparse.Namespace) -> str:
    metadata = output_metadata(args.out)
    if args.max_lanes < 1:
        raise PlotError("--max-lanes must be at least 1")
    try:
        handle = open(args.trace, newline="", encoding="utf-8")
    except OSError as exc:
        raise PlotError(f"cannot read {args.trace}: {exc.strerror}") from None
    bars: dict[str, list[tuple[float, float, str, bool]]] = {}
    with handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != COLUMNS:
            raise PlotError(f"{args.trace} is not an activity trace (its header is not {','.join(COLUMNS)})")
        for line, row in enumerate(reader, start=2):
            if row["kind"] == "message" and not args.messages:
                continue
            try:
                start, end = float(row["start_s"]), float(row["end_s"])
            except ValueError:
                raise PlotError(f"{args.trace}:{line}: start_s and end_s must be numbers") from None
            bars.setdefault(lane_of(row, args.lane), []).append((start, end, row["kind"], row["outcome"] != "finished"))
    if not bars:
        raise PlotError(f"{args.trace} has no activities to draw")
    # The busiest lanes (most time in activities), then in name order, top to bottom.
    busy = sorted(bars, key=lambda k: (-sum(e - s for s, e, _, _ in bars[k]), k))[: args.max_lanes]
    lanes = sorted(busy)
    height = max(2.5, 0.28 * len(lanes) + 1.2)
    fig, ax = plt.subplots(figsize=(9, height))
    kinds_seen = set()
    for y, lane in enumerate(lanes):
        # Activities of a lane that overlap in time go on tracks of their own inside its row.
        tracks: list[float] = []
        placed = []
        for start, end, kind, unfinished in sorted(bars[lane]):
            track = next((k for k, last in enumerate(tracks) if last <= start), len(tracks))
            if track == len(tracks):
                tracks.append(end)
            tracks[track] = end
            placed.append((track, start, end, kind, unfinished))
        step = 0.8 / len(tracks)
        for track, start, end, kind, unfinished in placed:
            colour = COLOURS.get(kind, MIXED)
            kinds_seen.add(kind if kind in COLOURS else "mixed")
            ax.barh(
                y - 0.4 + step * (track + 0.5), max(end - start, 0.0), left=start, height=step * 0.85, color=colour,
                alpha=0.7, edgecolor="black" if unfinished else colour, linewidth=0.3,
                hatch="//" if unfinished else None,
            )
    ax.set_yticks(range(len(lanes)), lanes, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel({"src": "sending host", "dst": "receiving host", "route": "first resource", "by": "started by"}[args.lane])
    ax.set_title(args.title or os.path.basename(args.trace))
    handles = [Patch(color=COLOURS.get(k, MIXED), alpha=0.55, label=k) for k in sorted(kinds_seen)]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch="//", label="did not finish"))
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="x", alpha=0.3)
    if len(busy) < len(bars):
        ax.text(0.0, -0.12 if height < 4 else -0.05, f"{len(bars) - len(busy)} quieter lanes not shown",
                transform=ax.transAxes, fontsize=7)
    fig.tight_layout()
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    fig.savefig(args.out, dpi=120, metadata=metadata)
    plt.close(fig)
    return args.out


def main(argv: list[str] | None = None) -> int:
    return run(parse_args, draw, argv)


if __name__ == "__main__":
    sys.exit(main())
