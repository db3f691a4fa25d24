"""States and transitions: symbols, True, None (epsilon), stop, decide, names, alphabets, errors."""

from __future__ import annotations

import pytest

import cpppo
from cpppo.automata import DefinitionError, UndefinedTarget, to_dot, to_text


def run(machine, text, path=None):
    data = cpppo.dotdict()
    source = cpppo.peekable(text)
    steps = list(machine.run(source=source, data=data, path=path))
    return data, source, steps


def test_item_assignment_reads_back_and_can_be_deleted():
    s, t = cpppo.state("S"), cpppo.state_input("T", terminal=True)
    s["x"] = t
    s[True] = None
    assert s["x"] is t and s[True] is None
    assert "x" in s and "y" not in s and True in s and None not in s
    assert s.keys() == ["x", True]
    del s["x"]
    assert "x" not in s
    with pytest.raises(KeyError):
        s["x"]


def test_several_symbols_in_one_assignment():
    s, d = cpppo.state("S"), cpppo.state_input("D", terminal=True)
    s[tuple("0123456789")] = d
    d[tuple("0123456789")] = d
    data, source, _ = run(cpppo.dfa("digits", initial=s), "2024x")
    assert data["input"].tounicode() == "2024" and source.peek() == "x"


def test_true_is_any_other_symbol_and_specific_symbols_win():
    s = cpppo.state("S")
    any_ = cpppo.state_input("ANY", terminal=True)
    z = cpppo.state_input("Z", terminal=True, context="z")
    s["z"], s[True] = z, any_
    data, _, _ = run(cpppo.dfa("m", initial=s), "q")
    assert data["input"].tounicode() == "q"
    data, _, _ = run(cpppo.dfa("m", initial=s), "z")
    assert data["z.input"].tounicode() == "z"


def test_epsilon_is_taken_without_consuming_when_nothing_else_matches():
    s = cpppo.state("S")
    a = cpppo.state_input("A")
    done = cpppo.state("DONE", terminal=True)
    s["a"], a["a"] = a, a
    a[None] = done
    data, source, _ = run(cpppo.dfa("m", initial=s), "aab")
    assert data["input"].tounicode() == "aa"
    assert source.peek() == "b"  # the epsilon move consumed nothing


def test_explicit_none_target_stops_the_machine_without_trying_epsilon():
    s = cpppo.state_input("S", terminal=True)
    other = cpppo.state("OTHER", terminal=True)
    s["a"], s["x"], s[None] = s, None, other
    machine = cpppo.dfa("m", initial=cpppo.state("I"))
    machine.initial["a"] = s
    _, source, _ = run(machine, "aax")
    assert machine.current is s and source.peek() == "x"
    _, source, _ = run(machine, "aay")
    assert machine.current is other


def test_decide_picks_a_transition_by_predicate_over_the_data():
    # a one-byte type code chooses how the next byte is stored
    start = cpppo.state("START")
    kind = cpppo.state_input("KIND", context="kind")
    small = cpppo.state_input("SMALL", terminal=True, context="small")
    large = cpppo.state_input("LARGE", terminal=True, context="large")
    start[True] = kind
    kind[True] = cpppo.decide("small", state=small,
                              predicate=lambda path=None, data=None, **_: data[path + ".kind.input"][0] == 1)
    kind[True] = cpppo.decide("large", state=large, predicate=lambda **_: True)
    machine = cpppo.dfa("typed", initial=start, context="v")
    data, _, _ = run(machine, b"\x01\x07")
    assert data["v.small.input"] == bytearray(b"\x07")
    data, _, _ = run(machine, b"\x02\x07")
    assert data["v.large.input"] == bytearray(b"\x07")


def test_decisions_fall_back_to_the_plain_target_for_the_same_key():
    s = cpppo.state("S")
    yes = cpppo.state_input("YES", terminal=True, context="yes")
    no = cpppo.state_input("NO", terminal=True, context="no")
    s[True] = no
    s[True] = cpppo.decide("never", state=yes, predicate=lambda **_: False)
    data, _, _ = run(cpppo.dfa("m", initial=s), "k")
    assert "no.input" in data and "yes.input" not in data
    assert s[True][-1] is no  # decisions first, the plain target last


def test_targets_by_name_allow_forward_references():
    s = cpppo.state("S")
    s["a"] = "LATER"
    later = cpppo.state_input("LATER", terminal=True)
    s["b"] = later  # makes LATER reachable, so the name resolves
    data, _, _ = run(cpppo.dfa("m", initial=s), "a")
    assert data["input"].tounicode() == "a"


def test_transition_to_an_undefined_name_raises_with_the_position():
    s = cpppo.state_input("S")
    first = cpppo.state("F")
    first["a"] = s
    s["b"] = "NOWHERE"
    with pytest.raises(UndefinedTarget) as info:
        run(cpppo.dfa("m", initial=first), "ab")
    assert info.value.position == 1 and info.value.symbol == "b"
    assert "NOWHERE" in str(info.value)


def test_alphabet_validates_transition_symbols():
    digits = cpppo.state("D", alphabet=set("0123456789"))
    digits["7"] = digits
    with pytest.raises(DefinitionError):
        digits["x"] = digits
    typed = cpppo.state("T", alphabet=int)
    typed[0x41] = typed
    with pytest.raises(DefinitionError):
        typed["A"] = typed


def test_target_must_be_a_state_or_name_or_decide():
    with pytest.raises(DefinitionError):
        cpppo.state("S")["a"] = 42
    with pytest.raises(DefinitionError):
        cpppo.dfa("m", initial="not a state")


def test_with_machine_gives_exclusive_use_and_reentry():
    machine = cpppo.dfa("m", initial=cpppo.state("S", terminal=True))
    with machine, machine:
        assert machine._lock.acquire(blocking=False)  # re-entrant for the holder
        machine._lock.release()


def test_context_paths_nest_machine_and_state_contexts():
    inner_first = cpppo.state("I")
    field = cpppo.state_input("F", terminal=True, context="field")
    inner_first[True] = field
    inner = cpppo.dfa("inner", initial=inner_first, context="inner", terminal=True)
    outer = cpppo.dfa("outer", initial=inner, context="outer")
    data, _, _ = run(outer, "x", path="request")
    assert data["request.outer.inner.field.input"].tounicode() == "x"
    assert outer.context("request") == "request.outer"


def test_render_text_and_dot_show_states_and_transitions(readme):
    text = to_text(readme["CSV"])
    assert "machine 'CSV' context='csv'" in text
    assert "state_drop ( SEP )" in text and "None -> ( ab+.( E ) )" in text
    assert "'b' -> ((B))" in text
    dot = to_dot(readme["REGEX"])
    assert dot.startswith("digraph automata {") and dot.rstrip().endswith("}")
    assert "doublecircle" in dot and "label=\"','\"" in dot
    wide = cpppo.state("W")
    wide[tuple("abcdefghij")] = wide
    assert "'a'-'j'" in to_text(cpppo.dfa("w", initial=wide))


def test_a_cycle_of_epsilon_transitions_is_a_definition_error():
    a, b = cpppo.state("A"), cpppo.state("B")
    a[None], b[None] = b, a
    machine = cpppo.dfa("loop", initial=a)
    with pytest.raises(DefinitionError, match="epsilon"):
        for _ in machine.run(source=cpppo.peekable("x")):
            pass
    with pytest.raises(DefinitionError, match="epsilon"):
        machine.match("x")
