"""dotdict: dotted keys, attribute access, list indexes, copies and pickling."""

from __future__ import annotations

import copy
import pickle

import pytest

from cpppo import dotdict


def test_dotted_keys_create_levels_and_read_back_every_way():
    d = dotdict()
    d["request.path.class"] = 0x02
    assert d["request"]["path"]["class"] == 2
    assert d.request.path["class"] == 2
    assert d["request.path"] == {"class": 2}
    assert isinstance(d.request, dotdict) and isinstance(d.request.path, dotdict)


def test_attribute_assignment_and_missing_attributes():
    d = dotdict()
    d.status = 0
    assert d["status"] == 0
    with pytest.raises(AttributeError):
        getattr(d, "missing")  # noqa: B009
    del d.status
    assert "status" not in d


def test_get_contains_setdefault_pop_with_dotted_keys():
    d = dotdict({"a.b": 1})
    assert d.get("a.b") == 1 and d.get("a.c", "dflt") == "dflt" and d.get("x.y.z") is None
    assert "a.b" in d and "a.c" not in d and "a.b.c" not in d
    assert d.setdefault("a.c", 5) == 5 and d.setdefault("a.c", 6) == 5
    assert d.pop("a.c") == 5 and d.pop("a.c", None) is None
    with pytest.raises(KeyError):
        d.pop("a.c")
    with pytest.raises(KeyError):
        d["a.missing"]


def test_list_indexes_in_keys():
    d = dotdict()
    d["segment"] = []
    d["segment[0].class"] = 2  # one past the end appends a new level
    d["segment[1].instance"] = 1
    d["segment[0].attribute"] = 3
    assert d["segment[0].class"] == 2 and d.segment[1].instance == 1
    assert d.segment[0] == {"class": 2, "attribute": 3}
    assert d["segment[-1].instance"] == 1
    d["items[0]"] = "new list"
    assert d["items"] == ["new list"]
    with pytest.raises(KeyError):
        d["segment[5].class"] = 0
    with pytest.raises(KeyError):
        d["segment[9].class"]


def test_leading_dot_is_ignored_for_the_empty_path_idiom():
    d = dotdict()
    path = ""
    d[path + ".input"] = 1
    assert d["input"] == 1 and d[path + ".input"] == 1


@pytest.mark.parametrize("bad", ["a..b", "a.", "a[x]", "[0]", "a[0]b"])
def test_malformed_keys_raise_key_error(bad):
    with pytest.raises(KeyError):
        dotdict()[bad] = 1


def test_repr_str_copy_deepcopy_and_pickle_keep_the_type():
    d = dotdict()
    d["a.b"] = [1, 2]
    d["c"] = "x"
    assert repr(d) == "{'a': {'b': [1, 2]}, 'c': 'x'}" == str(d)
    shallow = copy.copy(d)
    deep = copy.deepcopy(d)
    loaded = pickle.loads(pickle.dumps(d))
    for other in (shallow, deep, loaded, d.copy()):
        assert type(other) is dotdict and other == d and isinstance(other.a, dotdict)
    assert shallow.a is d.a and deep.a is not d.a and deep.a.b is not d.a.b


def test_update_and_keyword_construction_accept_dotted_keys():
    d = dotdict(x=1)
    d.update({"y.z": 2}, w=3)
    d.update([("p.q", 4)])
    assert d == {"x": 1, "y": {"z": 2}, "w": 3, "p": {"q": 4}}


def test_paths_lists_every_leaf():
    d = dotdict()
    d["a.b"] = 1
    d["l"] = []
    d["l[0].x"] = 2
    d["n"] = [7]
    assert list(d.paths()) == [("a.b", 1), ("l[0].x", 2), ("n", [7])]


def test_dir_includes_keys_for_completion():
    d = dotdict(alpha=1)
    assert "alpha" in dir(d)


def test_setting_through_a_value_that_is_not_a_dict_is_a_key_error():
    d = dotdict()
    d["a"] = 5
    d["l"] = [1]
    for key in ("a.b.c", "a.b", "l.x.y"):
        with pytest.raises(KeyError):
            d[key] = 1
    assert d == {"a": 5, "l": [1]}


def test_iteration_walks_the_leaves_by_dotted_path_as_cpppo_5_does():
    d = dotdict()
    d["a.b.c"] = 1
    d["a.x"] = 2
    d["y"] = [dotdict({"q": 1})]
    d["m"] = [dotdict({"q": 1}), dotdict()]  # an empty dotdict in a list of them yields nothing
    d["mixed"] = [dotdict({"q": 1}), 5]  # a list of anything else is a leaf
    d["e"] = dotdict()  # so is an empty dotdict
    d["n"] = []
    d["p"] = {"plain": 1}  # a plain dict stored in a dotdict becomes one
    expected = [("a.b.c", 1), ("a.x", 2), ("y[0].q", 1), ("m[0].q", 1), ("mixed", [{"q": 1}, 5]), ("e", {}),
                ("n", []), ("p.plain", 1)]
    assert list(d.items()) == expected
    assert list(d.keys()) == list(d) == [k for k, _ in expected]
    assert list(d.values()) == [v for _, v in expected]
    assert type(d["p"]) is dotdict and d.p.plain == 1
    assert len(d) == 7 and d == {"a": {"b": {"c": 1}, "x": 2}, "y": [{"q": 1}], "m": [{"q": 1}, {}],
                                 "mixed": [{"q": 1}, 5], "e": {}, "n": [], "p": {"plain": 1}}
    again = dotdict()
    again.update(d)  # updating from the leaves rebuilds the levels
    assert again["a.b.c"] == 1 and again["y[0].q"] == 1
    assert repr(d).startswith("{'a': {'b': {'c': 1}, 'x': 2}")  # the levels, as any dict shows them
