"""A 300k-row, ~110 MB upload streams: memory does not grow with the file, and it takes seconds.

The ingest runs in a fresh interpreter so that its peak RSS is its own. A first, smaller
ingest of the same shape warms everything up (imported code, pyarrow kernels, allocator
pools), so the growth of peak RSS over the second, larger ingest is what the file itself costs:
it must stay far below the file's size in memory. The Arrow memory pool's peak (every Arrow
buffer the ingest allocated, read-ahead and output buffers included) must stay below it too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pv

ROWS = 300_000
WARMUP_ROWS = 100_000

SCRIPT = """
import json, resource, sys, time
from pathlib import Path
import pyarrow as pa
from limelight.datasets.ingest import ingest

def peak_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB

warmup, big, dest = (Path(p) for p in sys.argv[1:4])
ingest(warmup, kind="interactions", dest=dest)
before = peak_bytes()
started = time.perf_counter()
result = ingest(big, kind="interactions", dest=dest)
seconds = time.perf_counter() - started
print(json.dumps({"rows": result.rows, "seconds": seconds, "growth_bytes": peak_bytes() - before,
                  "arrow_peak_bytes": pa.default_memory_pool().max_memory(),
                  "users": result.profile["interactions"]["users"]}))
"""


def _interactions(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    notes = np.array([f"free-text note number {i} about this view, long enough to matter. " * 5 for i in range(64)])
    return pa.table({
        "userId": pa.array(rng.integers(0, 20_000, rows)).cast(pa.string()),
        "movieId": pa.array(rng.integers(0, 50_000, rows)).cast(pa.string()),
        "rating": pa.array(rng.integers(1, 11, rows) / 2.0),
        "timestamp": pa.array(rng.integers(900_000_000, 1_600_000_000, rows).astype("datetime64[s]")).cast(pa.string()),
        "event": pa.array(np.array(["view", "click", "play", "rate"])[rng.integers(0, 4, rows)]),
        "note": pa.array(notes[rng.integers(0, 64, rows)]),
    })


def test_large_csv_streams_in_bounded_memory(tmp_path: Path) -> None:
    big, warmup = tmp_path / "big.csv", tmp_path / "warmup.csv"
    table = _interactions(ROWS, seed=1)
    pv.write_csv(table, big)
    pv.write_csv(_interactions(WARMUP_ROWS, seed=2), warmup)
    in_memory_bytes = table.nbytes  # the file as one Arrow table; as Python objects it is ~10x more

    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(warmup), str(big), str(tmp_path / "out.parquet")],
        capture_output=True, text=True, timeout=120, check=True,
    )
    measured = json.loads(run.stdout)

    assert measured["rows"] == ROWS
    assert measured["users"] == len(set(table.column("userId").to_pylist()))
    assert measured["growth_bytes"] < in_memory_bytes / 2, (measured, in_memory_bytes)
    assert measured["arrow_peak_bytes"] < in_memory_bytes / 2, (measured, in_memory_bytes)
    assert measured["seconds"] < 15, measured  # ~2 s on a 2-core box; slack for a loaded one
    print(f"\n{ROWS} rows ({big.stat().st_size / 1e6:.0f} MB CSV, {in_memory_bytes / 1e6:.0f} MB in memory): "
          f"{measured['seconds']:.2f} s, {ROWS / measured['seconds']:,.0f} rows/s, "
          f"peak RSS growth {measured['growth_bytes'] / 1e6:.1f} MB, "
          f"Arrow pool peak {measured['arrow_peak_bytes'] / 1e6:.1f} MB")
