"""The names the documents use are reachable as ``cpppo.<name>``."""

from __future__ import annotations

import cpppo
import cpppo.automata


def test_every_exported_name_resolves():
    for name in cpppo.__all__:
        assert getattr(cpppo, name) is not None, name
    assert cpppo.dotdict.__name__ == "dotdict" and isinstance(cpppo.dotdict(), dict)
    assert cpppo.state is cpppo.automata.state and cpppo.dfa is cpppo.automata.dfa
    assert {"state", "dfa", "regex", "peekable"} <= set(dir(cpppo))


def test_unknown_attribute_is_an_attribute_error():
    try:
        cpppo.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
