#!/usr/bin/env python3
"""An independent Monte Carlo of PBS's WARS model (Bailis et al., PVLDB 2012), written apart from
BDSim, to cross-check experiments/validation/pbs-lnkd-*.yaml: N = 3, R = W = 1, writes sent to
all three replicas and committed at the first ack; a read sent to all three returns the first
response; it is consistent t after the commit iff that replica had the write when the read
reached it. Prints P(consistent at t = 0) and the t-visibility at 99%, 99.9% and 99.99%.

    plots/.venv/bin/python experiments/validation/pbs_wars_montecarlo.py 2000000 1
"""
import sys

import numpy as np

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
rng = np.random.default_rng(int(sys.argv[2]) if len(sys.argv) > 2 else 1)


def mixture(shape, weight, xm, alpha, rate):  # weight x Pareto(xm, alpha) + rest x exponential(rate), ms
    pareto = xm * (1 - rng.random(shape)) ** (-1 / alpha)
    exponential = rng.exponential(1 / rate, shape)
    return np.where(rng.random(shape) < weight, pareto, exponential)


def ssd(shape):
    return mixture(shape, 0.9122, 0.235, 10, 1.66)


def disk(shape):
    return mixture(shape, 0.38, 1.05, 1.51, 0.183)


for name, write_leg in [("LNKD-SSD", ssd), ("LNKD-DISK", disk)]:
    w, a, r, s = write_leg((n, 3)), ssd((n, 3)), ssd((n, 3)), ssd((n, 3))
    commit = (w + a).min(axis=1)
    first = (r + s).argmin(axis=1)
    rows = np.arange(n)
    t_star = np.maximum(w[rows, first] - commit - r[rows, first], 0)  # time to consistency, ms
    q = [np.quantile(t_star, x) for x in (0.99, 0.999, 0.9999)]
    print(f"{name}: P(consistent at 0) {np.mean(t_star == 0):.4f}; t-visibility 99% {q[0]:.3f} ms, "
          f"99.9% {q[1]:.3f} ms, 99.99% {q[2]:.3f} ms")
