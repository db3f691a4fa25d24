"""The README's machines, built exactly as the documents write them."""

from __future__ import annotations

import pytest

import cpppo


def build_readme_machines() -> dict[str, cpppo.dfa]:
    # Basic DFA that accepts ab+
    E = cpppo.state("E")
    A = cpppo.state_input("A")
    B = cpppo.state_input("B", terminal=True)
    E["a"] = A
    A["b"] = B
    B["b"] = B
    BASIC = cpppo.dfa("ab+", initial=E, context="basic")

    # Composite state machine accepting ab+, ignoring ,[ ]* separators
    ABP = cpppo.dfa("ab+", initial=E, terminal=True)
    SEP = cpppo.state_drop("SEP")
    ABP[","] = SEP
    SEP[" "] = SEP
    SEP[None] = ABP
    CSV = cpppo.dfa("CSV", initial=ABP, context="csv")

    # A regular expression; the default dfa name is the regular expression itself.
    REGEX = cpppo.regex(initial="(ab+)((,[ ]*)(ab+))*")
    return {"BASIC": BASIC, "CSV": CSV, "REGEX": REGEX}


@pytest.fixture(scope="module")
def readme() -> dict[str, cpppo.dfa]:
    return build_readme_machines()
