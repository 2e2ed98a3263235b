"""The ArtifactStore contract, run against every backend (see ``conftest._BACKENDS``)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest

import limelight
from limelight.artifacts import ArtifactStore, BlobRef
from limelight.errors import Conflict, InvalidParams, InvalidPath, NotFound, PayloadTooLarge

from .backends import Backend

PAYLOAD = b"limelight artifact bytes " * 1000
SRC_DIR = Path(limelight.__file__).resolve().parents[1]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def chunked(data: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def achunked(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for chunk in chunked(data, size):
        await asyncio.sleep(0)
        yield chunk


def test_implements_the_protocol(backend: Backend) -> None:
    assert isinstance(backend.store, ArtifactStore)


def test_round_trip(backend: Backend) -> None:
    store = backend.store
    ref = store.write_stream(chunked(PAYLOAD), max_bytes=len(PAYLOAD))
    assert ref == BlobRef(sha(PAYLOAD), len(PAYLOAD))
    assert store.exists(ref.sha256) and store.size(ref.sha256) == len(PAYLOAD)
    with store.open(ref.sha256) as handle:
        assert handle.read() == PAYLOAD
    chunks = list(store.iter_bytes(ref.sha256, chunk_size=1000))
    assert b"".join(chunks) == PAYLOAD and max(map(len, chunks)) == 1000
    assert store.local_path(ref.sha256).read_bytes() == PAYLOAD
    assert store.verify(ref.sha256)
    assert list(store.list_refs()) == [ref]
    assert backend.leftovers() == []


def test_empty_blob(backend: Backend) -> None:
    ref = backend.store.write_stream([], max_bytes=0)
    assert ref == BlobRef(sha(b""), 0)
    assert b"".join(backend.store.iter_bytes(ref.sha256)) == b""


def test_writing_existing_bytes_is_a_no_op(backend: Backend) -> None:
    first = backend.store.write_stream([PAYLOAD], max_bytes=len(PAYLOAD))
    second = backend.store.write_stream(chunked(PAYLOAD, 7), max_bytes=len(PAYLOAD))
    assert first == second
    assert list(backend.store.list_refs()) == [first]
    assert backend.leftovers() == []


def test_limit_exactly_at_max_bytes_is_accepted(backend: Backend) -> None:
    data = b"x" * 1000
    assert backend.store.write_stream(chunked(data, 100), max_bytes=1000).size_bytes == 1000


def test_one_byte_over_the_limit_is_refused_at_once_leaving_nothing(backend: Backend) -> None:
    pulled: list[bytes] = []

    def one_byte_chunks() -> Iterator[bytes]:
        for _ in range(5000):
            pulled.append(b"y")
            yield b"y"

    with pytest.raises(PayloadTooLarge) as caught:
        backend.store.write_stream(one_byte_chunks(), max_bytes=1000)
    assert caught.value.status == 413 and caught.value.details["max_bytes"] == 1000
    assert len(pulled) == 1001  # stopped reading the moment the limit was crossed
    assert list(backend.store.list_refs()) == [] and backend.leftovers() == []


def test_exception_mid_stream_leaves_no_blob_and_no_temp_file(backend: Backend) -> None:
    def dying_upload() -> Iterator[bytes]:
        yield PAYLOAD
        yield PAYLOAD
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        backend.store.write_stream(dying_upload(), max_bytes=10 * len(PAYLOAD))
    assert list(backend.store.list_refs()) == [] and backend.leftovers() == []


def test_non_bytes_chunk_is_a_type_error_leaving_nothing(backend: Backend) -> None:
    with pytest.raises(TypeError):
        backend.store.write_stream([b"ok", "text"], max_bytes=100)  # type: ignore[list-item]
    assert list(backend.store.list_refs()) == [] and backend.leftovers() == []


@pytest.mark.parametrize("max_bytes", [-1, 1.5, True, None])
def test_max_bytes_must_be_a_non_negative_int(backend: Backend, max_bytes: object) -> None:
    with pytest.raises(InvalidParams):
        backend.store.write_stream([b"x"], max_bytes=max_bytes)  # type: ignore[arg-type]


def test_async_round_trip_and_limits(backend: Backend) -> None:
    store = backend.store
    ref = asyncio.run(store.awrite_stream(achunked(PAYLOAD), max_bytes=len(PAYLOAD)))
    assert ref == BlobRef(sha(PAYLOAD), len(PAYLOAD))
    with pytest.raises(PayloadTooLarge):
        asyncio.run(store.awrite_stream(achunked(PAYLOAD + b"!"), max_bytes=len(PAYLOAD)))
    assert list(store.list_refs()) == [ref] and backend.leftovers() == []


def test_async_large_upload_crosses_the_flush_size(backend: Backend) -> None:
    data = np.random.default_rng(0).bytes(3 * 1024 * 1024 + 17)
    ref = asyncio.run(backend.store.awrite_stream(achunked(data, 65536), max_bytes=len(data)))
    assert ref.sha256 == sha(data) and backend.store.verify(ref.sha256)


def test_async_failure_and_cancellation_leave_nothing(backend: Backend) -> None:
    async def dying() -> AsyncIterator[bytes]:
        yield PAYLOAD
        raise ConnectionResetError

    async def stalled(started: asyncio.Event) -> AsyncIterator[bytes]:
        yield PAYLOAD * 100
        started.set()
        await asyncio.Event().wait()  # the client stops sending
        yield b"never"

    async def cancel_mid_upload() -> None:
        started = asyncio.Event()
        task = asyncio.create_task(backend.store.awrite_stream(stalled(started), max_bytes=10**9))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with pytest.raises(ConnectionResetError):
        asyncio.run(backend.store.awrite_stream(dying(), max_bytes=10**9))
    asyncio.run(cancel_mid_upload())
    assert list(backend.store.list_refs()) == [] and backend.leftovers() == []


def test_concurrent_writers_of_the_same_bytes_agree(backend: Backend) -> None:
    refs: list[BlobRef] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            refs.append(backend.store.write_stream(chunked(PAYLOAD, 512), max_bytes=len(PAYLOAD)))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(set(refs)) == 1 and len(refs) == 8
    assert list(backend.store.list_refs()) == refs[:1] and backend.leftovers() == []
    assert backend.store.verify(refs[0].sha256)


def test_stage_commit(backend: Backend) -> None:
    with backend.store.stage() as staged:
        staged.path.write_bytes(PAYLOAD)
        ref = staged.commit()
        with pytest.raises(Conflict):
            staged.commit()
    assert ref == BlobRef(sha(PAYLOAD), len(PAYLOAD))
    assert backend.store.local_path(ref.sha256).read_bytes() == PAYLOAD
    assert backend.leftovers() == []


def test_stage_with_suffix_for_libraries_that_append_one(backend: Backend) -> None:
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    with backend.store.stage(suffix=".npy") as staged:
        np.save(staged.path, array)  # np.save would append ".npy" to a path without it
        ref = staged.commit()
    with backend.store.open(ref.sha256) as handle:
        assert np.array_equal(np.load(handle, allow_pickle=False), array)


@pytest.mark.parametrize("suffix", ["../x", ".NPY", "/abs", ".a.b.c", "npy", ". "])
def test_stage_suffix_is_validated(backend: Backend, suffix: str) -> None:
    with pytest.raises(InvalidParams), backend.store.stage(suffix=suffix):
        pass


def test_stage_without_commit_or_with_error_leaves_nothing(backend: Backend) -> None:
    with backend.store.stage() as staged:
        staged.path.write_bytes(b"abandoned")
    with pytest.raises(RuntimeError), backend.store.stage() as staged:
        staged.path.write_bytes(b"half a model")
        raise RuntimeError("trainer crashed")
    assert list(backend.store.list_refs()) == [] and backend.leftovers() == []


def test_stage_commit_enforces_max_bytes(backend: Backend) -> None:
    with backend.store.stage() as staged:
        staged.path.write_bytes(b"z" * 101)
        with pytest.raises(PayloadTooLarge):
            staged.commit(max_bytes=100)
    assert list(backend.store.list_refs()) == [] and backend.leftovers() == []


def test_missing_blob(backend: Backend) -> None:
    missing = sha(b"never written")
    assert not backend.store.exists(missing)
    assert backend.store.delete(missing) is False
    for call in (backend.store.open, backend.store.local_path, backend.store.size, backend.store.iter_bytes):
        with pytest.raises(NotFound):
            call(missing)


BAD_KEYS = [
    "",
    "../../etc/passwd",
    "a" * 63,
    "a" * 65,
    "A" * 64,
    "g" * 64,
    "a" * 63 + "\x00",
    "a" * 62 + "/b",
    "ab/" + "c" * 61,
    " " + "a" * 63,
    "a" * 64 + "\n",
    "sha256:" + "a" * 64,
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_every_key_is_a_validated_sha256(backend: Backend, key: str) -> None:
    store = backend.store
    for call in (store.open, store.local_path, store.size, store.exists, store.delete, store.verify):
        with pytest.raises(InvalidPath):
            call(key)
    with pytest.raises(InvalidPath):
        store.iter_bytes(key)


def test_delete_and_list(backend: Backend) -> None:
    refs = {backend.store.write_stream([bytes([i]) * (i + 1)], max_bytes=100) for i in range(5)}
    assert set(backend.store.list_refs()) == refs
    victim = next(iter(refs))
    assert backend.store.delete(victim.sha256) is True
    assert not backend.store.exists(victim.sha256)
    assert set(backend.store.list_refs()) == refs - {victim}


def test_gc_keeps_referenced_and_young_blobs(backend: Backend) -> None:
    keep = backend.store.write_stream([b"referenced"], max_bytes=100)
    drop = backend.store.write_stream([b"orphan!"], max_bytes=100)
    young = backend.store.gc({keep.sha256}, older_than_s=3600)
    assert (young.blobs_removed, young.bytes_freed) == (0, 0)
    report = backend.store.gc({keep.sha256}, older_than_s=-1)
    assert (report.blobs_removed, report.bytes_freed) == (1, drop.size_bytes)
    assert backend.store.exists(keep.sha256) and not backend.store.exists(drop.sha256)


def test_gc_dry_run_names_what_it_would_take_and_takes_nothing(backend: Backend) -> None:
    keep = backend.store.write_stream([b"referenced"], max_bytes=100)
    drop = backend.store.write_stream([b"orphan!"], max_bytes=100)
    dry = backend.store.gc({keep.sha256}, older_than_s=-1, dry_run=True)
    assert (dry.blobs_removed, dry.bytes_freed, dry.blobs) == (1, drop.size_bytes, (drop.sha256,))
    assert backend.store.exists(drop.sha256) and backend.store.exists(keep.sha256)
    real = backend.store.gc({keep.sha256}, older_than_s=-1)
    assert real.blobs == (drop.sha256,) and not backend.store.exists(drop.sha256)


_STAGE_AND_HANG = """
import sys, time
from limelight.artifacts import open_store
with open_store(sys.argv[1]).stage() as staged:
    staged.path.write_bytes(b"x" * 1234)
    print("staged", flush=True)
    time.sleep(600)
"""


def _writer_in_another_process(uri: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(SRC_DIR)}
    child = subprocess.Popen([sys.executable, "-c", _STAGE_AND_HANG, uri], stdout=subprocess.PIPE, env=env)
    assert child.stdout is not None and child.stdout.readline() == b"staged\n"
    return child


def test_gc_takes_a_killed_writers_staging_never_a_live_ones(backend: Backend) -> None:
    child = _writer_in_another_process(backend.uri)
    try:
        assert backend.store.gc(set(), older_than_s=-1).staging_removed == 0  # alive, however old
        assert backend.leftovers() != []
    finally:
        child.kill()
        child.wait(10)
    dry = backend.store.gc(set(), older_than_s=-1, dry_run=True)
    assert (dry.staging_removed, dry.staging_bytes_freed) == (1, 1234) and backend.leftovers() != []
    report = backend.store.gc(set(), older_than_s=-1)
    assert (report.staging_removed, report.staging_bytes_freed) == (1, 1234)
    assert backend.leftovers() == []


def test_gc_leaves_this_processs_stage_in_progress_alone(backend: Backend) -> None:
    with backend.store.stage() as staged:
        staged.path.write_bytes(PAYLOAD)  # a training job's output, however long ago
        assert backend.store.gc(set(), older_than_s=-1).staging_removed == 0
        ref = staged.commit()
    assert backend.store.verify(ref.sha256) and backend.leftovers() == []


def test_a_stalled_write_survives_gc_and_completes(backend: Backend) -> None:
    def stalled_upload() -> Iterator[bytes]:
        yield b"first half"
        assert backend.leftovers() != []
        assert backend.store.gc(set(), older_than_s=-1).staging_removed == 0  # the client stalled …
        yield b"second half"

    ref = backend.store.write_stream(stalled_upload(), max_bytes=100)
    assert ref.sha256 == sha(b"first halfsecond half") and backend.store.verify(ref.sha256)
    assert backend.leftovers() == []


def test_a_blob_placed_after_a_long_stage_counts_as_new(backend: Backend) -> None:
    """Validation may take long between the last write and the commit; the blob's row comes after
    that, so the blob must look young until then."""
    with backend.store.stage() as staged:
        staged.path.write_bytes(PAYLOAD)
        old = time.time() - 7200
        os.utime(staged.path, (old, old))
        ref = staged.commit()
    assert backend.store.gc(set(), older_than_s=3600).blobs_removed == 0 and backend.store.exists(ref.sha256)
