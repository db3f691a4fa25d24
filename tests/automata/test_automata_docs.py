"""Every Python block in docs/automata.md runs, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "automata.md"


def test_documented_python_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) >= 5
    namespace: dict = {}
    for block in blocks:  # the incremental-input block continues with the last machine run before it
        exec(compile(block, str(DOC), "exec"), namespace)
    out = capsys.readouterr().out
    assert "Accepted: " in out and "remaining: ', ab'" in out
    assert namespace["machine"] is namespace["REGEX"]
    assert namespace["data"]["input.input"].tounicode() == "abbbb, ab"  # fed in three packets
    assert namespace["ADDR"].name == "host:port"
