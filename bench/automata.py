"""Symbols per second for the README's three machines (BASIC, CSV, REGEX), ours vs the reference.

Three figures per machine on the same long input: ours through the documented ``run()`` loop
(one ``(machine, state)`` yield per transition), ours through the compiled whole-buffer fast path
``machine.match(buffer)``, and the reference implementation (cpppo 5.2.5 from PyPI, in
``bench/.ref-venv``, see ``_refvenv.py``) through the same ``run()`` loop, measured in this run.
Each figure is CPU time (``time.process_time``), best of a few repeats, so other work on a
shared machine disturbs the figures and ratios less.

    python bench/automata.py [--quick] [--no-reference] [--symbols N]

``--symbols`` must be at least 2 (the shortest input each machine accepts is ``ab``).  Without the
reference (no network, no PyPI, or ``--no-reference``; ``--no-ref`` is an alias) only our figures
are printed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

# The same text runs under our package and under the reference: the documented API is shared.
BENCH = r'''
import json, sys, time
import cpppo

def machines():
    E = cpppo.state("E")
    A = cpppo.state_input("A")
    B = cpppo.state_input("B", terminal=True)
    E["a"] = A
    A["b"] = B
    B["b"] = B
    BASIC = cpppo.dfa("ab+", initial=E, context="basic")
    ABP = cpppo.dfa("ab+", initial=E, terminal=True)
    SEP = cpppo.state_drop("SEP")
    ABP[","] = SEP
    SEP[" "] = SEP
    SEP[None] = ABP
    CSV = cpppo.dfa("CSV", initial=ABP, context="csv")
    REGEX = cpppo.regex(initial="(ab+)((,[ ]*)(ab+))*")
    return {"BASIC": BASIC, "CSV": CSV, "REGEX": REGEX}

def inputs(n):
    items = ", ".join(["abbbb", "ab"] * (n // 11 + 1))[:n].rstrip(", ")
    if items.endswith(","):
        items = items[:-1]
    while items and not items.endswith("b"):
        items = items[:-1]
    return {"BASIC": "a" + "b" * (n - 1), "CSV": items, "REGEX": items}

def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        out = fn()
        times.append(time.process_time() - t0)
    return min(times), out

def via_run(machine, text):
    def go():
        data = cpppo.dotdict()
        source = cpppo.peekable(text)
        with machine:
            for _ in machine.run(source=source, data=data):
                pass
        return source.sent
    return go

def main(n, repeat, fast):
    out = {}
    for name, machine in machines().items():
        text = inputs(n)[name]
        seconds, sent = best(via_run(machine, text), repeat)
        row = {"symbols": len(text), "accepted": sent, "run": len(text) / max(seconds, 1e-9)}
        if fast:
            machine.match(text)  # build the table and regexes outside the timing
            seconds, found = best(lambda: machine.match(text), max(repeat, 5))
            row["match"] = len(text) / max(seconds, 1e-9)
            row["match_accepted"] = found.length
        out[name] = row
    print(json.dumps(out))

main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1")
'''


def measure(python: str, n: int, repeat: int, fast: bool) -> dict[str, dict[str, float]]:
    done = subprocess.run(
        [python, "-c", BENCH, str(n), str(repeat), "1" if fast else "0"],
        check=True, capture_output=True, text=True, timeout=1800, cwd=str(HERE.parent) if fast else "/",
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def symbols(text: str) -> int:
    """``--symbols``: an input length of at least 2 (``ab``, the shortest input every machine accepts)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 2:
        raise argparse.ArgumentTypeError(f"must be at least 2, not {n}")
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shorter input (fewer symbols)")
    parser.add_argument("--no-reference", "--no-ref", dest="no_reference", action="store_true",
                        help="skip the reference implementation")
    parser.add_argument("--symbols", type=symbols, default=None,
                        help="input length, at least 2 (default 200000, quick 40000)")
    args = parser.parse_args(argv)
    n = args.symbols if args.symbols is not None else (40_000 if args.quick else 200_000)

    ours = measure(sys.executable, n, 3, fast=True)
    ref = None
    if not args.no_reference:
        try:
            from _refvenv import ref_python

            python = str(ref_python())
        except Exception as exc:  # no network, no PyPI: skip the comparison
            print(f"(reference unavailable: {exc})", file=sys.stderr)
        else:
            try:
                ref = measure(python, n, 2, fast=False)
            except (subprocess.SubprocessError, OSError, ValueError) as exc:
                print(f"(reference unavailable: its run failed: {exc})", file=sys.stderr)

    print(f"automata: symbols per CPU second, {n} symbol inputs (best of repeats)")
    head = f"{'machine':8} {'ours run()':>12} {'ours match()':>13}"
    if ref:
        head += f" {'ref 5.2.5 run()':>16} {'run/ref':>8} {'match/ref':>10}"
    print(head)
    for name, row in ours.items():
        line = f"{name:8} {row['run']:12,.0f} {row['match']:13,.0f}"
        if ref:
            r = ref[name]["run"]
            line += f" {r:16,.0f} {row['run'] / r:7.1f}x {row['match'] / r:9.1f}x"
            if ref[name]["accepted"] != row["accepted"]:
                line += f"  (accepted differs: ours {row['accepted']} ref {ref[name]['accepted']})"
        if row["match_accepted"] != row["accepted"]:
            line += "  (match() accepted a different length!)"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
