"""Sources: peek, sent, push back, chain; machines pausing for input and resuming."""

from __future__ import annotations

import pytest

import cpppo
from tests.automata.conftest import build_readme_machines


def test_peekable_peek_next_sent_and_remaining():
    source = cpppo.peekable("abc")
    assert source.peek() == "a" and source.sent == 0
    assert next(source) == "a" and source.sent == 1
    assert "".join(source) == "bc"
    assert source.peek() is None and source.sent == 3
    with pytest.raises(StopIteration):
        next(source)


def test_push_back_makes_a_symbol_next_again():
    source = cpppo.peekable(b"xy")
    first = next(source)
    source.push(first)
    assert source.peek() == first and source.sent == 0
    source.push(0x41)  # a symbol that was never there
    assert list(source) == [0x41, ord("x"), ord("y")]


def test_chain_appends_input_from_any_iterable():
    source = cpppo.chainable()
    assert source.peek() is None
    source.chain("ab").chain(iter("cd")).chain(memoryview(b"e"))
    assert list(source) == ["a", "b", "c", "d", 0x65]
    assert source.sent == 5


def test_iterators_are_read_one_item_at_a_time():
    pulled = []

    def gen():
        for ch in "xyz":
            pulled.append(ch)
            yield ch

    source = cpppo.peekable(gen())
    assert source.peek() == "x" and pulled == ["x"]


def finish(text_parts, name):
    """Run README machine ``name`` feeding ``text_parts`` one by one whenever it asks for input."""
    machine = build_readme_machines()[name]
    source = cpppo.chainable()
    data = cpppo.dotdict()
    parts = list(text_parts)
    source.chain(parts.pop(0))
    pauses = 0
    for _, s in machine.run(source=source, data=data):
        if s is None and source.peek() is None and parts:
            pauses += 1
            source.chain(parts.pop(0))
    return data, source.sent, pauses


@pytest.mark.parametrize("name", ["BASIC", "CSV", "REGEX"])
def test_input_split_at_every_position_gives_the_same_result(name):
    text = "abbbb, ab"
    whole, sent, _ = finish([text], name)
    for cut in range(len(text) + 1):
        data, consumed, _ = finish([text[:cut], text[cut:]], name)
        assert data == whole, cut
        assert consumed == sent, cut


def test_byte_at_a_time_chunks_resume_the_same_generator():
    chunks = [bytes([b]) for b in b"abbb, abb"]
    machine = cpppo.regex_bytes(initial=b"(ab+)((,[ ]*)(ab+))*", terminal=True)
    source = cpppo.chainable()
    data = cpppo.dotdict()
    run = machine.run(source=source, data=data, path="pkt")
    waits = 0
    for chunk in chunks:  # one "network packet" at a time; the machine waits in between
        source.chain(chunk)
        for _, s in run:
            if s is None and source.peek() is None:
                waits += 1
                break
    for _ in run:  # no more input: let it finish
        pass
    assert bytes(data["pkt.input.input"]) == b"abbb, abb"
    assert machine.terminal and waits == len(chunks)


def test_stopping_when_input_never_comes_raises_non_terminal():
    machine = build_readme_machines()["REGEX"]
    source = cpppo.chainable("ab,")
    with pytest.raises(cpppo.NonTerminal) as info:
        for _ in machine.run(source=source):
            pass
    assert info.value.position == 3 and info.value.symbol is None
