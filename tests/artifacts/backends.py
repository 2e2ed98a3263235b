"""The ArtifactStore implementations the contract suite runs against.

``local`` is a directory. ``s3`` is a bucket on an S3-compatible server in a separate process on
127.0.0.1, reached over HTTP through boto3 exactly as a real one would be: moto's standalone server
(``python -m moto.server``), the S3 server installable here from PyPI (MinIO's server is not). Its
``leftovers`` are the local staging entries and the bucket's unfinished multipart uploads.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from limelight.artifacts import ArtifactStore, LocalArtifactStore, open_store
from tests.support.live_server import free_port


@dataclass
class Backend:
    name: str
    store: ArtifactStore
    leftovers: Callable[[], list[str]]  # what an aborted write might leave behind; must stay empty
    uri: str  # for open_store in another process (a writer that gets killed)


def local_backend(tmp_path: Path) -> Backend:
    store = LocalArtifactStore(tmp_path / "store")
    staging = store.root / "staging"
    return Backend("local", store, lambda: sorted(p.name for p in staging.iterdir()), store.root.as_uri())


_S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "limelight-test", "AWS_SECRET_ACCESS_KEY": "limelight-test-secret",
                   "AWS_DEFAULT_REGION": "us-east-1"}
_s3_server: list[str] = []  # the endpoint, once started (one server per test session)


def s3_endpoint() -> str:
    if _s3_server:
        return _s3_server[0]
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("boto3") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("moto[server] and boto3 are missing: install limelight[dev,s3]")
        pytest.skip("needs moto[server] and boto3 (pip install -e '.[dev,s3]')")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    atexit.register(_stop, server)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    import httpx

    while True:
        try:
            httpx.get(endpoint, timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the S3 test server did not start") from None
            time.sleep(0.1)
    os.environ.update(_S3_CREDENTIALS)  # boto3's chain reads them here and in child processes
    _s3_server.append(endpoint)
    return endpoint


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(10)


def new_bucket(endpoint: str) -> str:
    import boto3

    name = f"limelight-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


def s3_backend(tmp_path: Path) -> Backend:
    import boto3

    endpoint = s3_endpoint()
    bucket = new_bucket(endpoint)
    uri = f"s3://{bucket}/artifacts?endpoint_url={endpoint}&region=us-east-1&cache={tmp_path / 's3-cache'}"
    store = open_store(uri)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    staging = tmp_path / "s3-cache" / "staging"

    def leftovers() -> list[str]:
        uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return sorted(p.name for p in staging.iterdir()) + [u["UploadId"] for u in uploads]

    return Backend("s3", store, leftovers, uri)


BACKENDS: dict[str, Callable[[Path], Backend]] = {"local": local_backend, "s3": s3_backend}
