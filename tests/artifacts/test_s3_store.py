"""What only the S3 store has to show: blobs are objects under the prefix that another process reads
with an empty cache, multipart uploads, tampering caught, clear refusals at open, abandoned multipart
uploads collected, and a whole server running on it."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from limelight.artifacts import open_store
from limelight.errors import InvalidParams

from .backends import new_bucket, s3_endpoint


@pytest.fixture
def endpoint() -> str:
    return s3_endpoint()


def _client(endpoint: str):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def _uri(endpoint: str, bucket: str, cache: Path, prefix: str = "team/artifacts") -> str:
    return f"s3://{bucket}/{prefix}?endpoint_url={endpoint}&region=us-east-1&cache={cache}"


def test_blobs_are_objects_under_the_prefix_that_another_cache_reads(endpoint, tmp_path):
    bucket = new_bucket(endpoint)
    writer = open_store(_uri(endpoint, bucket, tmp_path / "a"))
    data = os.urandom(20 << 20)  # over boto3's 8 MiB threshold: a multipart upload
    ref = writer.write_stream([data[i:i + (1 << 20)] for i in range(0, len(data), 1 << 20)], max_bytes=len(data))
    keys = [o["Key"] for o in _client(endpoint).list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [f"team/artifacts/blobs/sha256/{ref.sha256}"]
    reader = open_store(_uri(endpoint, bucket, tmp_path / "b"))  # nothing cached there
    assert reader.exists(ref.sha256) and reader.size(ref.sha256) == len(data)
    path = reader.local_path(ref.sha256)
    assert path.is_relative_to(tmp_path / "b") and hashlib.sha256(path.read_bytes()).hexdigest() == ref.sha256
    assert reader.verify(ref.sha256)


def test_a_tampered_object_fails_verification_and_is_never_cached(endpoint, tmp_path):
    bucket = new_bucket(endpoint)
    store = open_store(_uri(endpoint, bucket, tmp_path / "a"))
    ref = store.write_stream([b"the real bytes"], max_bytes=100)
    _client(endpoint).put_object(Bucket=bucket, Key=f"team/artifacts/blobs/sha256/{ref.sha256}", Body=b"forged!!")
    assert store.verify(ref.sha256) is False
    fresh = open_store(_uri(endpoint, bucket, tmp_path / "b"))
    with pytest.raises(InvalidParams):
        fresh.local_path(ref.sha256)
    assert list((tmp_path / "b" / "staging").iterdir()) == [] and not fresh._local.exists(ref.sha256)


@pytest.mark.parametrize("change", ["missing bucket", "no server", "secret in the URI", "unknown option",
                                    "relative cache"])
def test_a_store_that_cannot_work_is_refused_at_open_naming_the_setting(endpoint, tmp_path, change):
    uri = {"missing bucket": _uri(endpoint, "no-such-bucket-here", tmp_path),
           "no server": _uri("http://127.0.0.1:9", "b", tmp_path),
           "secret in the URI": "s3://key:secret@bucket/p",
           "unknown option": f"s3://b/p?endpoint_url={endpoint}&acl=public",
           "relative cache": f"s3://b/p?endpoint_url={endpoint}&cache=relative/dir"}[change]
    started = time.monotonic()
    with pytest.raises(InvalidParams) as info:
        open_store(uri)
    assert time.monotonic() - started < 60  # a refusal, not a hang on retries
    assert "secret" not in str(info.value.details) and "secret" not in info.value.message
    if change in ("missing bucket", "no server"):
        assert info.value.details["setting"] == "artifacts_url"


def test_gc_aborts_a_dead_writers_multipart_upload_only_once_it_is_old(endpoint, tmp_path):
    bucket = new_bucket(endpoint)
    store = open_store(_uri(endpoint, bucket, tmp_path / "a"))
    client = _client(endpoint)
    upload = client.create_multipart_upload(Bucket=bucket, Key="team/artifacts/blobs/sha256/" + "0" * 64)
    client.upload_part(Bucket=bucket, Key="team/artifacts/blobs/sha256/" + "0" * 64, PartNumber=1,
                       UploadId=upload["UploadId"], Body=b"x" * 1024)
    initiated = client.list_multipart_uploads(Bucket=bucket)["Uploads"][0]["Initiated"].timestamp()
    if initiated > time.time() - 600:  # moto reports every upload as begun in 2010: its age cannot be told
        assert store.gc(set(), older_than_s=3600).staging_removed == 0
    dry = store.gc(set(), older_than_s=-1, dry_run=True)
    assert dry.staging == (f"multipart:{upload['UploadId']}",)
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert store.gc(set(), older_than_s=-1).staging_removed == 1
    assert not client.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_a_server_runs_on_the_s3_store(endpoint, tmp_path):
    """The same code on S3: a dataset upload and a training job store their blobs as objects, and the
    trained model serves (its artifact read back through the store)."""
    from tests.support.factories import new_tenant, ok, wait_for_job
    from tests.support.live_server import start_live_server

    bucket = new_bucket(endpoint)
    (tmp_path / "home").mkdir()
    live = start_live_server(tmp_path / "home", f"sqlite:///{tmp_path / 'meta.db'}",
                             LIMELIGHT_ARTIFACTS_URL=_uri(endpoint, bucket, tmp_path / "cache", "prod"))
    try:
        tenant = new_tenant(live)
        rows = "user_id,item_id,rating\n" + "".join(f"u{u},i{(u * 7 + k) % 40},5\n" for u in range(60) for k in range(6))
        with tenant.client() as client:
            ok(client.post(f"/api/v1/orgs/{tenant.org}/datasets", files={"file": ("r.csv", rows.encode())},
                           data={"name": "ratings", "kind": "interactions"}))
            job = ok(client.post(f"/api/v1/orgs/{tenant.org}/jobs", json={
                "recipe": "recommend/popularity", "dataset": "ratings", "model": "recs", "promote": "production"}))
            done = wait_for_job(client, tenant.org, job["id"], timeout_s=120)
            answer = ok(client.post(f"/v1/models/{tenant.org}/recs:recommend", json={"user_id": "u1", "k": 3}))
    finally:
        live.stop()
    assert done["state"] == "succeeded", done["error"]
    assert len(answer["items"]) == 3
    keys = [o["Key"] for o in _client(endpoint).list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(keys) >= 2 and all(k.startswith("prod/blobs/sha256/") for k in keys)  # dataset and model
    assert not (tmp_path / "home" / "artifacts").exists()  # nothing went to the local default


def test_serve_refuses_an_unreachable_bucket_in_one_line(endpoint, tmp_path):
    import subprocess
    import sys

    env = {**os.environ, "LIMELIGHT_HOME": str(tmp_path), "COLUMNS": "300",
           "LIMELIGHT_ARTIFACTS_URL": _uri(endpoint, "no-such-bucket-here", tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "limelight.cli.main", "serve", "--port", "9"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr
    assert "refusing to start" in done.stdout + done.stderr and "artifacts_url" in done.stdout + done.stderr
