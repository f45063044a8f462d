#!/usr/bin/env python3
"""Plot one metric of a BDSim sweep against a swept parameter, with 95% confidence intervals.

Reads RESULT_DIR/summary.csv (written by `bdsim run` or `bdsim merge`): columns point, the swept
parameter columns (e.g. params.servers, params.utilisation), metric, n, mean, stddev, ci95_low,
ci95_high. Draws the metric's mean against --x with the CI as error bars, one line per value (or
combination of values) of the other swept parameters. --also overlays more metrics, dashed, with
the same colour per line; a metric whose CI is zero everywhere (e.g. a closed-form theory value)
is drawn without error bars.

The output is byte-for-byte reproducible: matplotlib's defaults (not the user's matplotlibrc), the
Agg backend, a fixed SVG hash salt and no timestamps or version strings in the file's metadata.

Examples:
  plot_sweep.py results/quickstart --metric station.station.response_mean --x utilisation \\
      --also theory.response_mean --logy --out plots/quickstart.png
  plot_sweep.py results/quickstart --metric station.station.utilisation --x servers
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from typing import NoReturn

FIXED_COLUMNS_BEFORE = ["point"]
FIXED_COLUMNS_AFTER = ["metric", "n", "mean", "stddev", "ci95_low", "ci95_high"]
PARAM_PREFIX = "params."


class PlotError(Exception):
    """A user error: printed as one line, exit status 2."""


def fail(message: str) -> NoReturn:
    print(f"plot_sweep.py: error: {message}", file=sys.stderr)
    sys.exit(2)


try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter
    import pandas as pd
except ImportError as exc:  # pragma: no cover - depends on the environment
    fail(
        f"{exc.name or exc} is not installed; use the venv that `make plots` creates "
        "(plots/.venv/bin/python plots/plot_sweep.py ...) or `pip install -r plots/requirements.txt`"
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="plot_sweep.py",
        description="Plot a metric of a BDSim sweep against a swept parameter, with 95% CI error bars.",
    )
    p.add_argument("result_dir", metavar="RESULT_DIR", help="a result directory (holds summary.csv)")
    p.add_argument("--metric", "-m", required=True, metavar="M", help="the metric to plot (a name in summary.csv)")
    p.add_argument(
        "--x",
        metavar="PARAM",
        help="the swept parameter on the x axis (default: the last swept column); 'params.' may be omitted",
    )
    p.add_argument(
        "--also",
        nargs="+",
        action="extend",
        default=[],
        metavar="METRIC",
        help="further metrics to overlay (dashed, same colours); repeatable",
    )
    p.add_argument(
        "--out",
        "-o",
        metavar="FILE",
        help="output file, .png, .svg or .pdf (default: RESULT_DIR/METRIC-vs-PARAM.png)",
    )
    p.add_argument("--logy", action="store_true", help="logarithmic y axis")
    p.add_argument("--title", metavar="T", help="plot title (default: the experiment's name and description)")
    return p.parse_args(argv)


def short(param: str) -> str:
    return param[len(PARAM_PREFIX):] if param.startswith(PARAM_PREFIX) else param


def load_summary(result_dir: str) -> tuple["pd.DataFrame", list[str]]:
    if not os.path.isdir(result_dir):
        raise PlotError(f"no such result directory: {result_dir}")
    path = os.path.join(result_dir, "summary.csv")
    if not os.path.isfile(path):
        raise PlotError(
            f"{result_dir} has no summary.csv (not a finished result directory? run `bdsim merge` on shards)"
        )
    with open(path, newline="") as f:
        header = next(csv.reader(f), [])
    if header[:1] != FIXED_COLUMNS_BEFORE or "metric" not in header or header[-5:] != FIXED_COLUMNS_AFTER[1:]:
        raise PlotError(f"{path}: unexpected header {','.join(header)}")
    swept = header[1 : header.index("metric")]
    # Swept values are read as text so that labels show exactly what the config said (servers=2,
    # not servers=2.0); the x axis converts them to numbers where it can.
    dtypes = {c: str for c in swept}
    dtypes["metric"] = str
    try:
        numeric_na = {c: ["", "nan", "NaN"] for c in FIXED_COLUMNS_AFTER[1:]}
        df = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=numeric_na)
    except Exception as exc:  # malformed CSV: say so in one line
        raise PlotError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    if df.empty:
        raise PlotError(f"{path} has no rows")
    return df, swept


def resolve_param(name: str, swept: list[str]) -> str:
    for candidate in (name, PARAM_PREFIX + name):
        if candidate in swept:
            return candidate
    if not swept:
        raise PlotError("this result has no swept parameter (the config has no sweep), so there is no x axis")
    raise PlotError(f"unknown parameter '{name}'; swept parameters: {', '.join(swept)}")


def experiment_title(result_dir: str) -> str:
    try:
        with open(os.path.join(result_dir, "manifest.json")) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return os.path.basename(os.path.normpath(result_dir))
    name = manifest.get("name") or os.path.basename(os.path.normpath(result_dir))
    description = (manifest.get("config") or {}).get("description")
    return f"{name}: {description}" if description else str(name)


def as_numbers(values: "pd.Series") -> "pd.Series | None":
    numbers = pd.to_numeric(values, errors="coerce")
    return None if numbers.isna().any() else numbers.astype(float)


def ordered_unique(df: "pd.DataFrame", column: str) -> list[str]:
    """The values of a swept column in numeric order if they are all numbers, else in sweep order."""
    first = df.sort_values("point", kind="stable").drop_duplicates(column)[column].tolist()
    numbers = as_numbers(pd.Series(first))
    if numbers is not None:
        first = [v for _, v in sorted(zip(numbers.tolist(), first), key=lambda t: t[0])]
    return first


def plot(args: argparse.Namespace) -> str:
    df, swept = load_summary(args.result_dir)
    available = list(dict.fromkeys(df["metric"].tolist()))
    for m in [args.metric, *args.also]:
        if m not in available:
            raise PlotError(f"unknown metric '{m}'; available metrics: {', '.join(available)}")
    if not swept:
        raise PlotError("this result has no swept parameter (the config has no sweep), so there is no x axis")
    x_col = resolve_param(args.x, swept) if args.x else swept[-1]
    out = args.out or os.path.join(args.result_dir, f"{args.metric}-vs-{short(x_col)}.png")
    metadata = output_metadata(out)
    out_dir = os.path.dirname(out)
    if out_dir and not os.path.isdir(out_dir):
        raise PlotError(f"no such directory for --out: {out_dir}")
    others = [c for c in swept if c != x_col]

    x_values = ordered_unique(df, x_col)
    x_numbers = as_numbers(pd.Series(x_values))
    categorical = x_numbers is None
    if categorical:
        x_pos = {v: float(i) for i, v in enumerate(x_values)}
    else:
        x_pos = dict(zip(x_values, x_numbers.tolist()))

    # One line per combination of the other swept parameters, in a stable order.
    if others:
        orders = [ordered_unique(df, c) for c in others]
        present = set(map(tuple, df[others].drop_duplicates().itertuples(index=False, name=None)))
        groups: list[tuple[str, ...]] = []

        def combine(prefix: tuple[str, ...], level: int) -> None:
            if level == len(others):
                if prefix in present:
                    groups.append(prefix)
                return
            for v in orders[level]:
                combine(prefix + (v,), level + 1)

        combine((), 0)
    else:
        groups = [()]

    matplotlib.rcdefaults()  # ignore any matplotlibrc: the same bytes on every machine
    matplotlib.rcParams["svg.hashsalt"] = "bdsim"
    matplotlib.rcParams["svg.fonttype"] = "path"
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=150, layout="constrained")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = ["-", "--", ":", "-."]
    markers = ["o", "s", "^", "D", "v", "P", "X"]

    metrics = [args.metric, *args.also]
    primary_has_ci = False
    for gi, key in enumerate(groups):
        colour = colours[gi % len(colours)]
        sel = df
        for c, v in zip(others, key):
            sel = sel[sel[c] == v]
        group_label = ", ".join(f"{short(c)}={v}" for c, v in zip(others, key))
        for mi, metric in enumerate(metrics):
            rows = sel[sel["metric"] == metric].copy()
            if rows.empty:
                continue
            rows["_x"] = rows[x_col].map(x_pos)
            rows = rows.sort_values("_x", kind="stable")
            mean = rows["mean"].astype(float)
            low = (mean - rows["ci95_low"].astype(float)).clip(lower=0)
            high = (rows["ci95_high"].astype(float) - mean).clip(lower=0)
            has_ci = bool(((low.fillna(0) > 0) | (high.fillna(0) > 0)).any())
            primary = mi == 0
            primary_has_ci = primary_has_ci or (primary and has_ci)
            label = group_label if (primary and group_label) else None
            common = dict(
                color=colour,
                linestyle=styles[mi % len(styles)],
                linewidth=1.6 if primary else 1.2,
                marker=markers[gi % len(markers)] if primary else None,
                markersize=4.5,
                label=label,
            )
            if has_ci:
                ax.errorbar(
                    rows["_x"], mean, yerr=[low.fillna(0), high.fillna(0)], capsize=3, elinewidth=1, **common
                )
            else:
                ax.plot(rows["_x"], mean, **common)

    if categorical:
        ax.set_xticks([x_pos[v] for v in x_values], x_values)
        ax.set_xlim(-0.5, len(x_values) - 0.5)
    elif len(x_values) <= 12:
        ax.set_xticks([x_pos[v] for v in x_values], x_values)
    if args.logy:
        ax.set_yscale("log")
        low_y, high_y = ax.get_ylim()
        if low_y > 0 and high_y / low_y <= 1e3:
            # Few decades: label 1, 2, 5, 10, 20, ... rather than only the powers of ten.
            plain = FuncFormatter(lambda v, _pos: f"{v:g}")
            ax.yaxis.set_major_formatter(plain)
            shown = "123456789" if high_y / low_y <= 10 else "25"
            ax.yaxis.set_minor_formatter(
                FuncFormatter(lambda v, _pos: f"{v:g}" if f"{v:.0e}"[0] in shown else "")
            )
    ax.set_xlabel(short(x_col))
    ax.set_ylabel(args.metric)
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(args.title if args.title is not None else experiment_title(args.result_dir), fontsize=11)

    legends = []
    if others:
        legends.append(ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, fontsize=8))
    if args.also:
        if legends:
            ax.add_artist(legends[0])
        handles = [
            Line2D(
                [], [], color="0.2", linestyle=styles[mi % len(styles)],
                label=m + (" (95% CI)" if mi == 0 and primary_has_ci else ""),
            )
            for mi, m in enumerate(metrics)
        ]
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(1.01, 0.0), borderaxespad=0, fontsize=8)
    elif not legends and primary_has_ci:
        ax.set_ylabel(f"{args.metric} (95% CI)")

    fig.savefig(out, metadata=metadata)
    plt.close(fig)
    return out


def output_metadata(out: str) -> dict:
    """Metadata for savefig without dates or version strings (the same inputs give the same bytes)."""
    ext = os.path.splitext(out)[1].lower()
    metadata = {
        ".png": {"Software": None},
        ".svg": {"Date": None, "Creator": None},
        ".pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
    }.get(ext)
    if metadata is None:
        raise PlotError(f"unsupported output type '{ext or out}': use .png, .svg or .pdf")
    return metadata


def run(parse, draw, argv: list[str] | None = None) -> int:
    """Parses the arguments, draws, prints the file written; a PlotError is one line and exit 2."""
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        out = draw(args)
    except PlotError as exc:
        fail(str(exc))
    print(out)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(parse_args, plot, argv)


if __name__ == "__main__":
    sys.exit(main())
