"""Hostile or unexpected Parquet is refused with a 4xx error before any data page is decoded.

CVE-2023-47248: pyarrow < 14.0.1 unpickled the serialised type of a ``PyExtensionType`` found
in a file's schema. The canary test plants such a pickle; it must never run.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from limelight.datasets.ingest import IngestOptions, read_normalized
from limelight.datasets.ingest.parquet_reader import require_safe_pyarrow
from limelight.errors import LimelightError, UnsupportedMediaType
from tests.datasets_ingest.conftest import errors, parquet_bytes, rejection, run

BASE = {"user_id": ["a", "b"], "item_id": ["x", "y"]}


def _with(column: str, array: pa.Array | None = None, field: pa.Field | None = None) -> bytes:
    arrays = [pa.array(v) for v in BASE.values()] + [array if array is not None else pa.array([1, 2])]
    fields = [pa.field(k, pa.string()) for k in BASE] + [field or pa.field(column, arrays[-1].type)]
    return parquet_bytes(pa.Table.from_arrays(arrays, schema=pa.schema(fields)))


class _Canary:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.path,))  # what unpickling would do: run code of the file's choosing


def test_pickled_extension_type_never_runs(tmp_path: Path, dest: Path) -> None:
    canary = tmp_path / "canary"
    metadata = {b"ARROW:extension:name": b"arrow.py_extension_type",
                b"ARROW:extension:metadata": pickle.dumps(_Canary(canary))}
    data = _with("item_id_2", field=pa.field("evil", pa.int64(), metadata=metadata))

    details = rejection(data, "interactions", dest)

    assert not canary.exists()
    assert errors(details) == [(1, "evil", "unsupported column type: extension types are not accepted")]


def test_registered_extension_type_is_refused(dest: Path) -> None:
    uuids = pa.array([b"0123456789abcdef", b"fedcba9876543210"], pa.binary(16)).cast(pa.uuid())
    details = rejection(_with("id2", uuids), "interactions", dest)

    assert errors(details) == [(1, "id2", "unsupported column type: extension types are not accepted")]


class _Custom(pa.ExtensionType):
    def __init__(self) -> None:
        super().__init__(pa.int64(), "limelight.test.custom")

    def __arrow_ext_serialize__(self) -> bytes:
        return b""

    @classmethod
    def __arrow_ext_deserialize__(cls, storage_type: pa.DataType, serialized: bytes) -> _Custom:
        return cls()


@pytest.mark.parametrize("registered_on_read", [True, False])
def test_custom_extension_type_is_refused_registered_or_not(registered_on_read: bool, dest: Path) -> None:
    pa.register_extension_type(_Custom())
    try:
        data = _with("custom", pa.ExtensionArray.from_storage(_Custom(), pa.array([1, 2])))
        if not registered_on_read:
            pa.unregister_extension_type("limelight.test.custom")
        details = rejection(data, "interactions", dest)
    finally:
        if registered_on_read:
            pa.unregister_extension_type("limelight.test.custom")
    assert details["errors"][0]["reason"] == "unsupported column type: extension types are not accepted"


@pytest.mark.parametrize(("array", "problem"), [
    (pa.array([{"a": 1}, {"a": 2}]), "nested columns are not accepted"),
    (pa.array([[1], [2, 3]]), "only lists of strings are accepted"),
    (pa.array([[["a"]], [["b"]]]), "only lists of strings are accepted"),
    (pa.array([[("k", 1)], [("k", 2)]], pa.map_(pa.string(), pa.int64())), "nested columns are not accepted"),
    (pa.array([b"\x00", b"\x01"]), "binary, time, duration and interval columns are not accepted"),
])
def test_unneeded_types_are_refused(array: pa.Array, problem: str, dest: Path) -> None:
    details = rejection(_with("odd", array), "interactions", dest)

    assert errors(details) == [(1, "odd", f"unsupported column type: {problem}")]


def test_a_list_is_accepted_only_where_a_list_belongs(dest: Path) -> None:
    genres = pa.array([["Action", " Crime "], []], pa.list_(pa.large_string()))
    table = pa.table({"item_id": [1, 2], "genres": genres, "tags": pa.array([["x"], None])})
    run(parquet_bytes(table), "items", dest)
    assert read_normalized(dest).to_pydict() == {"item_id": ["1", "2"], "genres": [["Action", "Crime"], []],
                                                  "tags": [["x"], None]}

    titles = pa.table({"item_id": [1], "title": pa.array([["a"]])})
    details = rejection(parquet_bytes(titles), "items", dest)
    assert errors(details) == [(1, "title", "unsupported column type: title cannot be a list")]


def test_dictionary_and_large_types_are_read_plainly(dest: Path) -> None:
    table = pa.table({
        "user_id": pa.array(["a", "b", "a"]).dictionary_encode(),
        "item_id": pa.array(["x", "y", "z"], pa.large_string()),
        "rating": pa.array([1, 2, 3], pa.int8()),
    })
    run(parquet_bytes(table), "interactions", dest)

    assert read_normalized(dest).to_pydict() == {"user_id": ["a", "b", "a"], "item_id": ["x", "y", "z"],
                                                  "rating": [1.0, 2.0, 3.0]}


def test_too_many_row_groups_and_columns_are_refused(dest: Path) -> None:
    table = pa.table({"user_id": [str(i) for i in range(50)], "item_id": ["x"] * 50})
    many_groups = parquet_bytes(table, row_group_size=1)
    details = rejection(many_groups, "interactions", dest, options=IngestOptions(max_row_groups=10))
    assert errors(details) == [(1, None, "file exceeds a limit: more than 10 row groups")]

    wide = pa.table({**{"user_id": ["a"], "item_id": ["b"]}, **{f"c{i}": [i] for i in range(20)}})
    details = rejection(parquet_bytes(wide), "interactions", dest, options=IngestOptions(max_columns=10))
    assert errors(details) == [(1, None, "file exceeds a limit: more than 10 columns")]


def test_corrupted_parquet_is_refused(dest: Path) -> None:
    good = parquet_bytes(pa.table(BASE))
    for broken in (good[:-12] + b"\x00" * 8 + b"PAR1", good[: len(good) // 2], good[:4] + b"\xff" * 64 + good[-8:]):
        details = rejection(broken, "interactions", dest)
        assert details["errors"][0]["reason"].startswith("unreadable file"), broken[-20:]


def test_every_refusal_is_a_4xx(dest: Path) -> None:
    with pytest.raises(LimelightError) as caught:
        run(_with("odd", pa.array([{"a": 1}, {"a": 2}])), "interactions", dest)
    assert 400 <= caught.value.status < 500


def test_old_pyarrow_disables_parquet() -> None:
    require_safe_pyarrow("14.0.1")
    require_safe_pyarrow("23.0.1")
    for old in ("14.0.0", "13.0.0", "0.17.1"):
        with pytest.raises(UnsupportedMediaType):
            require_safe_pyarrow(old)
    assert tuple(int(p) for p in pa.__version__.split(".")[:2]) >= (14, 0)


def test_text_that_is_not_utf8_is_a_bad_row(dest: Path) -> None:
    good = pa.array(["ok", "éx", "fine"])
    validity, offsets, data = good.buffers()
    corrupted = bytearray(data.to_pybytes())
    corrupted[corrupted.index(0xC3)] = 0xFF  # Parquet stores text unchecked; pyarrow reads it unchecked
    user_ids = pa.Array.from_buffers(pa.string(), 3, [validity, offsets, pa.py_buffer(bytes(corrupted))])
    details = rejection(parquet_bytes(pa.table({"user_id": user_ids, "item_id": ["a", "b", "c"]})),
                        "interactions", dest)

    assert errors(details) == [(2, "user_id", "invalid UTF-8")]
    assert (details["bad_rows"], details["rows_checked"]) == (1, 3)
