"""The benchmark suite: ours vs the reference cpppo 5.2.5, measured in the same run, in one table.

``make bench`` (full, a few minutes) and ``make bench-quick`` (under a minute) run this script.
It creates ``bench/.ref-venv`` with the reference (cpppo==5.2.5, greenery<3) on first use, starts
each server in its own process on 127.0.0.1 (ephemeral ports: never 44818), drives them all with
the same load generator (``bench/loadgen.py``: raw frames from our codec over plain sockets and
asyncio, no client library of either side) and prints one table::

    figure | ours | reference | ratio | target | echo ceiling

Server figures alternate their runs between the echo server, ours and the reference, so a noisy
machine disturbs all of them alike; each figure is a warm-up then several runs, shown as the
median (min-max).  Server CPU per request comes from the server process's own accounting
(``/proc/<pid>/stat`` utime+stime), not from wall time.  Client figures run our client and the
reference client (the same script under each interpreter), pycomm3 and pylogix against our
server, and pycomm3/pylogix against the reference server too.  The automata figures come from
``bench/automata.py``.  Nothing is asserted: the "met" column only compares with the targets.

    .venv/bin/python bench/run.py [--quick] [--no-reference] [--record] [--profile [read|msp|array]]

``--record`` appends the table with the date and commit to ``bench/RESULTS.md``; ``--profile``
runs our server under cProfile at 20 requests in flight and prints the top entries instead
(``--profile msp``: 200 tags per connected Multiple Service Packet; ``--profile array``: DINT[1000]).
See docs/bench.md for what each figure means.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import loadgen as lg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MANY = [f"T{i:03d}" for i in range(200)]
TAGS = ["BENCH=DINT", "ARRAY=DINT[1000]", "GAS@0x99/1/3=DINT", *(f"{t}=DINT" for t in MANY)]
CHUNK = 40  # tags per unconnected Multiple Service Packet: CIP requests of 488 bytes, replies of 486


@dataclass
class Stats:
    """The runs of one figure on one target: items/s, server CPU per request (s), failures."""

    rates: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    failures: int = 0
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.rates) if self.rates else math.nan

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else math.nan


class Settings:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.seconds = 0.25 if quick else 1.5
        self.runs = 3 if quick else 5
        self.warmup = 0.15 if quick else 0.75
        self.clients = 300 if quick else 1000
        self.client_seconds = 3.0 if quick else 10.0
        self.client_rounds = 1 if quick else 3
        self.symbols = 40_000 if quick else 200_000


def interleaved(loads: dict[str, tuple[Callable[[float], lg.Run], lg.ServerProcess]], cfg: Settings,
                runs: int | None = None) -> dict[str, Stats]:
    """Warm each load up, then alternate their timed runs; CPU per request from /proc."""
    out = {name: Stats() for name in loads}
    for name, (fn, _) in loads.items():
        try:
            fn(cfg.warmup)
        except Exception as exc:  # a load a server cannot carry: say so in the table
            out[name].note = f"failed: {exc}"[:60]
    for _ in range(runs or cfg.runs):
        for name, (fn, server) in loads.items():
            if out[name].note:
                continue
            cpu0 = server.cpu()
            try:
                run = fn(cfg.seconds)
            except Exception as exc:
                out[name].note = f"failed: {exc}"[:60]
                continue
            cpu1 = server.cpu()
            out[name].rates.append(run.rate)
            out[name].failures += run.failures
            if cpu0 is not None and cpu1 is not None and run.requests:
                out[name].cpu.append((cpu1 - cpu0) / run.requests)
    return out


# --- the table --------------------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    unit: str
    ours: Stats | float | str | None
    ref: Stats | float | str | None = None
    target: str = ""
    met: bool | None = None
    echo: Stats | float | str | None = None
    ratio: str = ""
    scale: float = 1.0  # displayed value = value * scale (e.g. seconds -> ms)
    lower_is_better: bool = False


def _value(v: Stats | float | str | None, row: Row, cpu: bool = False) -> float:
    if isinstance(v, Stats):
        return (v.cpu_median if cpu else v.median) * row.scale
    if isinstance(v, (int, float)):
        return v * row.scale
    return math.nan


def _num(x: float) -> str:
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "inf"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if abs(x) >= 0.1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def _cell(v: Stats | float | str | None, row: Row, cpu: bool = False) -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return _num(v * row.scale)
    if v.note and not v.rates:
        return v.note
    values = [x * row.scale for x in (v.cpu if cpu else v.rates)]
    if not values:
        return "n/a"
    text = _num(statistics.median(values))
    if len(values) > 1:
        text += f" ({_num(min(values))}-{_num(max(values))})"
    if v.failures:
        text += f" [{v.failures} errors]"
    return text


def ratio(ours: float, ref: float, lower_is_better: bool = False) -> str:
    if math.isnan(ours) or math.isnan(ref) or not ref or not ours:
        return ""
    r = ref / ours if lower_is_better else ours / ref
    return f"{r:,.1f}x" if r < 100 else f"{r:,.0f}x"


def render(rows: list[Row], header: str) -> str:
    cols = ["figure", "unit", "ours median (min-max)", "reference 5.2.5", "ratio", "target", "met",
            "echo ceiling"]
    table = []
    for r in rows:
        cpu = r.unit.startswith("ms CPU")
        ours_v, ref_v = _value(r.ours, r, cpu), _value(r.ref, r, cpu)
        rat = r.ratio or ratio(ours_v, ref_v, r.lower_is_better or cpu)
        met = "" if r.met is None else ("yes" if r.met else "NO")
        table.append([r.figure, r.unit, _cell(r.ours, r, cpu), _cell(r.ref, r, cpu), rat, r.target, met,
                      _cell(r.echo, r, cpu)])
    widths = [max(len(c), *(len(t[i]) for t in table)) for i, c in enumerate(cols)]
    lines = [header, "", "| " + " | ".join(c.ljust(w) for c, w in zip(cols, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(t, widths)) + " |" for t in table]
    return "\n".join(lines)


# --- server figures -----------------------------------------------------------------------------


def server_figures(cfg: Settings, ref_python: str | None, rows: list[Row]) -> None:
    servers: dict[str, lg.ServerProcess] = {}
    links: list[lg.Link] = []
    try:
        servers["echo"] = lg.echo()
        servers["ours"] = lg.ours(TAGS)
        if ref_python:
            try:
                servers["ref"] = lg.reference(ref_python, TAGS)
            except RuntimeError as exc:
                print(f"(reference server unavailable: {exc})", file=sys.stderr)

        def link(name: str, **kwds: bool) -> lg.Link:
            got = lg.Link(servers[name].address, **kwds)
            links.append(got)
            return got

        # single-tag Read Tag, 1 and 20 in flight
        single: dict[str, tuple[Callable[[float], lg.Run], lg.ServerProcess]] = {}
        deep: dict[str, tuple[Callable[[float], lg.Run], lg.ServerProcess]] = {}
        for name, server in servers.items():
            registered = name != "echo"
            conn = link(name, register=registered)
            frame = conn.rr_frame(lg.read_request("BENCH"))
            status = lg.RR_STATUS if registered else None
            pool = [lg.with_context(frame, i) for i in range(1, 81)]
            single[name] = (lambda s, c=conn, f=frame, st=status: lg.sequential(c, [f], s, status_at=st), server)
            deep[name] = (lambda s, c=conn, p=pool, st=status: lg.pipelined(c, p, 20, s, status_at=st), server)
        one = interleaved(single, cfg)
        twenty = interleaved(deep, cfg)
        o1, e1 = one["ours"].median, one["echo"].median
        rows.append(Row("Read Tag 1 DINT, 1 in flight, blocking client", "req/s", one["ours"], one.get("ref"),
                        ">= 7,000 and >= 70% of echo", o1 >= 7000 and o1 >= 0.7 * e1, one["echo"]))
        rows.append(Row("  ours as a share of the echo ceiling", "%", 100 * o1 / e1 if e1 else math.nan,
                        target=">= 70%"))
        o20, e20 = twenty["ours"].median, twenty["echo"].median
        rows.append(Row("Read Tag 1 DINT, 20 in flight", "req/s", twenty["ours"], twenty.get("ref"), ">= 40,000",
                        o20 >= 40000, twenty["echo"]))
        rows.append(Row("  ours as a share of the echo ceiling", "%", 100 * o20 / e20 if e20 else math.nan))
        for label, res in (("1 in flight", one), ("20 in flight", twenty)):
            cpu = res["ours"].cpu_median * 1e3
            rows.append(Row(f"server CPU per Read Tag, {label}", "ms CPU/req", res["ours"], res.get("ref"),
                            "<= 0.1 ms", cpu <= 0.1, res["echo"], scale=1e3))

        # a 1000-element DINT array: connected (Large Forward Open, ours only) and unconnected (both)
        arrays: dict[str, tuple[Callable[[float], lg.Run], lg.ServerProcess]] = {}
        conn = link("ours")
        conn.forward_open(4002)
        arrays["ours"] = (lambda s, c=conn: lg.array_reads(
            c, lambda off, i: c.unit_frame(lg.read_request("ARRAY", 1000, off), i + 1), s,
            status_at=lg.UNIT_STATUS, elements=1000), servers["ours"])
        big = interleaved(arrays, cfg)
        rows.append(Row("DINT[1000] array, connected Large Forward Open 4002 B, Read Tag Fragmented, 1 in flight",
                        "arrays/s", big["ours"], "ours only (no Large FO)", ">= 500",
                        big["ours"].median >= 500))
        unconnected: dict[str, tuple[Callable[[float], lg.Run], lg.ServerProcess]] = {}
        for name in ("ours", "ref"):
            if name not in servers:
                continue
            conn = link(name)
            unconnected[name] = (lambda s, c=conn: lg.array_reads(
                c, lambda off, i: c.rr_frame(lg.routed(lg.read_request("ARRAY", 1000, off))), s,
                status_at=lg.RR_STATUS, elements=1000), servers[name])
        small = interleaved(unconnected, cfg)
        rows.append(Row("DINT[1000] array, unconnected (Unconnected Send, ~500 B fragments), 1 in flight",
                        "arrays/s", small["ours"], small.get("ref")))

        # 200 different tags per cycle
        msp: dict[str, tuple[Callable[[float], lg.Run], lg.ServerProcess]] = {}
        for name in ("ours", "ref"):
            if name not in servers:
                continue
            conn = link(name)
            chunks = [conn.rr_frame(lg.msp_request(MANY[i:i + CHUNK])) for i in range(0, len(MANY), CHUNK)]
            pool = [lg.with_context(chunks[i % len(chunks)], i + 1) for i in range(8 * len(chunks))]
            msp[name] = (lambda s, c=conn, p=pool: lg.pipelined(c, p, 5, s, status_at=lg.RR_STATUS,
                                                                 items_per_reply=CHUNK), servers[name])
        conn = link("ours")
        conn.forward_open(4002)
        whole = conn.unit_frame(lg.msp_request(MANY), 1)
        pool = [lg.with_sequence(whole, i + 1) for i in range(32)]
        msp["best"] = (lambda s, c=conn, p=pool: lg.pipelined(c, p, 4, s, key=lg.UNIT_SEQUENCE,
                                                                status_at=lg.UNIT_STATUS,
                                                                items_per_reply=len(MANY)), servers["ours"])
        tags = interleaved(msp, cfg)
        rows.append(Row(f"200 tags/cycle, unconnected Multiple Service Packets of {CHUNK}, 5 in flight",
                        "tags/s", tags["ours"], tags.get("ref")))
        rows.append(Row("200 tags/cycle, best: connected 4002 B, 1 MSP of 200 per cycle, 4 in flight",
                        "tags/s", tags["best"], tags.get("ref"), ">= 50,000", tags["best"].median >= 50000,
                        ratio="" if "ref" in tags else "n/a"))

        # many clients, each reading once a second
        for link_ in links:
            link_.close()
        links.clear()
        latency: dict[str, lg.Latency] = {}
        for name in ("echo", "ours", "ref"):
            if name in servers:
                latency[name] = lg.many_clients(servers[name].address, cfg.clients, cfg.client_seconds,
                                                register=name != "echo", cpu=servers[name].cpu,
                                                connect_within=20 if cfg.quick else 60)

        within = 5.0  # many_clients' reply_within: a read later than this is unanswered

        def lat(name: str, p: float) -> str | float | None:
            got = latency.get(name)
            if got is None:
                return None
            if not got.latencies:
                return f"none answered ({got.connected}/{got.clients} connected)"
            value = got.percentile(p)
            if math.isinf(value):
                missing = got.unanswered + got.errors + got.clients * max(1, int(cfg.client_seconds)) \
                    - got.connected * max(1, int(cfg.client_seconds))
                return f"> {within * 1e3:,.0f} ({missing} reads unanswered)"
            return value

        def lat_ratio(p: float) -> str:
            o, r = lat("ours", p), lat("ref", p)
            if isinstance(o, float) and isinstance(r, str) and r.startswith(">") and o > 0:
                return f"> {within / o:,.0f}x"
            return ""

        p99 = lat("ours", 99)
        ok = isinstance(p99, float) and p99 <= 0.05 and latency["ours"].connected == cfg.clients
        rows.append(Row(f"{cfg.clients} clients reading once a second for {cfg.client_seconds:g} s: p99 latency",
                        "ms", p99, lat("ref", 99), "<= 50 ms", ok, lat("echo", 99), scale=1e3,
                        lower_is_better=True, ratio=lat_ratio(99)))
        rows.append(Row("  same: p50 latency", "ms", lat("ours", 50), lat("ref", 50), echo=lat("echo", 50),
                        scale=1e3, lower_is_better=True, ratio=lat_ratio(50)))

        def answered(name: str) -> str | None:
            got = latency.get(name)
            if got is None:
                return None
            return (f"{len(got.latencies)}/{got.clients * max(1, int(cfg.client_seconds))} "
                    f"({got.connected} conn in {got.connect_seconds:.1f}s)")

        rows.append(Row("  same: reads answered within 5 s (connections made)", "reads", answered("ours"),
                        answered("ref"), echo=answered("echo")))

        def cpu_per_read(name: str) -> float | None:
            got = latency.get(name)
            if got is None or got.cpu is None or not got.latencies:
                return None
            return got.cpu / len(got.latencies)

        rows.append(Row("  same: server CPU per read answered", "ms CPU/read", cpu_per_read("ours"),
                        cpu_per_read("ref"), echo=cpu_per_read("echo"), scale=1e3, lower_is_better=True))
    finally:
        for link_ in links:
            link_.close()
        for server in servers.values():
            server.stop()


# --- client figures -----------------------------------------------------------------------------

# The same text runs under our interpreter (our client) and the reference's (its client): both
# implement the documented cpppo.server.enip.client.connector(...).pipeline(...) API.
CLIENT = r'''
import json, sys, time
from cpppo.server.enip import client
host, port = sys.argv[1], int(sys.argv[2])
seconds, runs, warmup = float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
loads = json.loads(sys.argv[6])

def batch(conn, tags, n, depth, multiple, fragment):
    ops = list(client.parse_operations(tags * max(1, n // len(tags))))
    bad = 0
    began = time.perf_counter()
    for _, _, _, _, _, val in conn.pipeline(operations=ops, depth=depth, multiple=multiple, fragment=fragment,
                                            timeout=10):
        if val is None:
            bad += 1
    return len(ops), time.perf_counter() - began, bad

out = {}
for load in loads:
    kwds = {"connected": True} if load.get("connected") else {}
    tags, depth, multiple, fragment = load["tags"], load["depth"], load["multiple"], load.get("fragment", False)
    try:
        with client.connector(host=host, port=port, timeout=10, **kwds) as conn:
            n, spent, rate = len(tags), 0.0, 1.0
            for _ in range(20):  # warm up, and learn how many operations fill a run
                k, took, _ = batch(conn, tags, n, depth, multiple, fragment)
                spent += took
                rate = k / took
                if spent >= warmup:
                    break
                n *= 2
            count = max(len(tags), int(rate * seconds))
            rates, failures = [], 0
            for _ in range(runs):
                k, took, bad = batch(conn, tags, count, depth, multiple, fragment)
                rates.append(k / took)
                failures += bad
        out[load["name"]] = {"rates": rates, "failures": failures}
    except Exception as exc:
        out[load["name"]] = {"error": repr(exc)[:80]}
print(json.dumps(out))
'''

# pycomm3 and pylogix, each against our server and (alternating runs) the reference server.
THIRD = r'''
import json, sys, time
seconds, runs, warmup = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
targets = json.loads(sys.argv[4])  # {"ours": [host, port], "ref": [host, port]}
many = json.loads(sys.argv[5])

def pycomm3_logix(host, port, tags):
    from pycomm3 import LogixDriver
    d = LogixDriver(f"{host}:{port}")
    d.open()
    def once():
        got = d.read(*tags)
        got = got if isinstance(got, list) else [got]
        return len(got), sum(1 for t in got if t.error)
    return once, d.close

def pycomm3_generic(host, port, tags):
    from pycomm3 import CIPDriver, Services
    from pycomm3.cip.data_types import DINT
    d = CIPDriver(f"{host}:{port}")
    d.open()
    def once():
        got = d.generic_message(service=Services.get_attribute_single, class_code=0x99, instance=1,
                                attribute=3, data_type=DINT, connected=True)
        return 1, 1 if got.error else 0
    return once, d.close

def pylogix_read(host, port, tags):
    from pylogix import PLC
    c = PLC(host, port=port)
    def once():
        got = c.Read(tags if len(tags) > 1 else tags[0])
        got = got if isinstance(got, list) else [got]
        return len(got), sum(1 for r in got if r.Status != "Success")
    return once, c.Close

LOADS = {
    "pycomm3 read 1": (pycomm3_logix, ["BENCH"]),
    "pycomm3 read 200": (pycomm3_logix, many),
    "pycomm3 generic": (pycomm3_generic, ["GAS"]),
    "pylogix read 1": (pylogix_read, ["BENCH"]),
    "pylogix read 200": (pylogix_read, many),
}
wanted = json.loads(sys.argv[6])
out = {}
for name in wanted:
    make, tags = LOADS[name]
    opened = {}
    for target, (host, port) in targets.items():
        try:
            once, close = make(host, port, tags)
            end = time.perf_counter() + warmup
            for _ in range(100000):
                items, bad = once()
                if bad:
                    raise RuntimeError(f"{bad} of {items} reads failed")
                if time.perf_counter() >= end:
                    break
            opened[target] = (once, close)
            out[f"{name}@{target}"] = {"rates": [], "failures": 0}
        except Exception as exc:
            out[f"{name}@{target}"] = {"error": repr(exc)[:80]}
    for _ in range(runs):
        for target, (once, close) in opened.items():
            items = bad = 0
            began = time.perf_counter()
            end = began + seconds
            for _ in range(10_000_000):
                i, b = once()
                items += i
                bad += b
                if time.perf_counter() >= end:
                    break
            rec = out[f"{name}@{target}"]
            rec["rates"].append(items / (time.perf_counter() - began))
            rec["failures"] += bad
    for once, close in opened.values():
        try:
            close()
        except Exception:
            pass
print(json.dumps(out))
'''


def _json_run(cmd: list[str], timeout: float) -> dict:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, cwd="/tmp")
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        raise RuntimeError(f"exit {done.returncode}: {done.stderr.strip()[-200:]}")
    return json.loads(lines[-1])


def _stats(got: dict | None, key: str) -> Stats | str:
    if got is None:
        return "n/a"
    rec = got.get(key)
    if rec is None:
        return "n/a"
    if "error" in rec:
        return f"failed: {rec['error']}"[:60]
    return Stats(rec["rates"], [], rec["failures"])


def client_figures(cfg: Settings, ref_python: str | None, rows: list[Row]) -> None:
    servers: dict[str, lg.ServerProcess] = {}
    try:
        servers["ours"] = lg.ours(TAGS)
        if ref_python:
            try:
                servers["ref"] = lg.reference(ref_python, TAGS)
            except RuntimeError as exc:
                print(f"(reference server unavailable: {exc})", file=sys.stderr)
        host, port = servers["ours"].address
        loads_ours = [
            {"name": "single 1", "tags": ["BENCH"], "depth": 1, "multiple": 0},
            {"name": "single 20", "tags": ["BENCH"], "depth": 20, "multiple": 0},
            {"name": "many", "tags": MANY, "depth": 4, "multiple": 4000, "connected": True},
            {"name": "array", "tags": ["ARRAY[0-999]"], "depth": 1, "multiple": 0, "fragment": True},
        ]
        loads_ref = [dict(load) for load in loads_ours]
        loads_ref[2].update(multiple=500, connected=False)  # the reference client: unconnected, <= 500 B
        runs_each = max(1, cfg.runs // max(1, cfg.client_rounds)) if not cfg.quick else 1
        ours_out: dict[str, dict] = {}
        ref_out: dict[str, dict] = {}
        for _ in range(cfg.client_rounds):  # alternate the two clients' processes
            for python, loads, acc in ((sys.executable, loads_ours, ours_out), (ref_python, loads_ref, ref_out)):
                if python is None:
                    continue
                try:
                    got = _json_run([str(python), "-c", CLIENT, host, str(port), str(cfg.seconds),
                                     str(runs_each), str(cfg.warmup), json.dumps(loads)], 600)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    got = {load["name"]: {"error": str(exc)} for load in loads}
                for key, rec in got.items():
                    merged = acc.setdefault(key, {"rates": [], "failures": 0})
                    if "error" in rec:
                        merged["error"] = rec["error"]
                    else:
                        merged["rates"] += rec["rates"]
                        merged["failures"] += rec["failures"]
        ref_or_none = ref_out if ref_python else None
        rows.append(Row("our client vs reference client, single reads, depth 1 (both vs our server)",
                        "reads/s", _stats(ours_out, "single 1"), _stats(ref_or_none, "single 1")))
        rows.append(Row("our client vs reference client, single reads, depth 20", "reads/s",
                        _stats(ours_out, "single 20"), _stats(ref_or_none, "single 20")))
        rows.append(Row("our client vs reference client, ARRAY[0-999] (DINT[1000]) unconnected, fragmented",
                        "arrays/s", _stats(ours_out, "array"), _stats(ref_or_none, "array")))
        best = _stats(ours_out, "many")
        rows.append(Row("client, 200 tags/cycle best settings (ours: connected, multiple 4000, depth 4; "
                        "ref: multiple 500, depth 4)", "tags/s", best, _stats(ref_or_none, "many"), ">= 50,000",
                        isinstance(best, Stats) and best.median >= 50000))

        targets = {name: list(s.address) for name, s in servers.items()}
        wanted = ["pycomm3 read 1", "pycomm3 read 200", "pycomm3 generic", "pylogix read 1", "pylogix read 200"]
        try:
            third = _json_run([sys.executable, "-c", THIRD, str(cfg.seconds), str(cfg.runs), str(cfg.warmup),
                               json.dumps(targets), json.dumps(MANY), json.dumps(wanted)], 900)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            third = {f"{w}@{t}": {"error": str(exc)} for w in wanted for t in targets}
        has_ref = "ref" in targets
        described = {
            "pycomm3 read 1": "pycomm3 LogixDriver.read('BENCH'), our server vs reference server",
            "pycomm3 read 200": "pycomm3 LogixDriver.read(200 tags) (it packs MSPs)",
            "pycomm3 generic": "pycomm3 CIPDriver.generic_message Get Attribute Single @0x99/1/3 (connected)",
            "pylogix read 1": "pylogix PLC.Read('BENCH'), our server vs reference server",
            "pylogix read 200": "pylogix PLC.Read([200 tags]) (it packs MSPs)",
        }
        for name in wanted:
            ours_s = _stats(third, f"{name}@ours")
            ref_s = _stats(third, f"{name}@ref") if has_ref else "n/a"
            met = None
            if isinstance(ours_s, Stats) and isinstance(ref_s, Stats) and ref_s.median:
                met = ours_s.median >= 5 * ref_s.median
            unit = "tags/s" if name.endswith("200") else "reads/s"
            rows.append(Row(described[name], unit, ours_s, ref_s, ">= 5x" if met is not None else "", met))
    finally:
        for server in servers.values():
            server.stop()


# --- automata -----------------------------------------------------------------------------------


def automata_figures(cfg: Settings, ref_python: str | None, rows: list[Row]) -> None:
    import automata

    ours = automata.measure(sys.executable, cfg.symbols, 3, fast=True)["REGEX"]
    ref = automata.measure(ref_python, cfg.symbols, 2, fast=False)["REGEX"] if ref_python else None
    ref_run = ref["run"] if ref else math.nan
    rows.append(Row(f"automata: README REGEX machine, run() loop, {cfg.symbols} symbols", "symbols/CPU s",
                    ours["run"], ref_run, ">= 1 M and >= 6x",
                    ours["run"] >= 1e6 and (ref is None or ours["run"] >= 6 * ref_run)))
    rows.append(Row("automata: same, match() fast path (ref: its run())", "symbols/CPU s", ours["match"], ref_run,
                    ">= 50x", None if ref is None else ours["match"] >= 50 * ref_run))


# --- profile ------------------------------------------------------------------------------------

PROFILED = r'''
import cProfile, pstats, sys
from cpppo.server.enip.main import main
out = sys.argv[1]
profile = cProfile.Profile()
profile.enable()
try:
    main(sys.argv[2:])
finally:
    profile.disable()
    profile.dump_stats(out)
'''


def profile(cfg: Settings, load: str = "read", top: int = 30) -> None:
    """Our server under cProfile, top entries: ``read`` single-tag Read Tags 20 in flight (unconnected);
    ``msp`` 200 tags per connected Multiple Service Packet, 4 in flight; ``array`` DINT[1000] connected."""
    import pstats
    import tempfile

    seconds = 5.0 if not cfg.quick else 2.0
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "server.prof")
        server = lg.ServerProcess("cpppo (cProfile)", [sys.executable, "-c", PROFILED, out, "-a", "127.0.0.1:0",
                                                       *TAGS], cwd=str(ROOT))
        try:
            conn = lg.Link(server.address)
            if load == "read":
                frame = conn.rr_frame(lg.read_request("BENCH"))
                pool = [lg.with_context(frame, i) for i in range(1, 81)]
                run = lg.pipelined(conn, pool, 20, seconds, status_at=lg.RR_STATUS)
            elif load == "msp":
                conn.forward_open(4002)
                whole = conn.unit_frame(lg.msp_request(MANY), 1)
                pool = [lg.with_sequence(whole, i + 1) for i in range(32)]
                run = lg.pipelined(conn, pool, 4, seconds, key=lg.UNIT_SEQUENCE, status_at=lg.UNIT_STATUS,
                                   items_per_reply=len(MANY))
            else:
                conn.forward_open(4002)
                run = lg.array_reads(conn, lambda off, i: conn.unit_frame(lg.read_request("ARRAY", 1000, off), i + 1),
                                     seconds, status_at=lg.UNIT_STATUS, elements=1000)
            conn.close()
            print(f"profiled {load}: {run.requests} requests, {run.rate:,.0f} items/s under cProfile, "
                  f"{run.failures} failures")
        finally:
            server.stop()
        for _ in range(50):
            if Path(out).exists():
                break
            time.sleep(0.1)
        stats = pstats.Stats(out)
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)


# --- main ---------------------------------------------------------------------------------------


def _commit() -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                              timeout=10, check=False)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "cpppo"],
                               capture_output=True, text=True, cwd=ROOT, timeout=10, check=False)
    except OSError:
        return "unknown"
    return done.stdout.strip() + (" (+ uncommitted changes in cpppo/)" if dirty.stdout.strip() else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs, fewer clients: under a minute")
    ap.add_argument("--no-reference", action="store_true", help="skip the reference implementation")
    ap.add_argument("--record", action="store_true", help="append the table to bench/RESULTS.md")
    ap.add_argument("--profile", nargs="?", const="read", choices=["read", "msp", "array"],
                    help="cProfile our server under one load (default: read, 20 in flight) and print it")
    ap.add_argument("--only", choices=["server", "client", "automata"], action="append",
                    help="run only these parts (repeatable)")
    args = ap.parse_args(argv)
    cfg = Settings(args.quick)
    lg.raise_nofile(4096)
    if args.profile:
        profile(cfg, args.profile)
        return 0
    ref_python = None
    if not args.no_reference:
        try:
            from _refvenv import ref_python as make_ref

            ref_python = str(make_ref())
        except Exception as exc:  # no network, no PyPI: our figures only
            print(f"(reference unavailable: {exc})", file=sys.stderr)
    began = time.monotonic()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = _commit()  # once: others may commit while the suite runs
    header = (f"cpppo benchmark suite{' (--quick)' if args.quick else ''}: {stamp}, commit {commit}, "
              f"Python {sys.version.split()[0]}; {cfg.runs} runs of {cfg.seconds:g} s after {cfg.warmup:g} s "
              f"warm-up, median (min-max); loopback, one connection unless stated")
    rows: list[Row] = []
    parts = args.only or ["server", "client", "automata"]
    for part, fn in (("server", server_figures), ("client", client_figures), ("automata", automata_figures)):
        if part in parts:
            t0 = time.monotonic()
            fn(cfg, ref_python, rows)
            print(f"({part} figures: {time.monotonic() - t0:.0f} s)", file=sys.stderr, flush=True)
    table = render(rows, header)
    print(table)
    print(f"\n(total {time.monotonic() - began:.0f} s)")
    if args.record:
        with open(HERE / "RESULTS.md", "a") as f:
            f.write(f"\n## {stamp} (commit {commit}){' --quick' if args.quick else ''}\n\n")
            f.write(table.split("\n", 2)[2] + "\n\n" + header + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
