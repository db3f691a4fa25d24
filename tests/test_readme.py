"""The README's and the docs' embedding examples run as written (the client ones against a simulator
serving ``make run``'s tags, on a free port instead of 44818)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import cpppo.server.enip

ROOT = Path(__file__).resolve().parent.parent
MAKE_RUN_TAGS = re.search(r"^TAGS \?= (.*?)(?<!\\)$", (ROOT / "Makefile").read_text(), re.M | re.S)


def _blocks(doc: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / doc).read_text(), re.S)


def _run(code: str, where: str) -> str:
    out = io.StringIO()
    scope: dict[str, object] = {"__name__": "__example__"}
    with contextlib.redirect_stdout(out):
        exec(compile(code, where, "exec"), scope)
        if "test_my_hmi_reads_the_speed" in scope:
            scope["test_my_hmi_reads_the_speed"]()  # type: ignore[operator]
    return out.getvalue()


def _make_run_tags() -> list[str]:
    assert MAKE_RUN_TAGS is not None
    return MAKE_RUN_TAGS.group(1).replace("\\\n", " ").split()


def test_readme_embedding_example_runs():
    (block,) = [b for b in _blocks("README.md") if "def test_my_hmi_reads_the_speed" in b]
    _run(block, "README.md")


def test_readme_client_example_runs_against_make_runs_tags():
    (block,) = [b for b in _blocks("README.md") if "client.connector(host=\"127.0.0.1\", port=44818)" in b]
    with cpppo.server.enip.simulator(_make_run_tags()) as plc:
        code = block.replace("44818", str(plc.address[1])) + "\nassert failures == 0, values\n"
        _run(code, "README.md")
        assert plc["SPEED"] == 1.5


def test_docs_embedding_examples_run():
    (simulator,) = [b for b in _blocks("docs/simulator.md") if "print(plc.io[-1])" in b]
    out = _run(simulator, "docs/simulator.md").splitlines()
    assert out[0] == "2.5" and out[1].startswith("TagEvent(kind='write', tag='FLOAT', start=0, count=1, values=[2.5]")
    (logix,) = [b for b in _blocks("docs/logix.md") if "udts=" in b]
    _run(logix, "docs/logix.md")
