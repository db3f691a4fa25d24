"""The package imports and says what version it is."""

import cpppo


def test_version_is_a_string():
    assert isinstance(cpppo.__version__, str)
    assert cpppo.__version__[0].isdigit()


def test_timer_is_a_monotonic_clock_as_the_documented_examples_use():
    first = cpppo.timer()
    assert cpppo.timer() >= first
