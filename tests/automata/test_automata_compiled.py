"""The compiled fast path gives exactly what run() gives, for any input, errors included."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cpppo
from cpppo.automata import compiled
from tests.automata.conftest import build_readme_machines

MACHINES = build_readme_machines()


def by_run(machine, text, path=None):
    source = cpppo.peekable(text)
    data = cpppo.dotdict()
    try:
        with machine:
            for _ in machine.run(source=source, data=data, path=path):
                pass
    except cpppo.NonTerminal as exc:
        return ("error", exc.position, exc.state.name)
    return ("ok", source.sent, machine.terminal, data)


def by_match(machine, text, path=None):
    try:
        found = machine.match(text, path=path)
    except cpppo.NonTerminal as exc:
        return ("error", exc.position, exc.state.name)
    return ("ok", found.length, found.terminal, found.data)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(MACHINES)),
       text=st.text(alphabet="ab, x", max_size=60))
def test_match_equals_run_on_random_text(name, text):
    machine = MACHINES[name]
    assert by_match(machine, text) == by_run(machine, text)


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_long_inputs_take_the_regex_path_and_agree(name):
    machine = MACHINES[name]
    text = "a" + "b" * 500 if name == "BASIC" else ", ".join(["abbbb", "ab"] * 100)
    assert by_match(machine, text, path="p") == by_run(machine, text, path="p")
    assert machine.compile()._regex.get("str") is not None


def test_bytes_buffers_and_appending_to_existing_data():
    machine = cpppo.regex_bytes(initial=b"[0-9]+", terminal=True)
    data = cpppo.dotdict()
    machine.match(b"12", data=data)
    found = machine.match(b"345" * 20 + b"!", data=data)
    assert found.length == 60 and found.terminal
    assert data["input.input"] == bytearray(b"12" + b"345" * 20)


def test_non_greedy_and_nested_machines_compile_the_same_way():
    E = cpppo.state("E")
    A = cpppo.state_input("A")
    B = cpppo.state_input("B", terminal=True)
    E["a"], A["b"], B["b"] = A, B, B
    lazy = cpppo.dfa("lazy", initial=E, greedy=False, terminal=True)
    outer_sep = cpppo.state_drop("SEP")
    lazy[","] = outer_sep
    outer_sep[None] = lazy
    outer = cpppo.dfa("outer", initial=lazy, context="o")
    for text in ["ab,ab", "abb,ab", "ab", "a", "ab,,", "ab,abx"]:
        assert by_match(outer, text) == by_run(outer, text), text
        assert by_match(lazy, text) == by_run(lazy, text), text


def test_machines_with_predicates_fall_back_to_run():
    s = cpppo.state("S")
    t = cpppo.state_input("T", terminal=True)
    s[True] = cpppo.decide("always", state=t)
    machine = cpppo.dfa("m", initial=s)
    assert machine.compile().reason is not None
    assert by_match(machine, "q") == by_run(machine, "q")


REGEX_MACHINES = {
    p: cpppo.regex(initial=p, terminal=True)
    for p in ["(ab+)((,[ ]*)(ab+))*", "(a|b)*abb", "x?y{2,3}z", "[a-c]+[^a-c]", "(ab|a)(bc|c)?", ".b"]
}


@settings(max_examples=200, deadline=None)
@given(pattern=st.sampled_from(sorted(REGEX_MACHINES)), text=st.text(alphabet="abcxyz, é", max_size=16))
def test_regex_path_agrees_with_run_even_on_short_buffers(pattern, text):
    machine = REGEX_MACHINES[pattern]
    saved, compiled._REGEX_MIN = compiled._REGEX_MIN, -1  # force the regex path
    try:
        assert by_match(machine, text) == by_run(machine, text)
    finally:
        compiled._REGEX_MIN = saved
    assert machine.compile()._regex.get("str") is not None


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=16))
def test_regex_path_on_bytes_agrees_with_run(data):
    machine = BYTES_MACHINE
    saved, compiled._REGEX_MIN = compiled._REGEX_MIN, -1
    try:
        assert by_match(machine, data) == by_run(machine, data)
    finally:
        compiled._REGEX_MIN = saved


BYTES_MACHINE = cpppo.regex_bytes(initial=b"(\x00[\x01-\x7f]|[\x80-\xff])+\x00?", terminal=True)


def test_an_unresolvable_name_only_matters_if_the_input_reaches_it():
    s = cpppo.state("S")
    ok = cpppo.state_input("OK", terminal=True)
    s["a"], s["b"] = ok, "NOWHERE"
    machine = cpppo.dfa("m", initial=s)
    assert machine.match("a").length == 1
    with pytest.raises(cpppo.automata.UndefinedTarget) as info:
        machine.match("b")
    assert info.value.position == 0
