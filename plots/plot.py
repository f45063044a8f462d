#!/usr/bin/env python3
"""Draw the plots a BDSim experiment declares (its `plots:` section) from a result directory.

    plot.py RESULT_DIR [--where KEY=VALUE ...] [--only METRIC|FILE ...]
    plot.py RESULT_DIR --spec FILE|-            (what `bdsim plot` runs: the spec on stdin)
    plot.py RESULT_DIR --metric M [--x KEY] [--group KEY ...] [--also M ...] [--kind K] [--scale log]
            [--where KEY=VALUE ...] [--title T] --out FILE      (one plot the experiment does not declare)

The plots and each metric's kind and unit come from a spec: the result directory's manifest.json
(`plot_spec`, written by `bdsim run` for a config with `plots:`), or the one `bdsim plot` builds
from the config (for results run before the config declared its plots). Axes carry the metric's
unit, scaled to a readable one (ms, MB/s, GB: SI for bytes, as the tables); an x axis whose values
are not all numbers or quantities (acks 0, 1, all; fault lists) is drawn as grouped bars; legends
sit outside the axes; long values (fault lists as JSON) are shortened. The same result directory
always gives the same bytes (matplotlib's defaults, no dates or versions in the file).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import textwrap

from typing import NoReturn

from plot_sweep import PlotError, load_summary, output_metadata, short

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402
import pandas as pd  # noqa: E402

KINDS = ["line", "bar", "timeseries", "frontier"]


def fail(message: str) -> NoReturn:
    print(f"plot.py: error: {message}", file=sys.stderr)
    sys.exit(2)


# MARK: units


def duration_unit(seconds: float) -> tuple[float, str]:
    """The unit a duration of about `seconds` reads best in (as the tables' MetricFormat)."""
    m = abs(seconds)
    if m == 0 or not math.isfinite(m):
        return 1, "s"
    for limit, scale, name in ((1e-6, 1e-9, "ns"), (1e-3, 1e-6, "µs"), (1, 1e-3, "ms"), (600, 1, "s"), (36000, 60, "min")):
        if m < limit:
            return scale, name
    return 3600, "h"


def si_prefix(value: float) -> tuple[float, str]:
    m = abs(value)
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if m >= factor:
            return factor, prefix
    return 1, ""


BYTE_SCALE = {"B": 1, "B/s": 1, "MB": 1e6, "MB/s": 1e6}


def axis_unit(info: dict | None, largest: float, log: bool = False) -> tuple[float, str]:
    """(divisor, unit) for values of a metric whose largest magnitude is `largest` (on a log axis
    counts keep their plain numbers: 10^0 to 10^6 reads better than 10^-6 to 1 M)."""
    if not info:
        return 1, ""
    kind, unit = info.get("kind"), info.get("unit", "")
    if log and kind in ("count", "level"):
        return 1, unit
    if kind == "duration" and unit == "s":
        return duration_unit(largest)
    if kind in ("bytes", "rate") and unit in BYTE_SCALE:
        base = BYTE_SCALE[unit]
        factor, prefix = si_prefix(largest * base)
        return factor / base, prefix + "B" + ("/s" if kind == "rate" else "")
    if kind == "rate" and unit.endswith("/s"):
        factor, prefix = si_prefix(largest)
        return factor, (prefix + " " if prefix else "") + unit
    if kind in ("count", "level"):
        factor, prefix = si_prefix(largest) if largest >= 1e5 else (1, "")
        text = (prefix + " " if prefix else "") + unit if unit else ("thousands" if prefix == "k" else "millions" if prefix == "M" else prefix)
        return factor, text.strip()
    if kind == "fraction":
        return 1, "fraction"
    return 1, "" if unit in ("", "1") else unit


def typical(values: "pd.Series", log: bool) -> float:
    """The magnitude a unit is chosen for: the largest value, or on a log axis the geometric
    middle of the positive ones (5 to 8000 k records/s, not 0.005 to 8 M records/s)."""
    values = values.astype(float).abs()
    values = values[values.apply(math.isfinite)]
    if values.empty:
        return 0.0
    if log:
        positive = values[values > 0]
        if not positive.empty:
            return math.sqrt(float(positive.min()) * float(positive.max()))
    return float(values.max())


def axis_label(metric: str, unit: str) -> str:
    return f"{metric} ({unit})" if unit else metric


# MARK: values and labels


_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-zµ/%]*)\s*$")
_UNITS = {
    "": 1, "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400,
    "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
    "%": 0.01, "/s": 1, "k/s": 1e3, "M/s": 1e6, "Gbps": 1e9, "Mbps": 1e6, "MB/s": 1e6, "GB/s": 1e9,
}


def as_quantity(text: str) -> float | None:
    """A number or a number with a unit (5min, 1KiB), in base units; None for anything else."""
    match = _QUANTITY.match(text)
    if not match or match.group(2) not in _UNITS:
        return None
    return float(match.group(1)) * _UNITS[match.group(2)]


def seconds(text: str) -> float:
    value = as_quantity(str(text))
    if value is None:
        raise PlotError(f"'{text}' is not a duration")
    return value


def shorten(value: str, width: int = 30) -> str:
    """A value as a legend or tick shows it: JSON fault lists in words, long text wrapped."""
    text = str(value)
    if text[:1] in "[{":
        try:
            text = _words(json.loads(text))
        except ValueError:
            pass
    lines = textwrap.wrap(text, width=width, break_on_hyphens=False) or [text]
    if len(lines) > 3:
        lines = lines[:3]
        lines[-1] = lines[-1][: width - 1] + "…"
    return "\n".join(lines)


def _words(value) -> str:
    if isinstance(value, list):
        if not value:
            return "none"
        if all(isinstance(v, list) for v in value):  # partition groups
            return " | ".join("+".join(_words(x) for x in v) for v in value)
        return "; ".join(_words(v) for v in value)
    if isinstance(value, dict):
        first = [k for k in value if k not in ("at", "for")] + [k for k in ("at", "for") if k in value]
        return " ".join(f"{k} {_words(value[k])}" for k in first)
    return str(value)


def group_label(columns: list[str], key: tuple[str, ...]) -> str:
    """A legend entry: the values (the legend's title names the keys)."""
    return ", ".join(shorten(v) for v in key)


def legend_title(columns: list[str]) -> str | None:
    return ", ".join(short(c) for c in columns) or None


def ordered(values: list[str]) -> list[str]:
    """Distinct values in numeric (or quantity) order when they all are one, else as first seen."""
    seen = list(dict.fromkeys(values))
    numbers = [as_quantity(v) for v in seen]
    if all(n is not None for n in numbers):
        return [v for _, v in sorted(zip(numbers, seen), key=lambda t: t[0])]
    return seen


# MARK: the spec


def resolve(name: str, swept: list[str]) -> str:
    for candidate in (name, "params." + name):
        if candidate in swept:
            return candidate
    raise PlotError(f"'{name}' is not swept; swept keys: {', '.join(swept) or 'none'}")


def load_spec(args: argparse.Namespace) -> dict:
    if args.spec:
        try:
            text = sys.stdin.read() if args.spec == "-" else open(args.spec).read()
            return json.loads(text)
        except (OSError, ValueError) as exc:
            raise PlotError(f"cannot read the spec {args.spec}: {exc}") from None
    try:
        with open(os.path.join(args.result_dir, "manifest.json")) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        manifest = {}
    if args.metric:
        config = manifest.get("config") or {}
        return {
            "name": manifest.get("name") or os.path.basename(os.path.normpath(args.result_dir)),
            "description": config.get("description", ""),
            "swept": [],
            "metrics": manifest.get("metrics") or {},
            "plots": [],
        }
    spec = manifest.get("plot_spec")
    if not spec:
        raise PlotError(
            f"{args.result_dir}/manifest.json declares no plots (results run before the config had plots:?): "
            f"draw them with `bdsim plot {args.result_dir}`, or one with --metric M --out FILE"
        )
    return spec


def adhoc_plot(args: argparse.Namespace, swept: list[str]) -> dict:
    if not args.out:
        raise PlotError("--metric needs --out FILE")
    x = resolve(args.x, swept) if args.x else None
    return {
        "metric": args.metric, "kind": args.kind, "x": x, "group": [resolve(g, swept) for g in args.group] or None,
        "where": {}, "scale": args.scale, "xscale": "linear", "also": args.also, "title": args.title, "out": args.out,
        "band": [], "xlim": None, "replication": None, "label": [], "names": {},
    }


def apply_where(plot: dict, conditions: list[str], swept: list[str], values: dict[str, set]) -> dict:
    plot = dict(plot)
    where = dict(plot.get("where") or {})
    for condition in conditions:
        name, sep, value = condition.partition("=")
        if not sep:
            raise PlotError(f"--where '{condition}': expected KEY=VALUE")
        column = resolve(name, swept)
        if value not in values[column]:
            raise PlotError(
                f"--where '{condition}': {short(column)} never takes '{value}'; its values: {', '.join(ordered(list(values[column])))}"
            )
        where[column] = value
        plot["sliced_here"] = [*plot.get("sliced_here", []), column]
    plot["where"] = where
    if plot.get("group"):
        plot["group"] = [g for g in plot["group"] if g not in where]
    return plot


# MARK: drawing


def new_figure(height: float = 4.8, panels: int = 1):
    matplotlib.rcdefaults()  # ignore any matplotlibrc: the same bytes on every machine
    matplotlib.rcParams["svg.hashsalt"] = "bdsim"
    matplotlib.rcParams["svg.fonttype"] = "path"
    fig, axes = plt.subplots(panels, 1, figsize=(10, height), dpi=150, layout="constrained", sharex=panels > 1)
    return fig, axes


COLOURS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def colours(n: int) -> list:
    """The default cycle for up to 10 lines; tab20 beyond, so no two lines share a colour."""
    return COLOURS if n <= 10 else [plt.get_cmap("tab20")(i % 20) for i in range(n)]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
STYLES = ["-", "--", ":", "-."]
HATCHES = ["", "//", "..", "xx"]


def wrap_label(text: str, width: int = 50) -> str:
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False))


def title_of(spec: dict, plot: dict) -> str:
    if plot.get("title"):
        text = plot["title"]
    else:
        text = spec.get("name", "") + (f": {spec['description']}" if spec.get("description") else "")
    # The slices a declared title does not know of: all of them under the default title, those of
    # --where under a declared one.
    where = plot.get("where") or {}
    named = [k for k in where if not plot.get("title") or k in plot.get("sliced_here", [])]
    if named:
        text += " (" + ", ".join(f"{short(k)}={shorten(where[k], 40)}" for k in named) + ")"
    return "\n".join(textwrap.wrap(text, 95))


def legend_below(handles: list) -> bool:
    """Whether the legend goes below the axes: many entries or long ones (else beside, right)."""
    if not handles:
        return False
    longest = max(max(len(line) for line in h.get_label().split("\n")) for h in handles)
    return len(handles) > 12 or longest > 40


def outside_legend(fig, handles: list, title: str | None = None) -> None:
    """Beside the axes (right), or below them when there are many entries or long ones."""
    if not handles:
        return
    longest = max(max(len(line) for line in h.get_label().split("\n")) for h in handles)
    if not legend_below(handles):
        fig.legend(handles=handles, loc="outside right upper", fontsize=8, title=title, title_fontsize=8)
    else:
        ncol = max(1, min(4, 120 // (longest + 8)))
        fig.legend(handles=handles, loc="outside lower center", ncol=ncol, fontsize=8, title=title, title_fontsize=8)


def log_ticks(ax, axis: str = "y") -> None:
    which = ax.yaxis if axis == "y" else ax.xaxis
    low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
    if low > 0 and high / low <= 1e3:
        # Few decades: label 1, 2, 5, 10, 20, ... rather than only the powers of ten.
        which.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        shown = "123456789" if high / low <= 10 else "25"
        which.set_minor_formatter(FuncFormatter(lambda v, _pos: f"{v:g}" if f"{v:.0e}"[0] in shown else ""))
    elif low > 0:
        which.set_minor_formatter(NullFormatter())


def category_ticks(ax, info: dict | None) -> None:
    if info and info.get("kind") == "category" and info.get("categories"):
        codes = sorted(int(c) for c in info["categories"])
        ax.set_yticks(codes, [info["categories"][str(c)] for c in codes])


def sweep_plot(spec: dict, plot: dict, df: "pd.DataFrame", swept: list[str], out: str) -> None:
    metrics = [plot["metric"], *(plot.get("also") or [])]
    available = set(df["metric"])
    for m in metrics:
        if m not in available:
            raise PlotError(f"{plot['metric']}: the results have no metric '{m}'")
    if not swept:
        raise PlotError(f"{plot['metric']}: the results sweep nothing, so there is no x axis")
    x_col = plot.get("x") or swept[-1]
    where = plot.get("where") or {}
    for column, value in where.items():
        df = df[df[column] == value]
    if df.empty:
        raise PlotError(f"{plot['metric']}: no point has {', '.join(f'{short(k)}={v}' for k, v in where.items())}")
    group = plot.get("group")
    if group is None:
        group = [c for c in swept if c != x_col and c not in where]
    # A group key that does not vary, or varies with x or with a key before it (a zip), says nothing.
    points = df.drop_duplicates("point")
    kept: list[str] = []
    for g in group:
        if points[g].nunique() <= 1 or points.groupby(x_col)[g].nunique().max() <= 1:
            continue
        if kept and points.groupby(kept)[g].nunique().max() <= 1:
            continue
        kept.append(g)
    group = kept
    x_values = ordered(points.sort_values("point", key=lambda s: s.astype(int))[x_col].tolist())
    numbers = [as_quantity(v) for v in x_values]
    numeric = all(n is not None for n in numbers)
    keys = list(dict.fromkeys(map(tuple, points.sort_values("point", key=lambda s: s.astype(int))[group].itertuples(index=False, name=None)))) if group else [()]
    if group:
        orders = [ordered(points[g].tolist()) for g in group]
        keys.sort(key=lambda k: [orders[i].index(v) for i, v in enumerate(k)])
    kind = plot.get("kind")
    if kind is None:
        # Lines need two points: a group with one x value at most (exclusions) is drawn as bars.
        longest = points.groupby(group)[x_col].nunique().max() if group else len(x_values)
        kind = "line" if numeric and longest > 1 else "bar"
    if kind == "line" and not numeric:
        kind = "line-categorical"

    infos = spec.get("metrics") or {}
    primary_info = infos.get(plot["metric"])
    same_unit = lambda m: (infos.get(m) or {}).get("kind") == (primary_info or {}).get("kind") and (infos.get(m) or {}).get("unit") == (primary_info or {}).get("unit")  # noqa: E731
    left = [m for m in metrics if m == plot["metric"] or same_unit(m)]
    right = [m for m in metrics if m not in left]

    def largest(ms: list[str]) -> float:
        return typical(df[df["metric"].isin(ms)]["mean"], plot.get("scale") == "log")

    fig, ax = new_figure()
    axes = {m: ax for m in left}
    divisors = {}
    log = plot.get("scale") == "log"
    scale_l, unit_l = axis_unit(primary_info, largest(left), log)
    for m in left:
        divisors[m] = scale_l
    ax2 = None
    if right:
        ax2 = ax.twinx()
        info_r = infos.get(right[0])
        scale_r, unit_r = axis_unit(info_r, largest(right), log)
        for m in right:
            axes[m] = ax2
            divisors[m] = scale_r

    n_bars = len(keys) * len(metrics)
    width = 0.8 / max(1, n_bars)
    positions = {v: (n if kind == "line" else float(i)) for i, (v, n) in enumerate(zip(x_values, numbers))}
    any_ci = False
    handles = []
    palette = colours(len(keys))
    for gi, key in enumerate(keys):
        colour = palette[gi % len(palette)]
        sel = df
        for c, v in zip(group, key):
            sel = sel[sel[c] == v]
        for mi, metric in enumerate(metrics):
            rows = sel[sel["metric"] == metric].copy()
            if rows.empty:
                continue
            rows["_x"] = rows[x_col].map(positions)
            rows = rows.sort_values("_x", kind="stable")
            d = divisors[metric]
            mean = rows["mean"].astype(float) / d
            low = (mean - rows["ci95_low"].astype(float) / d).clip(lower=0).fillna(0)
            high = (rows["ci95_high"].astype(float) / d - mean).clip(lower=0).fillna(0)
            has_ci = bool(((low > 0) | (high > 0)).any())
            any_ci = any_ci or has_ci
            target = axes[metric]
            if kind == "bar":
                offset = (gi * len(metrics) + mi - (n_bars - 1) / 2) * width
                target.bar(
                    rows["_x"] + offset, mean, width=width * 0.95, color=colour, alpha=1.0 if mi == 0 else 0.55,
                    hatch=HATCHES[mi % len(HATCHES)], edgecolor="white" if mi == 0 else colour, linewidth=0.5,
                    yerr=[low, high] if has_ci else None, capsize=2, error_kw={"elinewidth": 0.8},
                )
            else:
                style = dict(
                    color=colour, linestyle=STYLES[mi % len(STYLES)], linewidth=1.6 if mi == 0 else 1.2,
                    marker=MARKERS[gi % len(MARKERS)] if mi == 0 else None, markersize=4.5,
                )
                if has_ci:
                    target.errorbar(rows["_x"], mean, yerr=[low, high], capsize=3, elinewidth=1, **style)
                else:
                    target.plot(rows["_x"], mean, **style)
        if group:
            label = group_label(group, key)
            handles.append(
                Patch(color=colour, label=label) if kind == "bar" else
                Line2D([], [], color=colour, marker=MARKERS[gi % len(MARKERS)], label=label)
            )
    if len(metrics) > 1:
        handles.append(Line2D([], [], linestyle="none", label=" "))
        for mi, m in enumerate(metrics):
            side = " (right axis)" if m in right else ""
            if kind == "bar":
                handles.append(Patch(facecolor="0.45" if mi == 0 else "0.75", hatch=HATCHES[mi % len(HATCHES)], edgecolor="white", label=m + side))
            else:
                handles.append(Line2D([], [], color="0.2", linestyle=STYLES[mi % len(STYLES)], label=m + side))
    if kind == "line":
        if plot.get("xscale") == "log":
            ax.set_xscale("log")
        if len(x_values) <= 12:
            ax.set_xticks([positions[v] for v in x_values], [shorten(v, 16) for v in x_values])
            ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        ax.set_xticks(range(len(x_values)), [shorten(v, 22) for v in x_values])
        ax.set_xlim(-0.6, len(x_values) - 0.4)
    for target in [ax] + ([ax2] if ax2 else []):
        if plot.get("scale") == "log":
            target.set_yscale("log")
            log_ticks(target)
        elif kind == "bar":
            target.set_ylim(bottom=0) if target.get_ylim()[0] >= 0 else None
    ax.set_xlabel(short(x_col))
    ci = " — mean, 95% CI" if any_ci else ""
    # The legend names the overlaid metrics; the axis names the first of its own and the unit.
    ax.set_ylabel(wrap_label(axis_label(plot["metric"], unit_l) + ci), fontsize=9)
    if ax2 is not None:
        ax2.set_ylabel(wrap_label(axis_label(right[0], unit_r)), fontsize=9)
    category_ticks(ax, primary_info)
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(title_of(spec, plot), fontsize=11)
    outside_legend(fig, handles, title=legend_title(group))
    fig.savefig(out, metadata=output_metadata(out))
    plt.close(fig)


def timeseries_plot(spec: dict, plot: dict, result_dir: str, swept: list[str], out: str) -> None:
    series_path = os.path.join(result_dir, "timeseries.csv")
    runs_path = os.path.join(result_dir, "runs.csv")
    for path in (series_path, runs_path):
        if not os.path.isfile(path):
            raise PlotError(f"no {path} (not a finished result directory?)")
    series = pd.read_csv(series_path, dtype={"metric": str})
    runs = pd.read_csv(runs_path, dtype=str, keep_default_na=False)
    metrics = [plot["metric"], *(plot.get("also") or [])]
    available = set(series["metric"])
    for m in metrics:
        if m not in available:
            raise PlotError(f"{plot['metric']}: the results have no series '{m}'")
    for column, value in (plot.get("where") or {}).items():
        runs = runs[runs[column] == value]
    if plot.get("replication") is not None:
        runs = runs[runs["replication"] == str(plot["replication"])]
    if runs.empty:
        raise PlotError(f"{plot['metric']}: no run matches where/replication")
    shown: list[str] = []
    for c in swept:  # the keys that vary, but not one that varies with a key before it (a zip)
        if runs[c].nunique() > 1 and not (shown and runs.groupby(shown)[c].nunique().max() <= 1):
            shown.append(c)
    runs = runs.copy()
    runs["run"] = runs["run"].astype(int)
    labels = {}
    for _, row in runs.drop_duplicates("point").iterrows():
        labels[row["point"]] = group_label(shown, tuple(row[c] for c in shown)) or "all runs"
    merged = series.merge(runs[["run", "point"]], on="run")
    xlim = plot.get("xlim")
    t_max = xlim[1] if xlim else float(merged["time_s"].max())
    t_scale, t_unit = duration_unit(t_max)
    if t_unit in ("ms", "µs", "ns"):
        t_scale, t_unit = 1, "s"
    infos = spec.get("metrics") or {}
    # Room for the panels, and for a legend below them (one row per two entries).
    entries = [labels[p] for p in labels]
    below = legend_below([Line2D([], [], label=t) for t in entries])
    height = max(3.6, 2.3 * len(metrics) + 1.0) + (0.22 * ((len(entries) + 1) // 2) + 0.5 if below else 0)
    fig, axes = new_figure(height=height, panels=len(metrics))
    axes = list(axes) if len(metrics) > 1 else [axes]
    points = sorted(labels, key=int)
    handles = []
    for pi, ax in enumerate(axes):
        metric = metrics[pi]
        rows_m = merged[merged["metric"] == metric]
        if xlim:
            rows_m = rows_m[(rows_m["time_s"] >= xlim[0]) & (rows_m["time_s"] <= xlim[1])]
        d, unit = axis_unit(infos.get(metric), typical(rows_m["value"], False))
        for i, point in enumerate(points):
            rows = merged[(merged["metric"] == metric) & (merged["point"] == point)]
            if rows.empty:
                continue
            mean = rows.groupby("time_s", sort=True)["value"].mean()
            ax.plot(mean.index / t_scale, mean.values / d, color=COLOURS[i % len(COLOURS)], linewidth=1.4)
            if pi == 0:
                handles.append(Line2D([], [], color=COLOURS[i % len(COLOURS)], linewidth=1.4, label=labels[point]))
        for start, end in plot.get("band") or []:
            ax.axvspan(start / t_scale, end / t_scale, color="0.88", zorder=0)
        label = axis_label(metric, unit)
        ax.set_ylabel(label if len(label) <= 30 else f"{metric}\n({unit})" if unit else metric, fontsize=8)
        if plot.get("scale") == "log":
            ax.set_yscale("symlog", linthresh=1e-3)
        category_ticks(ax, infos.get(metric))
        ax.grid(True, alpha=0.3)
    if xlim:
        axes[-1].set_xlim(xlim[0] / t_scale, xlim[1] / t_scale)
    axes[-1].set_xlabel(f"simulated time ({t_unit})")
    axes[0].set_title(title_of(spec, plot), fontsize=11)
    mean_of = "replication " + str(plot["replication"]) if plot.get("replication") is not None else "mean over replications"
    keys = legend_title(shown)
    outside_legend(fig, handles, title=f"{keys}\n({mean_of})" if keys else mean_of)
    fig.savefig(out, metadata=output_metadata(out))
    plt.close(fig)


def frontier_plot(spec: dict, plot: dict, df: "pd.DataFrame", swept: list[str], out: str) -> None:
    x_metric, y_metric = plot["x"], plot["metric"]
    for m in (x_metric, y_metric):
        if m not in set(df["metric"]):
            raise PlotError(f"{plot['metric']}: the results have no metric '{m}'")
    for column, value in (plot.get("where") or {}).items():
        df = df[df[column] == value]
    wide = df.pivot_table(index=["point", *swept], columns="metric", values="mean", aggfunc="first").reset_index()
    wide["_point"] = wide["point"].astype(int)
    wide = wide.sort_values("_point", kind="stable")
    infos = spec.get("metrics") or {}
    dx, ux = axis_unit(infos.get(x_metric), typical(wide[x_metric], plot.get("xscale") == "log"))
    dy, uy = axis_unit(infos.get(y_metric), typical(wide[y_metric], False))
    group = (plot.get("group") or [None])[0]
    names = plot.get("names") or {}
    labels = plot.get("label") or []
    fig, ax = new_figure(height=5.2)
    groups = list(dict.fromkeys(wide[group])) if group else [None]
    handles = []
    for gi, value in enumerate(groups):
        rows = wide[wide[group] == value] if group else wide
        colour = COLOURS[gi % len(COLOURS)]
        ax.scatter(rows[x_metric] / dx, rows[y_metric] / dy, color=colour, s=28, zorder=3)
        if group:
            handles.append(Line2D([], [], color=colour, marker="o", linestyle="none", label=shorten(names.get(value, value))))
        at: dict[tuple[float, float], list[str]] = {}
        for _, row in rows.iterrows():
            text = " ".join(f"{short(c).split('_')[0][0].upper()}={row[c]}" for c in labels)
            at.setdefault((float(row[x_metric]) / dx, float(row[y_metric]) / dy), []).append(text)
        for (x, y), texts in at.items():
            if any(texts):
                ax.annotate("\n".join(t for t in texts if t), (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7)
    if plot.get("xscale") == "log":
        ax.set_xscale("log")
    if plot.get("scale") == "log":
        # Symmetric log: zero (e.g. "always visible") stays on the axis.
        ax.set_yscale("symlog", linthresh=1e-4 / dy if dy < 1 else 1e-4)
        ax.set_ylim(0, ax.get_ylim()[1] * 3)
    ax.set_xlabel(axis_label(x_metric, ux))
    ax.set_ylabel(axis_label(y_metric, uy))
    ax.grid(True, alpha=0.3)
    ax.set_title(title_of(spec, plot), fontsize=11)
    outside_legend(fig, handles, title=short(group) if group else None)
    fig.savefig(out, metadata=output_metadata(out))
    plt.close(fig)


def draw(args: argparse.Namespace) -> list[str]:
    spec = load_spec(args)
    df, swept = load_summary(args.result_dir)
    if spec.get("swept") and list(spec["swept"]) != swept:
        raise PlotError(f"the spec sweeps {', '.join(spec['swept'])} but {args.result_dir} sweeps {', '.join(swept) or 'nothing'}")
    values = {c: set(df[c]) for c in swept}
    plots = [adhoc_plot(args, swept)] if args.metric else list(spec.get("plots") or [])
    if args.only:
        plots = [p for p in plots if p["metric"] in args.only or p["out"] in args.only]
        if not plots:
            raise PlotError(f"no declared plot has the metric or file {', '.join(args.only)}")
    written = []
    for plot in plots:
        plot = apply_where(plot, args.where, swept, values)
        out = plot["out"]
        output_metadata(out)  # refuses an unknown type before drawing
        if os.path.dirname(out):
            os.makedirs(os.path.dirname(out), exist_ok=True)
        kind = plot.get("kind")
        if kind == "timeseries":
            timeseries_plot(spec, plot, args.result_dir, swept, out)
        elif kind == "frontier":
            frontier_plot(spec, plot, df, swept, out)
        else:
            sweep_plot(spec, plot, df, swept, out)
        written.append(out)
    return written


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="plot.py", description="Draw the plots a BDSim experiment declares.")
    p.add_argument("result_dir", metavar="RESULT_DIR", help="a result directory (holds summary.csv)")
    p.add_argument("--spec", metavar="FILE", help="the plot spec (JSON; - for stdin), as bdsim plot writes it")
    p.add_argument("--where", action="append", default=[], metavar="KEY=VALUE", help="only the points with this value")
    p.add_argument("--only", action="append", default=[], metavar="METRIC|FILE", help="only the plots of this metric or file")
    p.add_argument("--metric", "-m", metavar="M", help="draw this metric instead of the declared plots")
    p.add_argument("--x", metavar="KEY", help="with --metric: the swept key on the x axis (default: the last)")
    p.add_argument("--group", action="append", default=[], metavar="KEY", help="with --metric: a swept key per colour")
    p.add_argument("--also", action="append", default=[], metavar="M", help="with --metric: overlay this metric")
    p.add_argument("--kind", choices=KINDS[:2], help="with --metric: line or bar (default: bar for non-numeric x)")
    p.add_argument("--scale", choices=["linear", "log"], default="linear", help="with --metric: of y")
    p.add_argument("--title", metavar="T", help="with --metric: the title")
    p.add_argument("--out", "-o", metavar="FILE", help="with --metric: the output file (.png, .svg, .pdf)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        for out in draw(args):
            print(out)
    except PlotError as exc:
        fail(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
