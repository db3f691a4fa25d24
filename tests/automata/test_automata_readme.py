"""The documents' examples (sections 4 and 5) run as written and accept what they say."""

from __future__ import annotations

from array import array

import pytest

import cpppo
from cpppo.automata.machine import new_container


def chars(text: str) -> array:
    """What state_input stores for str symbols (array('u'), or 'w' on Python 3.13+)."""
    box = new_container("x")
    box.fromunicode(text)
    return box


def run_all(machine: cpppo.dfa, text: str, data: cpppo.dotdict | None = None):
    data = cpppo.dotdict() if data is None else data
    source = cpppo.peekable(text)
    with machine:
        steps = list(machine.run(source=source, data=data))
    return steps, source, data


def test_running_state_machines_loop_prints_a_trace(readme, capsys):
    # The "Running State Machines" loop, verbatim apart from the machine list.
    data = cpppo.dotdict()
    for machine in [readme["BASIC"], readme["CSV"], readme["REGEX"]]:
        path = machine.context() + ".input"  # default for state_input data
        source = cpppo.peekable(str("abbbb, ab"))  # noqa: UP018
        with machine:
            for i, (m, _s) in enumerate(machine.run(source=source, data=data)):
                print("%s #%3d; next byte %3d: %-10.10r: %r" % (  # noqa: UP031
                      m.name_centered(), i, source.sent, source.peek(), data.get(path)))
        print("Accepted: %r; remaining: %r\n" % (data.get(path), "".join(source)))  # noqa: UP031
    print("Final: %r" % (data))  # noqa: UP031
    out = capsys.readouterr().out
    accepted = [line for line in out.splitlines() if line.startswith("Accepted")]
    assert accepted == [
        f"Accepted: {chars('abbbb')!r}; remaining: ', ab'",
        f"Accepted: {chars('abbbbab')!r}; remaining: ''",
        f"Accepted: {chars('abbbb, ab')!r}; remaining: ''",
    ]
    assert "( ab+.( E ) )" in out and "( CSV.( SEP ) )" in out
    assert out.count("#  0;") == 3
    assert out.rstrip().endswith(
        f"Final: {{'basic': {{'input': {chars('abbbb')!r}}}, 'csv': {{'input': {chars('abbbbab')!r}}}, "
        f"'input': {{'input': {chars('abbbb, ab')!r}}}}}"
    )


def test_basic_accepts_ab_plus_and_leaves_the_rest(readme):
    steps, source, data = run_all(readme["BASIC"], "abbbb, ab")
    assert data["basic.input"].tounicode() == "abbbb"
    assert "".join(source) == ", ab"
    # the machine yields its initial state first, then each state it enters
    assert [s.name for _, s in steps] == ["E", "A", "B", "B", "B", "B"]


def test_csv_drops_separators_and_reenters_the_sub_machine(readme):
    steps, source, data = run_all(readme["CSV"], "abbbb, ab")
    assert data.csv.input.tounicode() == "abbbbab"
    assert source.peek() is None and source.sent == 9
    names = [(m.name, None if s is None else s.name) for m, s in steps]
    assert ("CSV", "SEP") in names and ("ab+", "E") in names
    # the trailing (machine, None) pairs say "no more input" at each level
    assert names[-2:] == [("ab+", None), ("CSV", None)]


def test_regex_accepts_the_whole_sentence(readme):
    _, source, data = run_all(readme["REGEX"], "abbbb, ab")
    assert data["input.input"].tounicode() == "abbbb, ab"
    assert source.sent == 9
    assert readme["REGEX"].name == "(ab+)((,[ ]*)(ab+))*"


@pytest.mark.parametrize(
    ("name", "text", "position", "symbol", "state"),
    [
        ("BASIC", "ax", 1, "x", "A"),
        ("CSV", "ab, x", 4, "x", "E"),
        ("CSV", "ab,", 3, None, "E"),
        ("REGEX", "ab, x", 4, "x", "4"),
        ("REGEX", "a", 1, None, "2"),
    ],
)
def test_ending_in_a_non_terminal_state_raises_with_the_position(readme, name, text, position, symbol, state):
    with pytest.raises(cpppo.NonTerminal) as info:
        run_all(readme[name], text)
    assert info.value.position == position
    assert info.value.symbol == symbol
    assert info.value.state.name == state
    assert f"position {position}" in str(info.value)


def test_terminal_is_true_only_for_a_terminal_machine_in_a_terminal_state():
    # 4.3.2: terminal iff marked terminal at creation and the final sub-state was terminal
    plain = cpppo.regex(initial="ab+")
    marked = cpppo.regex(initial="ab+", terminal=True)
    for machine, expected in ((plain, False), (marked, True)):
        run_all(machine, "abb")
        assert machine.terminal is expected
    alternation = cpppo.regex(initial="a(b|c)", terminal=True)
    run_all(alternation, "ac")
    assert alternation.terminal


def test_greedy_consumes_as_much_as_possible_and_non_greedy_stops_at_first_acceptance():
    greedy = cpppo.regex(initial="(ab+)((,[ ]*)(ab+))*", terminal=True)
    lazy = cpppo.regex(initial="(ab+)((,[ ]*)(ab+))*", terminal=True, greedy=False)
    _, source, data = run_all(greedy, "abbb,ab")
    assert data["input.input"].tounicode() == "abbb,ab" and source.sent == 7
    _, source, data = run_all(lazy, "abbb,ab")
    assert data["input.input"].tounicode() == "ab"
    assert "".join(source) == "bb,ab"
    assert lazy.terminal


def test_non_greedy_hand_built_machine_section_4_example():
    # "if 'abbb,ab' is presented ... it will accept 'ab' and terminate, unless greedy"
    E = cpppo.state("E")
    A = cpppo.state_input("A")
    B = cpppo.state_input("B", terminal=True)
    E["a"], A["b"], B["b"] = A, B, B
    for greedy, accepted in ((False, "ab"), (True, "abbb")):
        machine = cpppo.dfa("ab+", initial=E, greedy=greedy, terminal=True)
        _, _, data = run_all(machine, "abbb,ab")
        assert data["input"].tounicode() == accepted
        assert machine.terminal


def test_unicode_symbols_in_regex():
    machine = cpppo.regex(initial="(é|ü)+ß", terminal=True)
    _, _, data = run_all(machine, "éüéß!")
    assert data["input.input"].tounicode() == "éüéß"
    assert machine.terminal
