"""Every Python block in docs/automata.md runs, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import cpppo

DOC = Path(__file__).resolve().parents[2] / "docs" / "automata.md"


def test_documented_python_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) >= 5
    namespace: dict = {}
    for block in blocks:
        if "cpppo.chainable()" in block:  # names this block leaves to the reader
            namespace.update(machine=cpppo.regex(initial="(ab+)((,[ ]*)(ab+))*", terminal=True),
                             packets=["ab", "bb, a", "b"], data=cpppo.dotdict())
        exec(compile(block, str(DOC), "exec"), namespace)
    out = capsys.readouterr().out
    assert "Accepted: " in out and "remaining: ', ab'" in out
    assert namespace["machine"].terminal
    assert namespace["data"]["input.input"].tounicode() == "abbb, ab"
    assert namespace["ADDR"].name == "host:port"
