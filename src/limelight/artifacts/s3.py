"""The artifact store on S3-compatible object storage (AWS S3, MinIO, Ceph, …) through boto3.

``s3://bucket/prefix?endpoint_url=http://127.0.0.1:9000&region=us-east-1&cache=/var/cache/limelight``

Bytes are written exactly as the local store writes them, into a local directory that is this
store's staging area and read cache (a :class:`LocalArtifactStore`): hashed and counted while they
arrive, limited by ``max_bytes``, all or nothing. Only a complete, hashed blob is then uploaded, to
``<prefix>/blobs/sha256/<digest>``; S3 makes an object visible only once its (multipart) upload is
complete, so a reader never sees half an artifact. Readers that need a path get the cached copy,
downloaded once and re-hashed on the way in.

Credentials come from boto3's usual chain (environment, shared files, instance roles), never from
the URI, which is logged. ``cache`` defaults to ``$LIMELIGHT_S3_CACHE`` or ``~/.cache/limelight/s3``,
one folder per store URI, so every process of a deployment that opens the same URI shares staging
(the garbage collector tells a dead writer's staging from a live one's by its lock, as locally).

Garbage collection deletes unreferenced objects older than ``older_than_s`` (an object's age is its
``LastModified``; storing bytes that are already stored refreshes it by copying the object onto
itself), abandoned local staging, and multipart uploads started before the cutoff and never finished.
S3 has no compare-and-delete, so unlike the local store a collection racing a writer that re-stores
the very same bytes at that instant can remove them; keep ``older_than_s`` well above the longest
time between an upload and its metadata row (``gc.grace_s``, an hour by default).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

from limelight.artifacts.local import LocalArtifactStore
from limelight.artifacts.store import (
    DEFAULT_CHUNK_BYTES,
    BlobRef,
    GcReport,
    StagedBlob,
    chunks_of,
    validate_sha256,
)
from limelight.errors import InvalidParams, NotFound

__all__ = ["S3ArtifactStore", "open_store"]

_QUERY_KEYS = {"endpoint_url", "region", "cache"}
_MISSING = ("404", "NoSuchKey", "NotFound")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or "some/prefix/"
    endpoint_url: str | None
    region: str | None
    cache: Path


def parse_uri(uri: str) -> S3Location:
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.netloc or parts.fragment or "@" in parts.netloc:
        raise InvalidParams("An S3 artifact-store URI is s3://bucket/prefix?endpoint_url=…&region=…&cache=… "
                            "(credentials come from the environment, never the URI).", details={"uri": _shown(uri)})
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=False).items()}
    unknown = sorted(set(query) - _QUERY_KEYS)
    if unknown:
        raise InvalidParams(f"Unknown S3 artifact-store option {unknown[0]!r}.",
                            details={"uri": _shown(uri), "allowed": sorted(_QUERY_KEYS)})
    prefix = parts.path.strip("/")
    if any(segment in ("", ".", "..") for segment in prefix.split("/")) and prefix:
        raise InvalidParams("The S3 prefix must not hold empty, '.' or '..' segments.", details={"uri": _shown(uri)})
    where = f"s3://{parts.netloc}/{prefix}|{query.get('endpoint_url', '')}"
    default_root = Path(os.environ.get("LIMELIGHT_S3_CACHE") or Path.home() / ".cache" / "limelight" / "s3")
    cache = Path(query["cache"]) if "cache" in query else default_root / hashlib.sha256(where.encode()).hexdigest()[:20]
    if not cache.is_absolute():
        raise InvalidParams("The S3 store's cache must be an absolute path.", details={"uri": _shown(uri)})
    return S3Location(parts.netloc, f"{prefix}/" if prefix else "", query.get("endpoint_url"), query.get("region"),
                      cache)


def open_store(uri: str) -> S3ArtifactStore:
    """The store ``uri`` names; refuses at once, naming the setting, when the bucket cannot be reached."""
    location = parse_uri(uri)
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise InvalidParams("s3:// artifact stores need boto3: pip install 'limelight[s3]'.",
                            details={"setting": "artifacts_url"}) from None
    client = boto3.client("s3", endpoint_url=location.endpoint_url, region_name=location.region,
                          config=Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5,
                                        read_timeout=60))
    store = S3ArtifactStore(client, location)
    store.check_reachable(uri)
    return store


class S3ArtifactStore:
    """An :class:`~limelight.artifacts.store.ArtifactStore` on one S3 bucket and prefix."""

    def __init__(self, client: Any, location: S3Location) -> None:
        self._s3 = client
        self.bucket = location.bucket
        self.prefix = location.prefix
        self._local = LocalArtifactStore(location.cache)  # staging, and the cache of what was read

    def __repr__(self) -> str:
        return f"S3ArtifactStore(s3://{self.bucket}/{self.prefix})"

    def check_reachable(self, uri: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._s3.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            raise InvalidParams(f"The artifact store's bucket {self.bucket!r} cannot be used ({code or exc}); "
                                "check artifacts_url and the S3 credentials.",
                                details={"setting": "artifacts_url", "uri": _shown(uri), "code": code}) from None
        except BotoCoreError as exc:
            raise InvalidParams(f"The artifact store at {_shown(uri)} cannot be reached ({type(exc).__name__}); "
                                "check artifacts_url and the S3 credentials.",
                                details={"setting": "artifacts_url"}) from None

    # -- writing -------------------------------------------------------------------------------
    def write_stream(self, chunks: Iterable[bytes], *, max_bytes: int) -> BlobRef:
        return self._publish(self._local.write_stream(chunks, max_bytes=max_bytes))

    async def awrite_stream(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> BlobRef:
        ref = await self._local.awrite_stream(chunks, max_bytes=max_bytes)
        return await asyncio.to_thread(self._publish, ref)

    @contextmanager
    def stage(self, *, suffix: str = "") -> Iterator[StagedBlob]:
        with self._local.stage(suffix=suffix) as staged:
            yield _PublishingStage(staged, self._publish)

    def _publish(self, ref: BlobRef) -> BlobRef:
        """Upload a hashed blob from the cache to its key, or refresh the age of the stored one."""
        key = self._key(ref.sha256)
        stored = self._head(ref.sha256)
        if stored is not None and stored["ContentLength"] == ref.size_bytes:
            # a new reference to these bytes is coming: make the object young so gc leaves it alone
            self._s3.copy_object(Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": key},
                                 Metadata={"placed": str(time.time())}, MetadataDirective="REPLACE")
            return ref
        # upload_file: one PUT, or a multipart upload that becomes an object only when complete
        self._s3.upload_file(str(self._local.local_path(ref.sha256)), self.bucket, key)
        return ref

    # -- reading -------------------------------------------------------------------------------
    def _key(self, sha256: str) -> str:
        return f"{self.prefix}blobs/sha256/{validate_sha256(sha256)}"

    def _head(self, sha256: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            answer: dict[str, Any] = self._s3.head_object(Bucket=self.bucket, Key=self._key(sha256))
            return answer
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _MISSING:
                return None
            raise

    def _existing(self, sha256: str) -> dict[str, Any]:
        found = self._head(sha256)
        if found is None:
            raise NotFound("No such artifact.", details={"sha256": sha256})
        return found

    def local_path(self, sha256: str) -> Path:
        size = int(self._existing(sha256)["ContentLength"])
        if self._local.exists(sha256) and self._local.size(sha256) == size:
            return self._local.local_path(sha256)
        with self._local.stage() as staged:  # committing re-hashes: a wrong download is never cached
            self._s3.download_file(self.bucket, self._key(sha256), str(staged.path))
            ref = staged.commit()
        if ref.sha256 != sha256:
            self._local.delete(ref.sha256)
            raise InvalidParams("The stored object does not match its address; it was not used.",
                                details={"sha256": sha256})
        return self._local.local_path(sha256)

    def open(self, sha256: str) -> BinaryIO:
        return self.local_path(sha256).open("rb")

    def iter_bytes(self, sha256: str, chunk_size: int = DEFAULT_CHUNK_BYTES) -> Iterator[bytes]:
        if chunk_size <= 0:
            raise InvalidParams("chunk_size must be positive.")
        return chunks_of(self.open(sha256), chunk_size)  # open raises NotFound now, not at the first next()

    def exists(self, sha256: str) -> bool:
        return self._head(sha256) is not None

    def size(self, sha256: str) -> int:
        return int(self._existing(sha256)["ContentLength"])

    def verify(self, sha256: str) -> bool:
        """Re-hashes the stored object itself, not the cached copy."""
        from botocore.exceptions import ClientError

        try:
            body = self._s3.get_object(Bucket=self.bucket, Key=self._key(sha256))["Body"]
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _MISSING:
                raise NotFound("No such artifact.", details={"sha256": sha256}) from None
            raise
        digest = hashlib.sha256()
        for chunk in body.iter_chunks(DEFAULT_CHUNK_BYTES):
            digest.update(chunk)
        return digest.hexdigest() == sha256

    # -- removing ------------------------------------------------------------------------------
    def delete(self, sha256: str) -> bool:
        existed = self._head(sha256) is not None
        if existed:
            self._s3.delete_object(Bucket=self.bucket, Key=self._key(sha256))
        self._local.delete(sha256)
        return existed

    def _objects(self) -> Iterator[dict[str, Any]]:
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                   Prefix=f"{self.prefix}blobs/sha256/")
        for page in pages:
            for item in page.get("Contents", []):
                digest = item["Key"].rsplit("/", 1)[-1]
                if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest):
                    yield {**item, "sha256": digest}

    def list_refs(self) -> Iterator[BlobRef]:
        for item in self._objects():
            yield BlobRef(item["sha256"], int(item["Size"]))

    def gc(self, referenced: set[str], *, older_than_s: float, dry_run: bool = False) -> GcReport:
        cutoff = time.time() - older_than_s
        blobs: list[str] = []
        freed = 0
        for item in list(self._objects()):
            if item["sha256"] in referenced or item["LastModified"].timestamp() > cutoff:
                continue
            if not dry_run:
                self._s3.delete_object(Bucket=self.bucket, Key=item["Key"])
                self._local.delete(item["sha256"])
            blobs.append(item["sha256"])
            freed += int(item["Size"])
        # local staging only: every cached blob counts as referenced here, the cache is not the store
        cached = {ref.sha256 for ref in self._local.list_refs()}
        local = self._local.gc(cached, older_than_s=older_than_s, dry_run=dry_run)
        uploads = self._abandoned_uploads(cutoff, dry_run)
        return GcReport(len(blobs), freed, local.staging_removed + len(uploads), local.staging_bytes_freed,
                        tuple(blobs), local.staging + tuple(uploads))

    def _abandoned_uploads(self, cutoff: float, dry_run: bool) -> list[str]:
        """Multipart uploads started before the cutoff and never completed (a writer that died)."""
        taken = []
        pages = self._s3.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for upload in page.get("Uploads", []):
                if upload["Initiated"].timestamp() > cutoff:
                    continue
                if not dry_run:
                    self._s3.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                    UploadId=upload["UploadId"])
                taken.append(f"multipart:{upload['UploadId']}")
        return taken


class _PublishingStage:
    """A local staged file whose commit also publishes the blob to the bucket."""

    def __init__(self, staged: StagedBlob, publish: Any) -> None:
        self._staged = staged
        self._publish = publish

    @property
    def path(self) -> Path:
        return self._staged.path

    def commit(self, *, max_bytes: int | None = None) -> BlobRef:
        ref: BlobRef = self._publish(self._staged.commit(max_bytes=max_bytes))
        return ref


def _shown(uri: str) -> str:
    """The URI as it may be logged: without user info or a query value that could be a secret by mistake."""
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}{parts.path}"
