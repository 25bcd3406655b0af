from __future__ import annotations

import base64
import bz2
import datetime
import gzip
import lzma
import pickle
import zlib

import cloudpickle
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prefect.engine import serializers
from prefect.engine.serializers import (
    CompressedSerializer,
    DateTimeSerializer,
    JSONSerializer,
    PandasSerializer,
    PickleSerializer,
    Serializer,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=10,
)


def test_module_exports_the_reference_names():
    assert serializers.__all__ is not None
    assert sorted(serializers.__all__) == sorted(
        [
            "Serializer",
            "PickleSerializer",
            "JSONSerializer",
            "DateTimeSerializer",
            "PandasSerializer",
            "CompressedSerializer",
        ]
    )


def test_base_serializer_methods_are_abstract():
    with pytest.raises(NotImplementedError, match="serialize"):
        Serializer().serialize(1)
    with pytest.raises(NotImplementedError, match="deserialize"):
        Serializer().deserialize(b"1")


def test_serializers_are_equal_by_type_and_hash_alike():
    assert PickleSerializer() == PickleSerializer()
    assert hash(PickleSerializer()) == hash(PickleSerializer())
    assert JSONSerializer() != PickleSerializer()
    assert PickleSerializer() != Serializer()
    assert PickleSerializer() != "PickleSerializer"


# ---------------------------------------------------------------------------- pickle


@settings(max_examples=50)
@given(json_values)
def test_pickle_serializer_round_trips_values(value):
    serializer = PickleSerializer()
    encoded = serializer.serialize(value)
    assert isinstance(encoded, bytes)
    assert serializer.deserialize(encoded) == value


def test_pickle_serializer_round_trips_functions_defined_at_runtime():
    offset = 10
    restored = PickleSerializer().deserialize(PickleSerializer().serialize(lambda x: x + offset))
    assert restored(1) == 11


def test_pickle_serializer_reads_legacy_base64_payloads():
    legacy = base64.b64encode(cloudpickle.dumps({"old": True}))
    assert PickleSerializer().deserialize(legacy) == {"old": True}


def test_pickle_serializer_reports_the_original_error_for_garbage():
    with pytest.raises(pickle.UnpicklingError):
        PickleSerializer().deserialize(b"definitely not a pickle")


# ------------------------------------------------------------------------------ json


@settings(max_examples=50)
@given(json_values)
def test_json_serializer_round_trips_json_values(value):
    serializer = JSONSerializer()
    assert serializer.deserialize(serializer.serialize(value)) == value


def test_json_serializer_writes_utf8_json_text():
    assert JSONSerializer().serialize({"a": [1, "é"]}) == b'{"a": [1, "\\u00e9"]}'


def test_json_serializer_refuses_values_json_cannot_hold():
    with pytest.raises(TypeError):
        JSONSerializer().serialize(object())


# -------------------------------------------------------------------------- datetime


@settings(max_examples=50)
@given(
    st.datetimes(
        min_value=datetime.datetime(1900, 1, 1),
        max_value=datetime.datetime(2200, 1, 1),
        timezones=st.just(datetime.timezone.utc)
        | st.builds(
            lambda minutes: datetime.timezone(datetime.timedelta(minutes=minutes)),
            st.integers(-12 * 60, 12 * 60),
        ),
    )
)
def test_datetime_serializer_round_trips_aware_datetimes(value):
    serializer = DateTimeSerializer()
    restored = serializer.deserialize(serializer.serialize(value))
    assert isinstance(restored, pendulum.DateTime)
    assert restored == value
    assert restored.utcoffset() == value.utcoffset()


def test_datetime_serializer_treats_naive_datetimes_as_utc():
    serializer = DateTimeSerializer()
    restored = serializer.deserialize(serializer.serialize(datetime.datetime(2020, 1, 2, 3)))
    assert restored == pendulum.datetime(2020, 1, 2, 3, tz="UTC")


def test_datetime_serializer_writes_iso_8601():
    value = pendulum.datetime(2021, 3, 4, 5, 6, 7, tz="UTC")
    assert DateTimeSerializer().serialize(value) == b"2021-03-04T05:06:07+00:00"


# ---------------------------------------------------------------------------- pandas


@pytest.fixture
def pd():
    return pytest.importorskip("pandas")


@pytest.mark.parametrize("file_type", ["csv", "json", "pickle"])
def test_pandas_serializer_round_trips_a_dataframe(pd, file_type):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    kwargs = {"index": False} if file_type == "csv" else {}
    serializer = PandasSerializer(file_type, serialize_kwargs=kwargs)
    encoded = serializer.serialize(frame)
    assert isinstance(encoded, bytes)
    pd.testing.assert_frame_equal(serializer.deserialize(encoded), frame)


def test_pandas_serializer_passes_keyword_arguments(pd):
    frame = pd.DataFrame({"a": [1, 2]})
    serializer = PandasSerializer(
        "csv", serialize_kwargs={"index": False, "sep": ";"}, deserialize_kwargs={"sep": ";"}
    )
    assert serializer.serialize(frame) == b"a\n1\n2\n"
    pd.testing.assert_frame_equal(
        serializer.deserialize(b"a;b\n1;2\n"), pd.DataFrame({"a": [1], "b": [2]})
    )


def test_pandas_serializer_rejects_an_unknown_file_type_at_construction(pd):
    with pytest.raises(ValueError, match="'not_a_format'"):
        PandasSerializer("not_a_format")


def test_pandas_serializer_defaults_and_equality(pd):
    serializer = PandasSerializer("csv")
    assert serializer.serialize_kwargs == {} and serializer.deserialize_kwargs == {}
    assert serializer == PandasSerializer("csv")
    assert hash(serializer) == hash(PandasSerializer("csv"))
    assert serializer != PandasSerializer("json")
    assert serializer != PandasSerializer("csv", serialize_kwargs={"index": False})
    assert serializer != PandasSerializer("csv", deserialize_kwargs={"sep": ";"})


def test_pandas_serializer_without_pandas_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match=r"prefect\[pandas\]"):
        PandasSerializer("csv")


def test_pandas_serializer_writes_text_only_formats_as_utf8(pd):
    frame = pd.DataFrame({"a": [1, 2]})
    encoded = PandasSerializer("html", serialize_kwargs={"index": False}).serialize(frame)
    assert isinstance(encoded, bytes)
    assert encoded.decode("utf-8").startswith("<table")
    assert "<td>2</td>" in encoded.decode("utf-8")


def test_pandas_serializer_round_trips_a_binary_format(pd):
    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]})
    serializer = PandasSerializer(
        "stata", serialize_kwargs={"write_index": False}, deserialize_kwargs={}
    )
    encoded = serializer.serialize(frame)
    assert encoded[:1] != b"<" and isinstance(encoded, bytes)
    restored = serializer.deserialize(encoded)
    assert restored["a"].tolist() == [1, 2] and restored["b"].tolist() == [0.5, 1.5]


@pytest.mark.parametrize(
    ("file_type", "engine"), [("parquet", "pyarrow"), ("feather", "pyarrow"), ("excel", "openpyxl")]
)
def test_pandas_serializer_round_trips_engine_formats(pd, file_type, engine):
    pytest.importorskip(engine)
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    kwargs = {"index": False} if file_type == "excel" else {}
    serializer = PandasSerializer(file_type, serialize_kwargs=kwargs)
    pd.testing.assert_frame_equal(serializer.deserialize(serializer.serialize(frame)), frame)


def test_pandas_serializer_json_takes_orient_arguments(pd):
    frame = pd.DataFrame({"a": [1, 2]})
    serializer = PandasSerializer(
        "json", serialize_kwargs={"orient": "records"}, deserialize_kwargs={"orient": "records"}
    )
    assert serializer.serialize(frame) == b'[{"a":1},{"a":2}]'
    pd.testing.assert_frame_equal(serializer.deserialize(b'[{"a":1},{"a":2}]'), frame)


def test_pandas_serializer_pickles_and_differs_from_other_serializers(pd):
    serializer = PandasSerializer("csv", serialize_kwargs={"index": False})
    assert pickle.loads(pickle.dumps(serializer)) == serializer
    assert serializer != PickleSerializer()
    assert PickleSerializer() != serializer


# ------------------------------------------------------------------------ compressed


@pytest.mark.parametrize("library", [gzip, bz2, lzma, zlib], ids=lambda m: m.__name__)
def test_compression_from_lib_returns_the_module_functions(library):
    compress, decompress = CompressedSerializer.compression_from_lib(library.__name__)
    assert (compress, decompress) == (library.compress, library.decompress)


@settings(max_examples=25)
@given(value=json_values, fmt=st.sampled_from(["gzip", "bz2", "lzma", "zlib"]))
def test_compressed_serializer_round_trips_through_each_format(value, fmt):
    serializer = CompressedSerializer(JSONSerializer(), format=fmt)
    assert serializer.deserialize(serializer.serialize(value)) == value


def test_compressed_serializer_output_is_the_compressed_inner_output():
    serializer = CompressedSerializer(JSONSerializer(), format="gzip")
    assert gzip.decompress(serializer.serialize([1, 2])) == b"[1, 2]"


def test_compressed_serializer_uses_custom_functions_and_kwargs():
    serializer = CompressedSerializer(
        PickleSerializer(),
        compress=zlib.compress,
        decompress=zlib.decompress,
        compress_kwargs={"level": 9},
        decompress_kwargs={"bufsize": 1024},
    )
    assert serializer.deserialize(serializer.serialize({"x": 1})) == {"x": 1}
    assert zlib.decompress(serializer.serialize("abc")) == cloudpickle.dumps("abc")


def test_compressed_serializer_needs_exactly_one_way_to_compress():
    with pytest.raises(ValueError, match="not both"):
        CompressedSerializer(JSONSerializer(), format="gzip", compress=gzip.compress)
    with pytest.raises(ValueError, match="either"):
        CompressedSerializer(JSONSerializer())
    with pytest.raises(ValueError, match="either"):
        CompressedSerializer(JSONSerializer(), compress=gzip.compress)


def test_compressed_serializer_rejects_unknown_or_unsuitable_formats():
    with pytest.raises(ImportError, match="no_such_compression_lib"):
        CompressedSerializer(JSONSerializer(), format="no_such_compression_lib")
    # An unknown format is a bad argument too: callers catching ValueError see it.
    with pytest.raises(ValueError, match="no_such_compression_lib"):
        CompressedSerializer.compression_from_lib("no_such_compression_lib")
    with pytest.raises(ValueError, match="'json'"):
        CompressedSerializer(JSONSerializer(), format="json")


def test_compressed_serializers_compare_all_parameters():
    base = CompressedSerializer(JSONSerializer(), format="gzip")
    assert base == CompressedSerializer(JSONSerializer(), format="gzip")
    assert hash(base) == hash(CompressedSerializer(JSONSerializer(), format="gzip"))
    assert base != CompressedSerializer(PickleSerializer(), format="gzip")
    assert base != CompressedSerializer(JSONSerializer(), format="bz2")
    assert base != CompressedSerializer(
        JSONSerializer(), format="gzip", compress_kwargs={"compresslevel": 1}
    )
    assert base != JSONSerializer()


def test_serializers_pickle():
    for serializer in [
        PickleSerializer(),
        JSONSerializer(),
        DateTimeSerializer(),
        CompressedSerializer(JSONSerializer(), format="zlib"),
    ]:
        assert pickle.loads(pickle.dumps(serializer)) == serializer


def test_compressed_serializer_pickles_with_its_wrapped_serializer():
    serializer = CompressedSerializer(
        JSONSerializer(), format="lzma", compress_kwargs={"preset": 1}
    )
    restored = pickle.loads(pickle.dumps(serializer))
    assert restored == serializer
    assert restored.deserialize(serializer.serialize({"k": [1]})) == {"k": [1]}


def test_user_serializer_subclasses_compare_by_type():
    class Upper(Serializer):
        def serialize(self, value):
            return str(value).upper().encode()

        def deserialize(self, value):
            return value.decode()

    assert Upper() == Upper()
    assert Upper() != JSONSerializer()
    assert Upper().deserialize(Upper().serialize("abc")) == "ABC"
