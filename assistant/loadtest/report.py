"""The load runs as rows of make bench's table."""
from __future__ import annotations

from typing import List, Optional, Tuple




def _fmt(x: Optional[float], spec: str = ".0f") -> str:
    return "-" if x is None else format(x, spec)


def _pcts(r: dict) -> str:
    return f"{_fmt(r['p50_ms'])} / {_fmt(r['p95_ms'])} / {_fmt(r['p99_ms'])}"


def _cpu_rows(label: str, r: dict, target: str = "") -> List[Tuple[str, str, str]]:
    cpu = r.get("cpu") or {}
    if not cpu:
        return []
    per = ", ".join(f"{k} {v['ms_per_msg']:.1f}" for k, v in cpu.items()
                    if k not in ("stack", "loadgen") and v["ms_per_msg"] is not None)
    rows = [(f"{label}: CPU ms/message, whole stack", _fmt(cpu["stack"]["ms_per_msg"], ".1f"), target),
            (f"{label}: CPU ms/message by process", per, "")]
    if "machine_busy" in r:
        rows.append((f"{label}: stack cores busy / machine busy (all users)",
                     f"{cpu['stack']['cores']:.2f} / {r['machine_busy'] * 100:.0f}%", "of 2 cores"))
    return rows


def rows(load: Optional[dict]) -> List[Tuple[str, str, str]]:
    """Table rows (measure, value, target) for :func:`assistant.bench.print_table`."""
    if not load:
        return [("Load runs (sustained, open loop, growth)", "skipped", "")]
    out = [("Load runs: machine load average at start (1/5/15 min)", " ".join(load["loadavg_at_start"]),
            "shared machine if > 0")]
    g = load.get("growth")
    if g:
        at = g["latency_at_ms"]
        out += [(f"Growth, 1 user: latency at message {' / '.join(at)} (ms, median of {g['window']})",
                 " / ".join(_fmt(v) for v in at.values()), ""),
                (f"Growth: message {list(at)[-1]} / message {list(at)[0]}", _fmt(g["ratio_last_first"], ".2f"),
                 "<= 1.3"),
                ("Growth: errors", _errors(g), "0")] + _cpu_rows("Growth", g)
    o = load.get("open")
    if o:
        label = f"Open loop {o['rate']:g} msg/s, {o['duration_s']:g} s, {o['users']} users"
        out += [(f"{label}: p50 / p95 / p99 (ms, n={o['n']})", _pcts(o), "p95 <= 150"),
                (f"{label}: answered msg/s", _fmt(o["msg_per_s"], ".1f"), f"{o['rate']:g}"),
                (f"{label}: errors", _errors(o), "0")] + _cpu_rows("Open loop", o, "<= 25")
    for n, c in (load.get("closed") or {}).items():
        label = f"Sustained {n} users, {c['duration_s']:g} s"
        big = int(n) >= 50
        by = c.get("msg_per_s_by_10s") or []
        out += [(f"{label}: msg/s (first / last 10 s)", f"{_fmt(c['msg_per_s'], '.1f')} ({_fmt(by[0] if by else None, '.0f')}"
                 f" / {_fmt(by[-1] if by else None, '.0f')})", ">= 60" if big else ""),
                (f"{label}: p50 / p95 / p99 (ms, n={c['n']})", _pcts(c), "p95 <= 1000" if big else ""),
                (f"{label}: errors", _errors(c), "0")] + _cpu_rows(f"Sustained {n}", c, "<= 25")
    return out


def _errors(r: dict) -> str:
    kinds = r.get("errors_by_kind") or {}
    return str(r["errors"]) + (" (" + ", ".join(f"{k} {v}" for k, v in kinds.items()) + ")" if kinds else "")
