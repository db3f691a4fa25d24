"""A small binary protocol parsed with the library: length-prefixed strings.

Each record is one length byte followed by that many bytes.  The machine stores the length under
``<path>.length.input`` and the payload under ``<path>.value.input``; ``decide`` predicates read
the length back from the data to know when the payload is complete.  This is how the EtherNet/IP
parsers use the library: grammar as states, counts as predicates over what was parsed so far.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cpppo


def remaining(path: str, data: cpppo.dotdict) -> int:
    length = data[path + ".length.input"][0]
    return length - len(data.get(path + ".value.input", b""))


def length_prefixed(name: str = "lpstr", context: str | None = None) -> cpppo.dfa:
    start = cpppo.state("START")
    length = cpppo.state_input("LENGTH", context="length")
    byte = cpppo.state_input("BYTE", context="value")
    done = cpppo.state("DONE", terminal=True)
    start[True] = length
    for here in (length, byte):
        here[True] = cpppo.decide("more", state=byte,
                                  predicate=lambda path=None, data=None, **_: remaining(path, data) > 0)
        here[None] = cpppo.decide("complete", state=done,
                                  predicate=lambda path=None, data=None, **_: remaining(path, data) == 0)
    return cpppo.dfa(name, initial=start, context=context, terminal=True)




def test_parses_consecutive_records_including_an_empty_one():
    machine = length_prefixed(context="s")
    source = cpppo.peekable(b"\x03abc\x00\x02hi")
    values = []
    for _ in range(3):
        data = cpppo.dotdict()
        with machine:
            for _ in machine.run(source=source, data=data):
                pass
        assert machine.terminal
        values.append(bytes(data.get("s.value.input", b"")))
    assert values == [b"abc", b"", b"hi"]
    assert source.peek() is None


def test_truncated_record_raises_non_terminal_at_the_end_of_input():
    machine = length_prefixed()
    with pytest.raises(cpppo.NonTerminal) as info:
        for _ in machine.run(source=cpppo.peekable(b"\x05abc")):
            pass
    assert info.value.position == 4 and info.value.symbol is None
    assert info.value.state.name == "BYTE"


@settings(max_examples=100, deadline=None)
@given(payload=st.binary(max_size=40), cut=st.integers(min_value=0, max_value=41))
def test_record_split_across_two_packets(payload, cut):
    wire = bytes([len(payload)]) + payload + b"\xff"  # trailing byte belongs to the next record
    cut = min(cut, len(wire))
    machine = length_prefixed(context="r")
    source = cpppo.chainable(wire[:cut])
    data = cpppo.dotdict()
    fed = False
    for _, s in machine.run(source=source, data=data):
        if s is None and source.peek() is None and not fed:
            source.chain(wire[cut:])
            fed = True
    assert bytes(data.get("r.value.input", b"")) == payload
    assert source.peek() == 0xFF and machine.terminal


@settings(max_examples=200, deadline=None)
@given(wire=st.binary(max_size=24))
def test_any_bytes_either_parse_or_raise_non_terminal(wire):
    machine = length_prefixed(context="r")
    source = cpppo.peekable(wire)
    data = cpppo.dotdict()
    try:
        for _ in machine.run(source=source, data=data):
            pass
    except cpppo.NonTerminal as exc:  # the only error a peer's bytes can cause
        assert exc.symbol is None and exc.position == len(wire)  # only truncation can fail here
        return
    assert wire and len(data.get("r.value.input", b"")) == wire[0]
    assert source.sent == 1 + wire[0]
