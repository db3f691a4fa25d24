"""docs/modbus.md's Python examples run, against a simulator, so the documentation cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

from modbus_support import wait_for

from cpppo.modbus import Table

DOC = Path(__file__).resolve().parents[2] / "docs" / "modbus.md"


def _example(marker: str) -> str:
    text = DOC.read_text()
    return re.search(r"```python\n(.*?)```", text[text.index(marker):], re.S)[1]


def test_poller_example_in_docs_runs(simulator):
    code = _example("<!-- this example runs in tests/modbus/test_modbus_docs.py -->")
    sim = simulator("40001-40100=99")
    assert "port=1502" in code
    exec(compile(code.replace("port=1502", f"port={sim.address[1]}"), str(DOC), "exec"), {})
    store = sim.units[0]
    assert store.read(Table.HOLDING_REGISTERS, 0, 3) == [123, 1, 2]


def test_embedding_example_in_docs_runs():
    code = _example("<!-- this example also runs in tests/modbus/test_modbus_docs.py -->")
    code = code.replace("# ... plc.read(40001) becomes 42", "seen = wait_for(lambda: plc.read(40001))")
    namespace = {"wait_for": wait_for}
    exec(compile(code, str(DOC), "exec"), namespace)
    assert namespace["seen"] == 42
