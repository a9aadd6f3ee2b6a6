"""Latency statistics and the open-loop arrival schedule."""
from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence





# --------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], pct: float) -> Optional[float]:
    """Nearest-rank percentile: the smallest value with at least ``pct`` % of the values at
    or below it (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(round(pct / 100 * len(ordered), 9))  # round: 0.95 * 100 is 95.00000000000001
    return ordered[max(0, min(len(ordered), rank) - 1)]


@dataclass
class Sample:
    """One message: when it was (to be) sent, relative to the run's start, and its outcome."""

    start: float  # seconds from the run's start: actual send (closed loop) or scheduled (open loop)
    latency_ms: float
    status: int  # HTTP status; 0 if there was no response
    kind: str = "message"
    error: Optional[str] = None  # e.g. "http_503", "TimeoutError"

    @property
    def end(self) -> float:
        """When the reply arrived (seconds from the run's start)."""
        return self.start + self.latency_ms / 1000

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


def summarize(samples: List[Sample], elapsed_s: float, bucket_s: float = 10.0) -> dict:
    """msg/s, latency percentiles (all messages, errors included: a user waited for them too),
    errors by kind, and the answered rate per ``bucket_s`` of the run (by reply time)."""
    lat = [s.latency_ms for s in samples]
    ok = [s for s in samples if s.ok]
    errors = Counter(s.error or f"http_{s.status}" for s in samples if not s.ok)
    # whole buckets; replies after the last whole one (a closed run's drain) count in it
    n_buckets = max(1, int(round(elapsed_s, 6) // bucket_s))
    buckets: Dict[int, int] = Counter(min(int(s.end // bucket_s), n_buckets - 1) for s in ok)
    spans = [bucket_s] * (n_buckets - 1) + [max(elapsed_s - (n_buckets - 1) * bucket_s, 1e-9)]
    return {
        "n": len(samples), "ok": len(ok), "errors": sum(errors.values()), "errors_by_kind": dict(errors),
        "elapsed_s": round(elapsed_s, 2),
        "msg_per_s": round(len(ok) / elapsed_s, 2) if elapsed_s > 0 else None,
        "p50_ms": _r(percentile(lat, 50)), "p95_ms": _r(percentile(lat, 95)), "p99_ms": _r(percentile(lat, 99)),
        "max_ms": _r(max(lat) if lat else None), "mean_ms": _r(statistics.fmean(lat) if lat else None),
        "msg_per_s_by_%ds" % bucket_s: [round(buckets.get(i, 0) / spans[i], 1) for i in range(n_buckets)],
        "by_kind": {k: {"n": len(v), "p50_ms": _r(percentile(v, 50)), "p95_ms": _r(percentile(v, 95))}
                    for k, v in sorted(_by_kind(samples).items())},
    }


def _by_kind(samples: Iterable[Sample]) -> Dict[str, List[float]]:
    out: Dict[str, List[float]] = {}
    for s in samples:
        out.setdefault(s.kind, []).append(s.latency_ms)
    return out


def _r(x: Optional[float]) -> Optional[float]:
    return None if x is None else round(x, 1)


def window_median(latencies: Sequence[float], k: int, width: int = 10) -> Optional[float]:
    """Median latency of ``width`` consecutive messages around message ``k`` (1-based),
    shifted to stay inside the run: message 1 is messages 1-10, the last is the last ten."""
    if not latencies:
        return None
    n = len(latencies)
    k = max(1, min(k, n))
    lo = max(0, min(k - 1 - width // 2, n - width))
    return statistics.median(latencies[lo:lo + width])


# --------------------------------------------------------------------------- open-loop schedule


def poisson_schedule(rate: float, duration_s: float, rng: random.Random) -> List[float]:
    """Send times (seconds from the start, increasing, all < ``duration_s``) of a Poisson
    arrival process of ``rate`` messages per second."""
    if rate <= 0 or duration_s <= 0:
        return []
    out, t = [], 0.0
    while True:
        t += rng.expovariate(rate)
        if t >= duration_s:
            return out
        out.append(t)
