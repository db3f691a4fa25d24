"""docs/modbus.md's Python example runs, against a simulator, so the documentation cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

from cpppo.modbus import Table

DOC = Path(__file__).resolve().parents[2] / "docs" / "modbus.md"


def test_poller_example_in_docs_runs(simulator):
    text = DOC.read_text()
    marker = text.index("<!-- this example runs in tests/modbus/test_modbus_docs.py -->")
    code = re.search(r"```python\n(.*?)```", text[marker:], re.S)[1]
    sim = simulator("40001-40100=99")
    assert "port=1502" in code
    exec(compile(code.replace("port=1502", f"port={sim.address[1]}"), str(DOC), "exec"), {})
    store = sim.units[0]
    assert store.read(Table.HOLDING_REGISTERS, 0, 3) == [123, 1, 2]
