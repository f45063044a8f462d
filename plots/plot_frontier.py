#!/usr/bin/env python3
"""Scatter two metrics of a BDSim sweep against each other: a trade-off frontier.

Each sweep point is one marker at (mean of --x, mean of --y), labelled with the values of the
--label parameters (e.g. `R=1 W=2`) and coloured by the value of --group (renamed with
--name VALUE=NAME, for long values such as distributions). Like plot_sweep.py, the same inputs
give the same bytes.

Example:
  plot_frontier.py results/cap-quorum-latency --x quorum.write_latency_p999 \\
      --y quorum.t_visibility_999 --label read_consistency --label write_consistency \\
      --group legs.write --name "mixture(0.38 ...)=disk" --out plots/cap-quorum-latency.png
"""

from __future__ import annotations

import argparse
import sys

from plot_sweep import PlotError, experiment_title, load_summary, output_metadata, resolve_param, run, short

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="plot_frontier.py", description="Scatter two metrics of a BDSim sweep.")
    p.add_argument("result_dir", metavar="RESULT_DIR", help="a result directory (holds summary.csv)")
    p.add_argument("--x", required=True, metavar="METRIC", help="metric on the x axis")
    p.add_argument("--y", required=True, metavar="METRIC", help="metric on the y axis")
    p.add_argument("--label", action="append", default=[], metavar="PARAM", help="swept parameter in point labels")
    p.add_argument("--group", metavar="PARAM", help="swept parameter whose values get their own colour")
    p.add_argument("--name", action="append", default=[], metavar="VALUE=NAME", help="legend name of a group value")
    p.add_argument("--logx", action="store_true", help="logarithmic x axis")
    p.add_argument("--logy", action="store_true", help="logarithmic y axis")
    p.add_argument("--out", "-o", required=True, metavar="FILE", help="output file, .png, .svg or .pdf")
    p.add_argument("--title", metavar="T", help="plot title (default: the experiment's name and description)")
    return p.parse_args(argv)


def plot(args: argparse.Namespace) -> str:
    df, swept = load_summary(args.result_dir)
    for metric in (args.x, args.y):
        if metric not in set(df["metric"]):
            raise PlotError(f"unknown metric '{metric}'; available metrics: {', '.join(sorted(set(df['metric'])))}")
    labels = [resolve_param(p, swept) for p in args.label]
    group = resolve_param(args.group, swept) if args.group else None
    names = {}
    for entry in args.name:
        value, sep, name = entry.rpartition("=")
        if not sep:
            raise PlotError(f"--name '{entry}': expected VALUE=NAME")
        names[value] = name
    metadata = output_metadata(args.out)

    wide = df.pivot_table(index=["point", *swept], columns="metric", values="mean", aggfunc="first").reset_index()
    wide["_point"] = wide["point"].astype(int)
    wide = wide.sort_values("_point", kind="stable")
    matplotlib.rcdefaults()
    matplotlib.rcParams["svg.hashsalt"] = "bdsim"
    matplotlib.rcParams["svg.fonttype"] = "path"
    fig, ax = plt.subplots(figsize=(9, 5.2), dpi=150, layout="constrained")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    groups = list(dict.fromkeys(wide[group])) if group else [None]
    for gi, value in enumerate(groups):
        rows = wide[wide[group] == value] if group else wide
        name = names.get(value, value) if group else None
        ax.scatter(rows[args.x], rows[args.y], color=colours[gi % len(colours)], s=28, label=name, zorder=3)
        # Points at the same place share one label.
        at: dict[tuple[float, float], list[str]] = {}
        for _, row in rows.iterrows():
            text = " ".join(f"{short(c).split('_')[0][0].upper()}={row[c]}" for c in labels)
            at.setdefault((float(row[args.x]), float(row[args.y])), []).append(text)
        for (x, y), texts in at.items():
            ax.annotate(", ".join(texts), (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7)
    if args.logx:
        ax.set_xscale("log")
    if args.logy:
        # Symmetric log: zero (e.g. "always visible") stays on the axis.
        ax.set_yscale("symlog", linthresh=1e-4)
        ax.set_ylim(0, ax.get_ylim()[1] * 3)
    ax.set_xlabel(args.x)
    ax.set_ylabel(args.y)
    ax.grid(True, alpha=0.3)
    if group:
        ax.legend(title=short(group), fontsize=8)
    ax.set_title(args.title if args.title is not None else experiment_title(args.result_dir), fontsize=11)
    fig.savefig(args.out, metadata=metadata)
    plt.close(fig)
    return args.out


def main(argv: list[str] | None = None) -> int:
    return run(parse_args, plot, argv)


if __name__ == "__main__":
    sys.exit(main())
