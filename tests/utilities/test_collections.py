"""DotDict, CompoundKey and the nested/flat dictionary helpers."""

from __future__ import annotations

import pickle
from collections import namedtuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prefect.utilities.collections import (
    CompoundKey,
    DotDict,
    as_nested_dict,
    dict_to_flatdict,
    flatdict_to_dict,
    flatten_seq,
    merge_dicts,
)

# Nested dicts whose tables are never empty (empty tables have no leaves to flatten).
keys = st.text(alphabet="abcdefgh", min_size=1, max_size=3)
leaves = st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none())
nested_dicts = st.recursive(
    st.dictionaries(keys, leaves, min_size=1, max_size=4),
    lambda children: st.dictionaries(keys, st.one_of(leaves, children), min_size=1, max_size=4),
    max_leaves=10,
)


class TestDotDict:
    def test_init_from_dict_and_kwargs_with_kwargs_winning(self):
        d = DotDict({"a": 1, "b": 2}, b=3, c=4)
        assert dict(d) == {"a": 1, "b": 3, "c": 4}

    def test_init_from_another_dotdict(self):
        assert DotDict(DotDict(a=1)) == {"a": 1}

    def test_init_from_pairs(self):
        assert DotDict([("a", 1), ("b", 2)]) == {"a": 1, "b": 2}

    def test_empty_init(self):
        assert len(DotDict()) == 0

    def test_attribute_and_item_access_see_the_same_data(self):
        d = DotDict(a=1)
        d.b = 2
        d["c"] = 3
        assert (d.a, d["b"], d.c) == (1, 2, 3)
        assert list(d) == ["a", "b", "c"]
        assert len(d) == 3

    def test_setattr_stores_a_key(self):
        d = DotDict()
        d.x = 5
        assert "x" in d
        assert d.to_dict() == {"x": 5}

    def test_delete_item(self):
        d = DotDict(a=1, b=2)
        del d["a"]
        assert dict(d) == {"b": 2}
        with pytest.raises(KeyError):
            del d["a"]

    def test_missing_item_raises_key_error_and_missing_attribute_raises_attribute_error(self):
        d = DotDict()
        with pytest.raises(KeyError):
            d["nope"]
        with pytest.raises(AttributeError):
            d.nope

    def test_get_returns_default_for_missing_key(self):
        d = DotDict(a=1)
        assert d.get("a") == 1
        assert d.get("b") is None
        assert d.get("b", 7) == 7

    def test_contains(self):
        d = DotDict(a=None)
        assert "a" in d
        assert "b" not in d

    @pytest.mark.parametrize("key", ["copy", "to_dict"])
    def test_keys_named_like_dotdict_methods_are_allowed_through_item_access(self, key):
        d = DotDict({key: 1}, other=2)
        d[key] = 10
        assert d[key] == 10
        assert key in d
        assert DotDict.get(d, "other") == 2
        assert DotDict.to_dict(d) == {key: 10, "other": 2}

    @pytest.mark.parametrize("key", ["get", "update", "keys", "items", "pop", "setdefault"])
    def test_keys_that_would_hide_mapping_methods_are_refused(self, key):
        with pytest.raises(ValueError, match=f'Invalid key: "{key}"'):
            DotDict({key: 1})
        with pytest.raises(ValueError, match=f'Invalid key: "{key}"'):
            DotDict(**{key: 1})
        d = DotDict()
        with pytest.raises(ValueError, match=f'Invalid key: "{key}"'):
            d[key] = 1
        with pytest.raises(ValueError, match=f'Invalid key: "{key}"'):
            setattr(d, key, 1)
        assert key not in d

    def test_init_takes_an_iterable_of_pairs(self):
        assert DotDict(iter([("a", 1), ("b", 2)])).to_dict() == {"a": 1, "b": 2}

    def test_helpers_do_not_call_shadowed_methods(self):
        d = DotDict(copy=2, to_dict=3, nested=DotDict(copy=3))
        assert as_nested_dict(d, dict) == {"copy": 2, "to_dict": 3, "nested": {"copy": 3}}
        assert merge_dicts(d, {"x": 1})["copy"] == 2
        assert dict_to_flatdict(d)[CompoundKey(("nested", "copy"))] == 3

    def test_repr_lists_sorted_keys(self):
        assert repr(DotDict(b=1, a=2)) == "<DotDict: 'a', 'b'>"

    def test_repr_of_empty_dotdict(self):
        assert repr(DotDict()) == "<DotDict>"

    def test_repr_uses_subclass_name(self):
        class Special(DotDict):
            pass

        assert repr(Special(x=1)) == "<Special: 'x'>"

    def test_copy_is_shallow_and_keeps_type(self):
        class Special(DotDict):
            pass

        inner = [1]
        d = Special(a=inner)
        c = d.copy()
        assert type(c) is Special
        assert c == d
        c.b = 2
        assert "b" not in d
        assert c.a is inner

    def test_to_dict_converts_nested_dotdicts_everywhere(self):
        d = DotDict(a=DotDict(b=DotDict(c=1)), l=[DotDict(x=1)], t=(DotDict(y=2),))
        result = d.to_dict()
        assert result == {"a": {"b": {"c": 1}}, "l": [{"x": 1}], "t": ({"y": 2},)}
        assert type(result["a"]["b"]) is dict
        assert type(result["l"][0]) is dict
        assert type(result["t"]) is tuple

    def test_equals_a_dict_with_the_same_items(self):
        assert DotDict(a=1) == {"a": 1}
        assert DotDict(a=1) != {"a": 2}

    def test_pickle_round_trip(self):
        d = DotDict(a=1, b=DotDict(c=[1, 2]))
        assert pickle.loads(pickle.dumps(d)) == d


def test_compound_key_is_a_tuple():
    key = CompoundKey(("a", "b"))
    assert isinstance(key, tuple)
    assert key == ("a", "b")
    assert hash(key) == hash(("a", "b"))


class TestFlattenSeq:
    def test_flattens_arbitrary_nesting_in_order(self):
        assert list(flatten_seq([1, [2, (3, [4])], {5}, [[[]]], 6])) == [1, 2, 3, 4, 5, 6]

    def test_strings_and_bytes_are_leaves(self):
        assert list(flatten_seq(["ab", [b"cd", ["ef"]]])) == ["ab", b"cd", "ef"]

    def test_is_lazy(self):
        gen = flatten_seq([1, [2]])
        assert next(gen) == 1


class TestMergeDicts:
    def test_nested_tables_merge_key_by_key(self):
        d1 = {"a": 1, "b": {"c": 1, "d": {"e": 1, "f": 1}}}
        d2 = {"b": {"d": {"e": 2}, "g": 2}, "h": 2}
        assert merge_dicts(d1, d2) == {"a": 1, "b": {"c": 1, "d": {"e": 2, "f": 1}, "g": 2}, "h": 2}

    def test_override_replaces_non_mapping_values(self):
        assert merge_dicts({"a": {"b": 1}}, {"a": 5}) == {"a": 5}
        assert merge_dicts({"a": 5}, {"a": {"b": 1}}) == {"a": {"b": 1}}

    def test_inputs_are_not_modified(self):
        d1 = {"a": {"b": 1}}
        d2 = {"a": {"c": 2}}
        merge_dicts(d1, d2)
        assert d1 == {"a": {"b": 1}}
        assert d2 == {"a": {"c": 2}}

    def test_result_has_the_type_of_the_first_argument(self):
        result = merge_dicts(DotDict(a=DotDict(b=1)), {"a": {"c": 2}})
        assert type(result) is DotDict
        assert type(result.a) is DotDict
        assert result.to_dict() == {"a": {"b": 1, "c": 2}}

    @settings(deadline=None, max_examples=30)
    @given(nested_dicts, nested_dicts)
    def test_every_leaf_of_the_override_wins(self, d1, d2):
        merged = dict_to_flatdict(merge_dicts(d1, d2))
        for key, value in dict_to_flatdict(d2).items():
            assert merged[key] == value

    @settings(deadline=None, max_examples=50)
    @given(nested_dicts)
    def test_merging_with_empty_or_itself_changes_nothing(self, d):
        assert merge_dicts(d, {}) == d
        assert merge_dicts({}, d) == d
        assert merge_dicts(d, d) == d


class TestAsNestedDict:
    def test_converts_dicts_at_every_level(self):
        result = as_nested_dict({"a": {"b": 1}, "c": [{"d": 2}]})
        assert isinstance(result, DotDict)
        assert isinstance(result.a, DotDict)
        assert isinstance(result.c[0], DotDict)
        assert result.a.b == 1

    def test_converts_dicts_inside_top_level_sequences(self):
        result = as_nested_dict([{"a": 1}, ({"b": 2},)])
        assert isinstance(result, list)
        assert isinstance(result[0], DotDict)
        assert isinstance(result[1], tuple)
        assert isinstance(result[1][0], DotDict)

    def test_sets_keep_their_type(self):
        assert as_nested_dict({1, 2}) == {1, 2}
        assert isinstance(as_nested_dict(frozenset({1})), frozenset)

    def test_namedtuples_keep_their_type(self):
        Pair = namedtuple("Pair", "x y")
        result = as_nested_dict(Pair({"a": 1}, 2))
        assert isinstance(result, Pair)
        assert isinstance(result.x, DotDict)

    def test_dct_class_dict_turns_dotdicts_into_dicts(self):
        result = as_nested_dict(DotDict(a=DotDict(b=1)), dct_class=dict)
        assert type(result) is dict
        assert type(result["a"]) is dict

    def test_other_values_are_returned_unchanged(self):
        obj = object()
        assert as_nested_dict(obj) is obj
        assert as_nested_dict("text") == "text"


class TestFlatDicts:
    def test_dict_to_flatdict_keys_are_compound_paths(self):
        flat = dict_to_flatdict({"a": {"b": 1, "c": {"d": 2}}, "e": 3})
        assert flat == {("a", "b"): 1, ("a", "c", "d"): 2, ("e",): 3}
        assert all(isinstance(k, CompoundKey) for k in flat)

    def test_dict_to_flatdict_with_parent_prefixes_keys(self):
        flat = dict_to_flatdict({"b": 1}, parent=CompoundKey(("a",)))
        assert flat == {("a", "b"): 1}

    def test_dict_to_flatdict_flattens_dotdicts(self):
        assert dict_to_flatdict(DotDict(a=DotDict(b=1))) == {("a", "b"): 1}

    def test_flatdict_to_dict_rebuilds_nesting(self):
        flat = {CompoundKey(("a", "b")): 1, CompoundKey(("a", "c")): 2, CompoundKey(("d",)): 3}
        assert flatdict_to_dict(flat) == {"a": {"b": 1, "c": 2}, "d": 3}

    def test_flatdict_to_dict_keeps_plain_keys_at_top_level(self):
        flat = {("a", "b"): 1, "c": 2}
        assert flatdict_to_dict(flat) == {("a", "b"): 1, "c": 2}

    def test_flatdict_to_dict_uses_dct_class_at_every_level(self):
        result = flatdict_to_dict({CompoundKey(("a", "b")): 1}, dct_class=DotDict)
        assert isinstance(result, DotDict)
        assert isinstance(result.a, DotDict)
        assert result.a.b == 1

    def test_flatdict_to_dict_defaults_to_dict(self):
        result = flatdict_to_dict({CompoundKey(("a", "b")): 1})
        assert type(result) is dict
        assert type(result["a"]) is dict

    @settings(deadline=None, max_examples=40)
    @given(nested_dicts)
    def test_flattening_round_trips(self, d):
        assert flatdict_to_dict(dict_to_flatdict(d)) == d
