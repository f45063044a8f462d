#!/usr/bin/env python3
"""Plot time series of a BDSim result: one panel per metric, one line per sweep point.

Reads RESULT_DIR/timeseries.csv (run, time_s, metric, value) and RESULT_DIR/runs.csv (which
point each run belongs to and its swept parameters). Each line is the mean over the point's
replications at each sample time, labelled by the swept parameters (e.g. `mode=ap`). Shaded
bands mark --band START:END intervals (a fault, say). Like plot_sweep.py, the same inputs give
the same bytes.

Example:
  plot_timeseries.py results/cap-partition --metric quorum.availability \\
      --metric quorum.stale_read_fraction --band 20:40 --out plots/cap-partition.png
"""

from __future__ import annotations

import argparse
import os
import sys

from plot_sweep import PlotError, experiment_title, load_summary, output_metadata, resolve_param, run, short

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="plot_timeseries.py", description="Plot BDSim time series, one line per point.")
    p.add_argument("result_dir", metavar="RESULT_DIR", help="a result directory (holds timeseries.csv and runs.csv)")
    p.add_argument("--metric", "-m", action="append", required=True, metavar="M", help="a series (repeat for panels)")
    p.add_argument("--band", action="append", default=[], metavar="START:END", help="shade [START, END] seconds")
    p.add_argument(
        "--where", action="append", default=[], metavar="PARAM=VALUE", help="only the points with this swept value"
    )
    p.add_argument("--xlim", metavar="START:END", help="the time axis's range, seconds")
    p.add_argument(
        "--replication", type=int, metavar="K",
        help="only replication K (when replications sample at different times, their mean zigzags)",
    )
    p.add_argument("--out", "-o", required=True, metavar="FILE", help="output file, .png, .svg or .pdf")
    p.add_argument("--title", metavar="T", help="plot title (default: the experiment's name and description)")
    return p.parse_args(argv)


def plot(args: argparse.Namespace) -> str:
    series_path = os.path.join(args.result_dir, "timeseries.csv")
    runs_path = os.path.join(args.result_dir, "runs.csv")
    for path in (series_path, runs_path):
        if not os.path.isfile(path):
            raise PlotError(f"no {path} (not a finished result directory?)")
    series = pd.read_csv(series_path, dtype={"metric": str})
    runs = pd.read_csv(runs_path, dtype=str, keep_default_na=False)
    swept = load_summary(args.result_dir)[1]
    available = sorted(set(series["metric"]))
    for metric in args.metric:
        if metric not in available:
            raise PlotError(f"unknown series '{metric}'; series: {', '.join(available)}")
    bands = []
    for band in args.band:
        try:
            start, end = (float(x) for x in band.split(":"))
        except ValueError:
            raise PlotError(f"--band '{band}': expected START:END in seconds, e.g. 20:40") from None
        bands.append((start, end))
    metadata = output_metadata(args.out)

    for condition in args.where:
        name, sep, value = condition.partition("=")
        if not sep:
            raise PlotError(f"--where '{condition}': expected PARAM=VALUE")
        column = resolve_param(name, swept)
        if value not in set(runs[column]):
            raise PlotError(f"--where '{condition}': no point has {short(column)}={value}")
        runs = runs[runs[column] == value]
    if args.replication is not None:
        runs = runs[runs["replication"] == str(args.replication)]
        if runs.empty:
            raise PlotError(f"--replication {args.replication}: no such replication")
    shown = [c for c in swept if runs[c].nunique() > 1] or swept
    runs["run"] = runs["run"].astype(int)
    label_of_point = {}
    for _, row in runs.drop_duplicates("point").iterrows():
        label_of_point[row["point"]] = ", ".join(f"{short(c)}={row[c]}" for c in shown) or "all runs"
    merged = series.merge(runs[["run", "point"]], on="run")

    matplotlib.rcdefaults()
    matplotlib.rcParams["svg.hashsalt"] = "bdsim"
    matplotlib.rcParams["svg.fonttype"] = "path"
    fig, axes = plt.subplots(
        len(args.metric), 1, figsize=(9, 2.6 * len(args.metric) + 0.8), dpi=150, sharex=True, layout="constrained"
    )
    axes = axes if len(args.metric) > 1 else [axes]
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    points = sorted(label_of_point, key=lambda p: int(p))
    for ax, metric in zip(axes, args.metric):
        for i, point in enumerate(points):
            rows = merged[(merged["metric"] == metric) & (merged["point"] == point)]
            if rows.empty:
                continue
            mean = rows.groupby("time_s", sort=True)["value"].mean()
            ax.plot(mean.index, mean.values, color=colours[i % len(colours)], linewidth=1.5, label=label_of_point[point])
        for start, end in bands:
            ax.axvspan(start, end, color="0.85", zorder=0)
        ax.set_ylabel(metric, fontsize=8)
        ax.grid(True, alpha=0.3)
    if args.xlim:
        try:
            start, end = (float(x) for x in args.xlim.split(":"))
        except ValueError:
            raise PlotError(f"--xlim '{args.xlim}': expected START:END in seconds") from None
        axes[-1].set_xlim(start, end)
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, fontsize=8)
    axes[-1].set_xlabel("simulated time (s)")
    axes[0].set_title(args.title if args.title is not None else experiment_title(args.result_dir), fontsize=11)
    fig.savefig(args.out, metadata=metadata)
    plt.close(fig)
    return args.out


def main(argv: list[str] | None = None) -> int:
    return run(parse_args, plot, argv)


if __name__ == "__main__":
    sys.exit(main())
