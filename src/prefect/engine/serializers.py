"""Serializers turn task results into bytes and back, for `Result` storage.

Third-party libraries (cloudpickle, pendulum, pandas, compression modules) are imported
inside the methods that use them so that `import prefect` stays light.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CompressedSerializer",
    "DateTimeSerializer",
    "JSONSerializer",
    "PandasSerializer",
    "PickleSerializer",
    "Serializer",
]


class Serializer:
    """Base class: converts a Python object to bytes and back.

    Two serializers are equal when they have the same type (subclasses with parameters
    also compare those).
    """

    def __eq__(self, other: Any) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def serialize(self, value: Any) -> bytes:
        """Serialize an object to bytes.

        Args:
            value: the object to serialize.

        Returns:
            The serialized bytes.

        Raises:
            NotImplementedError: always, on the base class.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not implement `serialize`; subclass Serializer "
            "and define both `serialize` and `deserialize`."
        )

    def deserialize(self, value: bytes) -> Any:
        """Deserialize bytes into an object.

        Args:
            value: the bytes to read.

        Returns:
            The object.

        Raises:
            NotImplementedError: always, on the base class.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not implement `deserialize`; subclass Serializer "
            "and define both `serialize` and `deserialize`."
        )


class PickleSerializer(Serializer):
    """Serializes objects with cloudpickle (the default for every `Result`)."""

    def serialize(self, value: Any) -> bytes:
        """Pickle an object with cloudpickle.

        Args:
            value: the object to pickle.

        Returns:
            The pickled bytes.
        """
        import cloudpickle

        return cloudpickle.dumps(value)

    def deserialize(self, value: bytes) -> Any:
        """Unpickle bytes written by `serialize`.

        Payloads written by old Prefect versions were base64-encoded pickles; they are
        still read.

        Args:
            value: the pickled bytes.

        Returns:
            The unpickled object.
        """
        import base64

        import cloudpickle

        try:
            return cloudpickle.loads(value)
        # Unpickling garbage can raise almost anything (UnpicklingError, EOFError,
        # ValueError, KeyError, ...): try the legacy encoding before giving up.
        except Exception as exc:
            try:
                return cloudpickle.loads(base64.b64decode(value, validate=True))
            except Exception:
                raise exc from None


class JSONSerializer(Serializer):
    """Serializes JSON-compatible objects as UTF-8 JSON text."""

    def serialize(self, value: Any) -> bytes:
        """Dump an object to JSON bytes.

        Args:
            value: a JSON-compatible object.

        Returns:
            The UTF-8 encoded JSON document.
        """
        import json

        return json.dumps(value).encode("utf-8")

    def deserialize(self, value: bytes) -> Any:
        """Load a JSON document.

        Args:
            value: the JSON document (bytes or str).

        Returns:
            The decoded object.
        """
        import json

        return json.loads(value)


class DateTimeSerializer(Serializer):
    """Serializes datetimes as ISO 8601 text; reads them back as pendulum datetimes."""

    def serialize(self, value: Any) -> bytes:
        """Write a datetime as ISO 8601 bytes (naive datetimes are taken as UTC).

        Args:
            value: a `datetime.datetime`.

        Returns:
            The UTF-8 encoded ISO 8601 string.
        """
        import pendulum

        return pendulum.instance(value).isoformat().encode("utf-8")

    def deserialize(self, value: bytes) -> Any:
        """Parse ISO 8601 bytes into a pendulum datetime.

        Args:
            value: the UTF-8 encoded ISO 8601 string.

        Returns:
            A `pendulum.DateTime`.
        """
        import pendulum

        text = value.decode("utf-8") if isinstance(value, bytes | bytearray) else value
        return pendulum.parse(text)


_PANDAS_TEXT_FORMATS = frozenset({"csv", "json"})


def _import_pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(
            "PandasSerializer needs pandas, which is not installed: pip install 'prefect[pandas]'"
        ) from exc
    return pandas


class PandasSerializer(Serializer):
    """Serializes pandas DataFrames with pandas' own `to_<type>` / `read_<type>` pairs.

    Args:
        file_type: the format, e.g. `"csv"`, `"json"`, `"parquet"`, `"feather"`,
            `"pickle"`: any name for which pandas has both `pandas.read_<file_type>` and
            `DataFrame.to_<file_type>`.
        deserialize_kwargs: keyword arguments for `pandas.read_<file_type>`.
        serialize_kwargs: keyword arguments for `DataFrame.to_<file_type>`.

    Raises:
        ImportError: if pandas is not installed.
        ValueError: if pandas cannot both read and write `file_type`.
    """

    def __init__(
        self,
        file_type: str,
        deserialize_kwargs: dict | None = None,
        serialize_kwargs: dict | None = None,
    ) -> None:
        self.file_type = file_type
        # Refuse an unsupported type now, not when the first result is written.
        pd = _import_pandas()
        if not (
            callable(getattr(pd, f"read_{file_type}", None))
            and callable(getattr(pd.DataFrame, f"to_{file_type}", None))
        ):
            raise ValueError(
                f"PandasSerializer cannot handle file_type {file_type!r}: pandas needs both "
                f"`pandas.read_{file_type}` and `DataFrame.to_{file_type}`. "
                "Use a type such as 'csv', 'json', 'parquet', 'feather' or 'pickle'."
            )
        self.deserialize_kwargs = deserialize_kwargs or {}
        self.serialize_kwargs = serialize_kwargs or {}

    def __eq__(self, other: Any) -> bool:
        return (
            type(self) is type(other)
            and self.file_type == other.file_type
            and self.serialize_kwargs == other.serialize_kwargs
            and self.deserialize_kwargs == other.deserialize_kwargs
        )

    def __hash__(self) -> int:
        return hash((type(self), self.file_type))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(file_type={self.file_type!r})"

    def serialize(self, value: pd.DataFrame) -> bytes:
        """Write a DataFrame in `file_type` format.

        Args:
            value: the DataFrame.

        Returns:
            The encoded data.
        """
        import io

        write = getattr(value, f"to_{self.file_type}")
        if self.file_type not in _PANDAS_TEXT_FORMATS:
            buffer = io.BytesIO()
            try:
                write(buffer, **self.serialize_kwargs)
            except TypeError:
                pass  # a writer of text only (e.g. `to_html`): written as UTF-8 text below
            else:
                return buffer.getvalue()
        text_buffer = io.StringIO()
        write(text_buffer, **self.serialize_kwargs)
        return text_buffer.getvalue().encode("utf-8")

    def deserialize(self, value: bytes) -> pd.DataFrame:
        """Read a DataFrame from bytes in `file_type` format.

        Args:
            value: the encoded data.

        Returns:
            The DataFrame.
        """
        import io

        pd = _import_pandas()
        read = getattr(pd, f"read_{self.file_type}")
        if self.file_type in _PANDAS_TEXT_FORMATS:
            return read(io.StringIO(value.decode("utf-8")), **self.deserialize_kwargs)
        return read(io.BytesIO(value), **self.deserialize_kwargs)


class _CompressionFormatError(ImportError, ValueError):
    """An unknown compression format: a bad argument (`ValueError`) that is a module which
    cannot be imported (`ImportError`), so callers catching either see it."""


class CompressedSerializer(Serializer):
    """Wraps another serializer and compresses its output.

    Give either `format` (the name of an importable module with `compress` and
    `decompress` functions, such as `"gzip"`, `"bz2"`, `"lzma"`, `"zlib"`) or both
    `compress` and `decompress`.

    Args:
        serializer: the serializer whose bytes are compressed.
        format: the compression module to use.
        compress: a function compressing bytes.
        decompress: a function decompressing bytes.
        compress_kwargs: keyword arguments for `compress`.
        decompress_kwargs: keyword arguments for `decompress`.

    Raises:
        ValueError: if both or neither of `format` and `compress`/`decompress` are given.
    """

    def __init__(
        self,
        serializer: Serializer,
        format: str | None = None,
        compress: Callable[..., bytes] | None = None,
        decompress: Callable[..., bytes] | None = None,
        compress_kwargs: dict[str, Any] | None = None,
        decompress_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if format is not None and (compress is not None or decompress is not None):
            raise ValueError(
                "CompressedSerializer takes either `format` or `compress` and "
                "`decompress`, not both."
            )
        if format is not None:
            compress, decompress = self.compression_from_lib(format)
        elif compress is None or decompress is None:
            raise ValueError(
                "CompressedSerializer needs either `format` (e.g. format='gzip') or both "
                "`compress` and `decompress` functions."
            )
        self._serializer = serializer
        self._compress = compress
        self._decompress = decompress
        self._compress_kwargs = dict(compress_kwargs or {})
        self._decompress_kwargs = dict(decompress_kwargs or {})

    def __eq__(self, other: Any) -> bool:
        return (
            type(self) is type(other)
            and self._serializer == other._serializer
            and self._compress == other._compress
            and self._decompress == other._decompress
            and self._compress_kwargs == other._compress_kwargs
            and self._decompress_kwargs == other._decompress_kwargs
        )

    def __hash__(self) -> int:
        return hash((type(self), self._serializer, self._compress, self._decompress))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(serializer={self._serializer!r})"

    def serialize(self, value: Any) -> bytes:
        """Serialize with the wrapped serializer, then compress.

        Args:
            value: the object to serialize.

        Returns:
            The compressed bytes.
        """
        return self._compress(self._serializer.serialize(value), **self._compress_kwargs)

    def deserialize(self, value: bytes) -> Any:
        """Decompress, then deserialize with the wrapped serializer.

        Args:
            value: the compressed bytes.

        Returns:
            The object.
        """
        return self._serializer.deserialize(self._decompress(value, **self._decompress_kwargs))

    @staticmethod
    def compression_from_lib(
        compression_format: str,
    ) -> tuple[Callable[..., bytes], Callable[..., bytes]]:
        """Look up the `compress` and `decompress` functions of a compression module.

        Args:
            compression_format: the module name, e.g. `"gzip"`, `"bz2"`, `"lzma"`,
                `"zlib"`.

        Returns:
            The `(compress, decompress)` pair.

        Raises:
            ImportError: if the module cannot be imported (also a `ValueError`: the format
                is not a usable one).
            ValueError: if the module lacks `compress` or `decompress`.
        """
        try:
            module = importlib.import_module(compression_format)
        except ImportError as exc:
            raise _CompressionFormatError(
                f"Compression format {compression_format!r} needs the module "
                f"{compression_format!r}, which cannot be imported; install it or pass "
                "`compress` and `decompress` functions."
            ) from exc
        compress = getattr(module, "compress", None)
        decompress = getattr(module, "decompress", None)
        if not (callable(compress) and callable(decompress)):
            raise ValueError(
                f"Module {compression_format!r} has no `compress`/`decompress` functions; "
                "use a format such as 'gzip', 'bz2', 'lzma' or 'zlib'."
            )
        return compress, decompress
