"""The live dashboard: what an open, updating page costs the EtherNet/IP path, and how quickly it opens.

One ``enip_server --web`` with 10 063 tag elements; a second process writes a tag 50 times a
second throughout (so an open page has something to follow).  Read Tag throughput at 20 in
flight is measured in alternating runs with no page open and with the dashboard open in
headless Chromium (a tag's elements shown, a trend running); then the time the page takes to show
its tags and to open a 9 000-element array, and with 10 000 scalar tags the time it takes to show
and to filter them.  Nothing is asserted.

Usage: ``.venv/bin/python bench/web.py [--quick] [--runs N] [--seconds S] [--screenshot PNG]``
(``--screenshot docs/images/dashboard.png`` renews the one in the docs); needs Debian's
``chromium`` and the ``playwright`` package (both installed for the tests).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import loadgen  # the bench folder is not a package: found through sys.path above

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
TAGS = ["BENCH=DINT", "SCADA=INT[1000]", "BIG=DINT[9000]", *(f"AUX{i}=DINT" for i in range(62))]

WRITER = """
import sys, time
from cpppo.server.enip import client
port, rate = int(sys.argv[1]), float(sys.argv[2])
with client.connector(host="127.0.0.1", port=port, timeout=10) as conn:
    i = 0
    while True:
        i += 1
        ops = client.parse_operations([f"SCADA[{i % 8}]=(INT){i % 1000}"])
        list(conn.pipeline(operations=ops, depth=1))
        time.sleep(1 / rate)
"""


def open_page(browser, url: str):  # type: ignore[no-untyped-def]
    """The dashboard, open and following: SCADA's elements shown and SCADA[1] trended."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    began = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("#tags tbody tr[data-tag='SCADA']")
    shown = time.perf_counter() - began
    page.click("#tags tbody tr[data-tag='SCADA']")
    page.wait_for_selector("#elements .cell[data-index='1']")
    page.click("#elements .cell[data-index='1']")
    page.click("#trend-this")
    page.wait_for_selector("#live.on")
    return page, shown


def many_tags(browser) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """A simulator of 10 000 scalar tags (in this process): how long the page takes to show them,
    and to filter them down to one."""
    from cpppo.server.enip.embedded import Simulator

    with Simulator([f"T{i}=DINT" for i in range(10_000)], web=("127.0.0.1", 0)) as sim:
        assert sim.web is not None
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        began = time.perf_counter()
        page.goto(sim.web.url)
        page.wait_for_selector("#tags tbody tr[data-tag='T0']")
        shown = time.perf_counter() - began
        began = time.perf_counter()
        page.fill("#filter", "T9999")
        page.wait_for_selector("#tags tbody tr[data-tag='T9999']")
        filtered = time.perf_counter() - began
        page.close()
    return shown, filtered


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--rate", type=float, default=50.0, help="writes per second the page follows")
    ap.add_argument("--quick", action="store_true", help="2 runs of 0.5 s")
    ap.add_argument("--screenshot", type=Path, help="save a screenshot of the page following the writes here")
    args = ap.parse_args(argv)
    runs, seconds = (2, 0.5) if args.quick else (args.runs, args.seconds)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("bench/web.py needs playwright (pip install -e '.[test]')")
        return 1
    web_port = loadgen.free_port()
    server = loadgen.ours(TAGS, extra=["--web", f"127.0.0.1:{web_port}"])
    url = f"http://127.0.0.1:{web_port}/"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(server.address[1]), str(args.rate)],
                              cwd=str(loadgen.HERE.parent))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            loadgen.read_tag_rate(server, 0.3)
            without, with_, opened = [], [], []
            for _ in range(runs):
                without.append(loadgen.read_tag_rate(server, seconds))
                page, shown = open_page(browser, url)
                opened.append(shown)
                time.sleep(0.5)  # the page settles into following
                with_.append(loadgen.read_tag_rate(server, seconds))
                followed = page.evaluate("model.trend.points.length")
                page.close()
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url)
            page.wait_for_selector("#tags tbody tr[data-tag='BIG']")
            began = time.perf_counter()
            page.click("#tags tbody tr[data-tag='BIG']")
            page.wait_for_selector("#elements .cell[data-index='99']")
            big = time.perf_counter() - began
            began = time.perf_counter()
            page.click("#detail-next")
            page.wait_for_selector("#elements .cell[data-index='199']")
            paged = time.perf_counter() - began
            page.close()
            if args.screenshot:
                page, _ = open_page(browser, url)
                page.fill("#delay", "0.05")
                page.click("#set-delay")
                time.sleep(4)  # a trend of a few seconds, the request rate, the last writes
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=str(args.screenshot))
                page.fill("#delay", "0")
                page.click("#set-delay")
                page.close()
            wide, filtered = many_tags(browser)
            browser.close()
    finally:
        writer.terminate()
        writer.wait(10)
        server.stop()
    a, b = statistics.median(without), statistics.median(with_)
    print(f"Dashboard, {len(TAGS)} tags / 10 063 elements, {args.rate:g} writes/s followed; "
          f"Read Tag, 20 in flight, {runs} alternating runs of {seconds:g} s (median):")
    print(f"  no page open                       {a:12,.0f} req/s")
    print(f"  dashboard open and updating        {b:12,.0f} req/s ({b / a:.0%}); trend points on the page: {followed}")
    print(f"  page shows its tags in             {statistics.median(opened) * 1000:9.0f} ms (median)")
    print(f"  opening BIG (9 000 elements)       {big * 1000:9.0f} ms; next page of 100 {paged * 1000:.0f} ms")
    print(f"  10 000 scalar tags: page shows them {wide * 1000:8.0f} ms; filtered to one in {filtered * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
