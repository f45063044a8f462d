#!/usr/bin/env python3
"""PHOLD baseline in SimPy.

Form: each PHOLD event is an ``env.timeout(delay, value=dst_lp)`` with a handler
callback appended to ``.callbacks``. Measured against one process per LP that
waits on a ``simpy.Store``, and one process per message: at 1024 LPs, 16 events
per LP, end time 20, the callback form ran about 0.40-0.45M events/s, the
per-message process form about 0.12M and the Store form about 0.085M. So this
file keeps the callbacks.

Events with time <= end time are processed. ``env.run(until=T)`` stops *before*
events at exactly T, because its stop event is URGENT. So the run goes until
nextafter(end_time, +inf).

The last stdout line is ``events=<N> seconds=<S> events_per_s=<R>``. It times
only ``env.run()``, not building the initial events.
"""
import argparse
import math
import random
import time

import simpy


def main() -> None:
    p = argparse.ArgumentParser(description="PHOLD in SimPy")
    p.add_argument("--lps", type=int, default=1024)
    p.add_argument("--events-per-lp", type=int, default=16)
    p.add_argument("--remote", type=float, default=0.5)
    p.add_argument("--lookahead", type=float, default=0.1)
    p.add_argument("--mean", type=float, default=1.0)
    p.add_argument("--end-time", type=float, default=1000.0)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()

    env = simpy.Environment()
    rng = random.Random(a.seed)
    expo, rand, randrange = rng.expovariate, rng.random, rng.randrange
    rate, n, remote, lookahead = 1.0 / a.mean, a.lps, a.remote, a.lookahead
    timeout = env.timeout
    processed = 0

    def handle(ev):  # event at LP ev.value, time env.now
        nonlocal processed
        processed += 1
        dst = randrange(n) if rand() < remote else ev.value
        timeout(lookahead + expo(rate), dst).callbacks.append(handle)

    for lp in range(n):
        for _ in range(a.events_per_lp):
            timeout(expo(rate), lp).callbacks.append(handle)

    t0 = time.perf_counter()
    env.run(until=math.nextafter(a.end_time, math.inf))
    secs = time.perf_counter() - t0
    print(f"phold-simpy simpy={simpy.__version__} lps={a.lps} events-per-lp={a.events_per_lp} "
          f"remote={a.remote:g} lookahead={a.lookahead:g} mean={a.mean:g} end-time={a.end_time:g} seed={a.seed}")
    print(f"events={processed} seconds={secs:.6f} events_per_s={processed / secs:.1f}")


if __name__ == "__main__":
    main()
