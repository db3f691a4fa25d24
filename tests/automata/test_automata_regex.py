"""cpppo.regex agrees with Python's re.fullmatch; bytes, Unicode, errors, helper machines."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cpppo
from cpppo.automata import RegexError

PATTERNS = [
    "(ab+)((,[ ]*)(ab+))*",
    "a*",
    "(a|b)*abb",
    "x?y{2,3}z",
    "[a-c]+[^a-c]",
    "(ab|a)(bc|c)?",
    "é(ü|a)*",
    ".b",
]
ALPHABET = "abcxyzéü, \n"


def accepts(machine: cpppo.dfa, text: str) -> bool:
    """Whole-string acceptance: the machine consumed everything and ended terminal."""
    source = cpppo.peekable(text)
    try:
        for _ in machine.run(source=source):
            pass
    except cpppo.NonTerminal:
        return False
    return source.peek() is None and machine.terminal


MACHINES = {p: cpppo.regex(initial=p, terminal=True) for p in PATTERNS}


@settings(max_examples=200, deadline=None)
@given(pattern=st.sampled_from(PATTERNS), text=st.text(alphabet=ALPHABET, max_size=12))
def test_regex_acceptance_matches_re_fullmatch(pattern, text):
    expected = re.fullmatch(pattern, text, re.DOTALL) is not None
    assert accepts(MACHINES[pattern], text) is expected


@settings(max_examples=200, deadline=None)
@given(pattern=st.sampled_from(PATTERNS), text=st.text(alphabet=ALPHABET, max_size=12))
def test_compiled_match_agrees_with_run(pattern, text):
    machine = MACHINES[pattern]
    try:
        expected = ("ok", accepts_prefix(machine, text))
    except cpppo.NonTerminal as exc:
        expected = ("error", exc.position)
    try:
        found = machine.match(text)
        got = ("ok", (found.length, found.data.get("input.input")))
    except cpppo.NonTerminal as exc:
        got = ("error", exc.position)
    assert got == expected


def accepts_prefix(machine, text):
    source = cpppo.peekable(text)
    data = cpppo.dotdict()
    for _ in machine.run(source=source, data=data):
        pass
    return source.sent, data.get("input.input")


def test_regex_bytes_uses_int_symbols_and_stores_a_bytearray():
    machine = cpppo.regex_bytes(initial=b"\x02[\x00-\xff]{2}\x03", terminal=True)
    data = cpppo.dotdict()
    for _ in machine.run(source=cpppo.peekable(b"\x02\xff\x00\x03rest"), data=data):
        pass
    assert data["input.input"] == bytearray(b"\x02\xff\x00\x03")
    assert machine.terminal


def test_unparseable_regex_raises_regex_error_with_offset():
    with pytest.raises(RegexError) as info:
        cpppo.regex(initial="(ab")
    assert info.value.position == 0 and "(ab" in str(info.value)
    with pytest.raises(RegexError):
        cpppo.regex(initial="a{2,")


def test_integer_and_string_helpers_store_converted_fields():
    word = cpppo.string("word", context="name", pattern="[a-z0-9]+")
    number = cpppo.integer("port", context="port")
    colon = cpppo.state_drop("COLON")
    word[":"] = colon
    colon[None] = number
    machine = cpppo.dfa("host:port", initial=word, context="addr")
    data = cpppo.dotdict()
    source = cpppo.peekable("plc7:44818 tail")
    for _ in machine.run(source=source, data=data):
        pass
    assert data.addr.name == "plc7" and data.addr.port == 44818
    assert "".join(source) == " tail"
    assert set(data.addr) == {"name", "port"}  # no raw symbol buffers left behind


def test_integer_helper_with_a_sign_and_without_digits():
    number = cpppo.integer()
    data = cpppo.dotdict()
    for _ in number.run(source=cpppo.peekable("-42;"), data=data, path="x"):
        pass
    assert data["x.integer"] == -42
    with pytest.raises(cpppo.NonTerminal):
        for _ in number.run(source=cpppo.peekable("-;"), data=cpppo.dotdict()):
            pass


BYTE_PATTERNS = [b"\x02[\x00-\x7f]*\x03", b"(ab|\xff)+", b"[^a]b?"]
BYTE_MACHINES = {p: cpppo.regex_bytes(initial=p, terminal=True) for p in BYTE_PATTERNS}


@settings(max_examples=200, deadline=None)
@given(pattern=st.sampled_from(BYTE_PATTERNS),
       data=st.lists(st.sampled_from([0x02, 0x03, 0x7F, 0x80, 0xFF, ord("a"), ord("b")]), max_size=10))
def test_regex_bytes_acceptance_matches_re_fullmatch(pattern, data):
    text = bytes(data)
    expected = re.fullmatch(pattern, text, re.DOTALL) is not None
    assert accepts(BYTE_MACHINES[pattern], text) is expected


def test_run_wraps_a_plain_iterable_in_a_peekable():
    machine = cpppo.regex(initial="ab+", terminal=True)
    data = cpppo.dotdict()
    for _ in machine.run(source="abb", data=data):
        pass
    assert data["input.input"].tounicode() == "abb" and machine.terminal
