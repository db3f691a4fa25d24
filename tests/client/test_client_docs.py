"""The Python examples in docs/client.md run as written, so the documentation cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "client.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_there_are_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("n", range(len(EXAMPLES)))
def test_example_runs(n, capsys):
    exec(compile(EXAMPLES[n], f"{DOC.name} example {n}", "exec"), {"__name__": f"doc_example_{n}"})
    out = capsys.readouterr().out
    if "printing=True" in EXAMPLES[n]:
        assert "Tag[0-9]+16 <= [4, 5, 6, 7, 8, 9]: 'OK'" in out
