"""Mutated CSV, JSON Lines and Parquet never escape as anything but a 4xx ``LimelightError``."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pyarrow as pa

from limelight.datasets.ingest import ingest, kind_names
from limelight.errors import LimelightError
from tests.datasets_ingest.conftest import parquet_bytes

CSV = (b'user_id,item_id,rating,timestamp,title,genres,year,text,label,doc_id,target\n'
       b'u1,i1,4.5,2018-01-01T00:00:00Z,"A, b",x|y,1999,hello,pos,d1,1.5\n'
       b'u2,i2,3,1600000000,B,z,2000,"multi\nline",neg,d2,2\n')
JSONL = (b'{"user_id": "u1", "item_id": 1, "rating": 4.5, "genres": ["a"], "text": "t", "label": "x",'
         b' "doc_id": "d", "target": 1}\n{"user_id": "u2", "item_id": 2, "timestamp": "2018-01-01"}\n')
PARQUET = parquet_bytes(pa.table({
    "user_id": ["a", "b"], "item_id": [1, 2], "rating": [1.0, 2.0], "genres": [["x"], None],
    "text": ["t", "u"], "label": ["p", "n"], "doc_id": ["d", "e"], "target": [1.0, 2.0]}))
SPECIAL = b',"\n\r\t;|{}[]\\\x00\xff0123456789.-eE:TZ'


def _mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        roll, at = rng.random(), rng.randrange(len(out) + 1)
        if roll < 0.4 and at < len(out):
            out[at] = rng.randrange(256)
        elif roll < 0.6 and at < len(out):
            del out[at]
        elif roll < 0.8:
            out.insert(at, rng.choice(SPECIAL))
        else:
            start = rng.randrange(len(out) + 1)
            out[at:at] = out[start:start + rng.randrange(50)]
    return bytes(out)


def test_mutated_uploads_fail_only_with_client_errors(tmp_path: Path) -> None:
    rng = random.Random(20261124)
    outcomes: dict[str, int] = {}
    for _ in range(600):
        data = _mutate(rng.choice([CSV, JSONL, PARQUET]), rng)
        try:
            ingest(io.BytesIO(data), kind=rng.choice(kind_names()), dest=tmp_path / "out.parquet")
            outcomes["ok"] = outcomes.get("ok", 0) + 1
        except LimelightError as exc:
            assert 400 <= exc.status < 500, exc
            outcomes[exc.code] = outcomes.get(exc.code, 0) + 1
    assert outcomes.get("ok") and outcomes.get("dataset_invalid") and outcomes.get("unsupported_media_type")
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["out.parquet"])
