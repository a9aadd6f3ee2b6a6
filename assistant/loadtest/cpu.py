"""CPU per message from /proc, and py-spy profile summaries."""
from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple




CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

# --------------------------------------------------------------------------- CPU from /proc


@dataclass(frozen=True)
class ProcStat:
    pid: int
    ppid: int
    ticks: int  # utime + stime + cutime + cstime (cutime/cstime: children already waited for)


def parse_proc_stat(text: str) -> ProcStat:
    """The fields we need from one ``/proc/<pid>/stat`` line. The command name (field 2) is
    in parentheses and may itself hold spaces and parentheses, so split after the last ')'."""
    pid = int(text.split(" ", 1)[0])
    rest = text[text.rindex(")") + 2:].split()
    # rest[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14-17
    ppid = int(rest[1])
    utime, stime, cutime, cstime = (int(x) for x in rest[11:15])
    return ProcStat(pid=pid, ppid=ppid, ticks=utime + stime + cutime + cstime)


def _all_stats(proc: Path = Path("/proc")) -> Dict[int, ProcStat]:
    out = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                st = parse_proc_stat((entry / "stat").read_text())
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
            out[st.pid] = st
    return out


def tree_ticks(root: int, stats: Dict[int, ProcStat]) -> int:
    """CPU ticks of ``root`` and every living descendant (each including its reaped children).
    A child that exits between two readings moves into its parent's cutime/cstime, so the
    difference of two readings is the tree's CPU in between."""
    children: Dict[int, List[int]] = {}
    for st in stats.values():
        children.setdefault(st.ppid, []).append(st.pid)
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in stats:
            continue
        seen.add(pid)
        total += stats[pid].ticks
        todo.extend(children.get(pid, []))
    return total


def cpu_snapshot(pids: Dict[str, int], proc: Path = Path("/proc")) -> Dict[str, int]:
    """Ticks of each named process tree, and of this process (``loadgen``)."""
    stats = _all_stats(proc)
    out = {name: tree_ticks(pid, stats) for name, pid in pids.items()}
    own = os.times()
    out["loadgen"] = int(round((own.user + own.system) * CLK_TCK))
    return out


def cpu_per_message(before: Dict[str, int], after: Dict[str, int], messages: int, elapsed_s: float,
                    clk_tck: int = CLK_TCK) -> dict:
    """CPU seconds, CPU-ms per message and cores busy, for each process and the whole stack
    (every process but the load generator itself)."""
    out = {}
    stack_s = 0.0
    for name in after:
        if name not in before:
            continue
        cpu_s = max(0, after[name] - before[name]) / clk_tck
        if name != "loadgen":
            stack_s += cpu_s
        out[name] = _cpu_row(cpu_s, messages, elapsed_s)
    out["stack"] = _cpu_row(stack_s, messages, elapsed_s)
    return out


def _cpu_row(cpu_s: float, messages: int, elapsed_s: float) -> dict:
    return {"cpu_s": round(cpu_s, 2),
            "ms_per_msg": round(cpu_s * 1000 / messages, 2) if messages else None,
            "cores": round(cpu_s / elapsed_s, 2) if elapsed_s > 0 else None}


def machine_busy() -> Tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat: how busy the whole machine was
    (other users of the machine included) between two readings."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)



# --------------------------------------------------------------------------- profiles


def top_functions(collapsed: str, n: int = 15) -> Dict[str, List[Tuple[str, float]]]:
    """Top ``n`` frames by self and by total share of samples, from py-spy's ``--format raw``
    output (collapsed stacks: ``frame;frame;... count`` per line). A frame counts once per
    stack for "total" even if it recurses."""
    self_c: Counter = Counter()
    total_c: Counter = Counter()
    samples = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        c = int(count)
        frames = [_frame_name(f) for f in stack.split(";") if f]
        if not frames:
            continue
        samples += c
        self_c[frames[-1]] += c
        for f in set(frames):
            total_c[f] += c
    if not samples:
        return {"self": [], "total": [], "samples": 0}
    return {"samples": samples,
            "self": [(f, round(c / samples, 3)) for f, c in self_c.most_common(n)],
            "total": [(f, round(c / samples, 3)) for f, c in total_c.most_common(n)]}


def _frame_name(frame: str) -> str:
    """``function (path/to/module.py:123)`` -> ``function (to/module.py)``: frames of one
    function at different lines merge; the thread/process prefix py-spy may add is dropped."""
    m = re.match(r"^(.*?) \((.*?)(?::\d+)?\)$", frame.strip())
    if not m:
        return frame.strip()
    func, path = m.groups()
    parts = Path(path).parts
    short = "/".join(parts[-2:]) if "site-packages" not in parts else "/".join(
        parts[parts.index("site-packages") + 1:])
    return f"{func} ({short})"


def read_credentials(path: Path) -> List[Tuple[str, str]]:
    """``username password`` per line (blank lines and # comments skipped)."""
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, password = line.split(None, 1)
            out.append((name, password))
    return out
