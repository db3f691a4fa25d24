"""Test support for users of cpppo: a pytest plugin that runs simulated controllers."""
