"""The dashboard in a real browser: Debian's headless Chromium, driven by Playwright.

The page loads a simulator with over 10 000 tag elements and shows its tags; a value written by
our EtherNet/IP client appears within a second; a tag error, a reply delay, dropped connections
and a disabled port set from the page are what a client then meets; a trend follows an element;
and the layout is checked on a screenshot so a broken page fails.
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest

from cpppo.errors import CpppoError
from cpppo.server.enip import client
from cpppo.server.enip.embedded import Simulator

CHROMIUM = os.environ.get("CPPPO_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
TAGS = ["SCADA=INT[1000]", "BIG=DINT[9000]", "SPEED=REAL", "NAME=STRING", "RUNNING=BOOL",
        *(f"AUX{i}=DINT" for i in range(60))]  # 10 063 elements in 65 tags: two pages of tags


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium; "
                    ".ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def plc() -> Iterator[Simulator]:
    with Simulator(TAGS, web=("127.0.0.1", 0)) as sim:
        yield sim


@pytest.fixture
def page(browser: Any, plc: Simulator) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
    assert plc.web is not None
    page.goto(plc.web.url)
    page.wait_for_selector("#tags tbody tr[data-tag='SCADA']", timeout=10_000)
    page.wait_for_selector("#live.on", timeout=10_000)
    yield page
    context.close()
    assert problems == []


def run(plc: Simulator, *operations: str, timeout: float = 5.0) -> list[Any]:
    """The values our client reads (True for a write done, None for a failure)."""
    return [value for _, value in statuses(plc, *operations, timeout=timeout)]


def statuses(plc: Simulator, *operations: str, timeout: float = 5.0) -> list[tuple[Any, Any]]:
    """(status, value) of each operation, as our client reports them."""
    with client.connector(host="127.0.0.1", port=plc.address[1], timeout=timeout) as conn:
        return [(status, value) for _, _, _, _, status, value in
                conn.pipeline(operations=client.parse_operations(list(operations)), depth=1, timeout=timeout)]


def says(page: Any, text: str) -> None:
    """Wait until the page's message line says ``text``."""
    page.wait_for_function("text => document.querySelector('#message').textContent.includes(text)", arg=text)


def value_cell(page: Any, tag: str) -> Any:
    return page.locator(f"#tags tbody tr[data-tag='{tag}'] td.value")


def test_the_page_shows_the_tags_and_follows_a_client_write(page: Any, plc: Simulator) -> None:
    assert page.locator("#product").inner_text() == "1756-L61/B LOGIX5561"
    assert page.locator("#enip").inner_text() == f"127.0.0.1:{plc.address[1]}"
    assert "65 tags, 10063 elements" in page.locator("#tag-count").inner_text()
    rows = page.locator("#tags tbody tr")
    assert rows.count() == 50  # one page of tags in the document, however many there are
    assert rows.nth(0).locator("td.type").inner_text() == "INT" and rows.nth(0).locator("td.shape").inner_text() == "[1000]"
    page.fill("#filter", "AUX5")
    page.wait_for_function("document.querySelectorAll('#tags tbody tr').length === 11")  # AUX5, AUX50..59
    page.fill("#filter", "")

    run(plc, "SCADA[1]=(INT)4242", "SPEED=(REAL)2.5")
    page.wait_for_function("document.querySelector(\"#tags tr[data-tag='SCADA'] td.value\").textContent"
                           ".includes('4242')", timeout=1000)  # within a second of the client's write
    page.wait_for_function("document.querySelector(\"#tags tr[data-tag='SPEED'] td.value\").textContent === '2.5'",
                           timeout=1000)
    assert page.locator("#io-log li.write").first.inner_text().count("client 127.0.0.1:") == 1

    page.click("#tags tbody tr[data-tag='BIG']")  # 9 000 elements: a page of 100 at a time
    page.wait_for_selector("#elements .cell[data-index='99']")
    assert page.locator("#elements .cell").count() == 100
    page.click("#detail-next")
    page.wait_for_selector("#elements .cell[data-index='100']")
    page.click("#elements .cell[data-index='105']")
    page.click("#trend-this")
    for value in (10, 30, 20):
        run(plc, f"BIG[105]=(DINT){value}")
        page.wait_for_function(f"document.querySelector(\".cell[data-index='105']\").textContent.endsWith('{value}')",
                               timeout=1000)
    points = page.evaluate("model.trend.points.map(p => p[1])")
    changes = [v for i, v in enumerate(points) if i == 0 or v != points[i - 1]]  # a held value repeats each second
    assert changes[-3:] == [10, 30, 20]
    drawn = page.evaluate("""(() => { const c = document.getElementById('trend');
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < px.length; i += 4) n += px[i] > 0; return n; })()""")
    assert drawn > 500  # the line and its axes were drawn

    page.fill("#edit-value", "-5")  # editing an element from the page: a client reads it back
    page.click("#write")
    page.wait_for_selector("#message.good")
    assert run(plc, "BIG[105]") == [[-5]]


def test_a_tag_error_set_from_the_page_fails_client_reads(page: Any, plc: Simulator) -> None:
    page.click("#tags tbody tr[data-tag='SPEED']")
    page.wait_for_selector("#detail-panel:not([hidden])")
    page.fill("#tag-error", "8")
    page.click("#set-error")
    page.wait_for_selector("#message.good")
    page.wait_for_function("document.querySelector(\"#tags tr[data-tag='SPEED'] td.error\").textContent === '0x08'")
    ((status, value),) = statuses(plc, "SPEED")
    assert value is None and status == 8  # the client's read fails with the status the page set
    page.wait_for_selector("#io-log li.error")  # and the page lists the failed access
    assert "SPEED read failed: status 0x08" in page.locator("#io-log li.error").first.inner_text()
    page.fill("#tag-error", "0")
    page.click("#set-error")
    page.wait_for_function("document.querySelector(\"#tags tr[data-tag='SPEED'] td.error\").textContent === ''")
    assert run(plc, "SPEED") == [[0.0]]


def test_faults_set_from_the_page_reach_the_clients(page: Any, plc: Simulator) -> None:
    page.fill("#delay", "0.4")
    page.click("#set-delay")
    page.wait_for_selector("#message.good")
    began = time.monotonic()
    run(plc, "SPEED")
    assert time.monotonic() - began >= 0.4  # the reply waited as long as asked
    page.fill("#delay", "0")
    page.click("#set-delay")
    says(page, "='0' (0.0)")

    held = client.connector(host="127.0.0.1", port=plc.address[1], timeout=5)
    page.wait_for_selector("#connections tbody tr", timeout=3000)  # the connection is listed (stats each second)
    page.click("#drop")
    says(page, "eof='true' (True)")
    with pytest.raises(CpppoError):
        held.process(client.parse_operations(["SPEED"]), timeout=2)
    held.close()

    page.check("#disable")
    says(page, "disable='true' (True)")
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", plc.address[1]), timeout=2):
        pass
    page.uncheck("#disable")
    says(page, "disable='false' (False)")
    assert run(plc, "SPEED") == [[0.0]]


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def test_the_layout_holds_on_a_screenshot(page: Any, plc: Simulator, tmp_path: Any) -> None:
    page.click("#tags tbody tr[data-tag='SCADA']")
    page.wait_for_selector("#elements .cell[data-index='99']")
    run(plc, "SCADA[0-3]=(INT)1,2,3,4")
    page.wait_for_selector("#io-log li")
    boxes = {name: page.locator(f"#{name}-panel").bounding_box()
             for name in ("tags", "detail", "faults", "connections", "trend", "io")}
    assert all(box is not None and box["width"] > 200 and box["height"] > 60 for box in boxes.values()), boxes
    assert all(box["x"] >= 0 and box["x"] + box["width"] <= 1280 for box in boxes.values()), boxes  # no sideways scroll
    left, right = ("tags", "detail"), ("faults", "connections", "trend", "io")
    edge = max(boxes[n]["x"] + boxes[n]["width"] for n in left)
    assert all(boxes[n]["x"] > edge for n in right), boxes  # two columns, side by side, not overlapping
    assert boxes["detail"]["y"] >= boxes["tags"]["y"] + boxes["tags"]["height"]
    for upper, lower in itertools.pairwise(right):
        assert boxes[lower]["y"] >= boxes[upper]["y"] + boxes[upper]["height"], (upper, lower)
    header = page.locator("header").bounding_box()
    assert header is not None and header["y"] == 0 and header["width"] == 1280
    cells = page.locator("#tags thead th")
    assert all(cells.nth(i).bounding_box()["width"] > 30 for i in range(cells.count()))
    shot = page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    width, height = _png_size(shot)
    assert width == 1280 and 600 < height < 3000
    assert len(shot) > 30_000  # a page with content, not a blank one
