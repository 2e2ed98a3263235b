"""Decoding users' images in confined child processes, never in the serving process.

Image codecs are native code fed with hostile bytes: a crafted file can crash, hang or exhaust
memory in them, and a native abort cannot be caught. So every image is decoded (``imaging.decode``)
and cropped (``Preprocessing.crop``) in a child (:mod:`limelight.vision.decode_child`) with an
address-space, CPU-time and open-file limit and no network; only a ``(size, size, 3)`` uint8 array
comes back.

Why not ``concurrent.futures.ProcessPoolExecutor``: when one of its workers dies the whole pool is
broken and every image in flight on any worker fails with it, a hung worker cannot be killed
through its API, results come back as pickles from the process that touched the hostile bytes,
and ``spawn`` re-imports the parent's main script. Here each child is a plain ``python -m`` process
that handles one image at a time on its own pipes: a crash or a timeout fails that image alone, the
child is killed, and the next image starts a new one. Replies are a tag and bytes, never pickles,
and the parent accepts nothing from a child but an exact-size array or an error it rebuilds itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from limelight.errors import ImageInvalid, ImageTooLarge, LimelightError, NotReady
from limelight.imaging.decode import ImageLimits
from limelight.vision.decode_child import ERROR, FRAME, OK
from limelight.vision.preprocess import Preprocessing

__all__ = ["DecodeLimits", "DecodePool"]

_CHILD_LOST = frozenset({"decode_timeout", "decoder_crashed"})  # the child is killed and replaced
_MAX_ERROR_BYTES = 64 << 10
_SECRET_MARKERS = ("LIMELIGHT_", "SECRET", "TOKEN", "PASSWORD", "CREDENTIAL", "KEY", "_PROXY", "DATABASE_URL")


@dataclass(frozen=True)
class DecodeLimits:
    """What one decoding child may use, and how many run at once."""

    image: ImageLimits = field(default_factory=ImageLimits)
    memory_bytes: int = 2 << 30  # address space: a 40 MP picture decodes to ~120 MB, resizing doubles it
    cpu_s: int = 10  # CPU seconds per image
    timeout_s: float = 20.0  # wall seconds per image
    workers: int = 2
    images_per_child: int = 5000  # a child is replaced after this many images (bounds fragmentation)


def _environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment without settings or secrets; one thread per child."""
    env = {k: v for k, v in environ.items() if not any(m in k.upper() for m in _SECRET_MARKERS)}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


class _Child:
    """One decoding process and the parent's ends of its pipes."""

    def __init__(self, preprocessing: Preprocessing, limits: DecodeLimits) -> None:
        config = json.dumps({"preprocessing": preprocessing.to_json(), "limits": limits.image.to_json(),
                             "memory_bytes": limits.memory_bytes, "cpu_s": limits.cpu_s})
        self.process = subprocess.Popen(  # noqa: S603 - our own module, arguments are JSON we built
            [sys.executable, "-m", "limelight.vision.decode_child", config], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True, start_new_session=True,
            env=_environment(os.environ))
        self.served = 0

    def decode(self, data: bytes, size: int, timeout_s: float) -> np.ndarray:
        expected = size * size * 3
        deadline = time.monotonic() + timeout_s
        try:
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.write(FRAME.pack(len(data)) + data)
            self.process.stdin.flush()
            fd = self.process.stdout.fileno()
            (length,) = FRAME.unpack(_read_exactly(fd, FRAME.size, deadline))
            if length > expected + 1 and length > _MAX_ERROR_BYTES:
                raise EOFError("oversized reply")
            reply = _read_exactly(fd, length, deadline)
        except TimeoutError as exc:
            raise ImageInvalid(f"Decoding the image took longer than {timeout_s:g} s; it is refused.",
                               details={"reason": "decode_timeout", "limit_s": timeout_s}) from exc
        except (EOFError, OSError, ValueError) as exc:  # ValueError: a pipe closed under us
            raise ImageInvalid("Decoding the image crashed its decoder; the file is refused.",
                               details={"reason": "decoder_crashed"}) from exc
        self.served += 1
        if reply[:1] == OK and len(reply) == expected + 1:
            return np.frombuffer(reply, dtype=np.uint8, offset=1).reshape(size, size, 3)
        raise _error_from(reply)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


def _read_exactly(fd: int, n: int, deadline: float) -> bytes:
    chunks, got = [], 0
    while got < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise TimeoutError
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("the decoder exited")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _error_from(reply: bytes) -> LimelightError:
    """The decoder's own 413/422, rebuilt from its JSON; anything else is an unreadable image."""
    try:
        body = json.loads(reply[1:]) if reply[:1] == ERROR else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return ImageInvalid("The image could not be decoded.", details={"reason": "undecodable"})
    cls = ImageTooLarge if body.get("code") == ImageTooLarge.code else ImageInvalid
    details = body.get("details") if isinstance(body.get("details"), dict) else {}
    return cls(str(body.get("message") or "The image could not be decoded.")[:500], details=details)


class DecodePool:
    """``decode_many(images)``: each image decoded in a child, in parallel up to ``limits.workers``."""

    def __init__(self, preprocessing: Preprocessing, limits: DecodeLimits | None = None) -> None:
        self.preprocessing = preprocessing
        self.limits = limits or DecodeLimits()
        self._idle: list[_Child] = []
        self._all: set[_Child] = set()
        self._guard = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.limits.workers)
        self._threads = ThreadPoolExecutor(max_workers=self.limits.workers, thread_name_prefix="image-decode")
        self._closed = False

    def start(self) -> None:
        """Start the children now rather than on the first images (each imports Pillow and NumPy)."""
        with self._guard:
            while len(self._all) < self.limits.workers and not self._closed:
                child = _Child(self.preprocessing, self.limits)
                self._all.add(child)
                self._idle.append(child)

    def decode(self, data: bytes) -> np.ndarray:
        """One image as ``(size, size, 3)`` uint8; ``ImageInvalid`` / ``ImageTooLarge`` if refused."""
        with self._slots:
            child = self._take()
            try:
                pixels = child.decode(data, self.preprocessing.size, self.limits.timeout_s)
            except LimelightError as exc:  # a refusal the child survived: it may take the next image
                if exc.details.get("reason") in _CHILD_LOST:
                    self._drop(child)
                else:
                    self._give_back(child)
                raise
            except BaseException:
                self._drop(child)
                raise
            self._give_back(child)
            return pixels

    def decode_many(self, images: Sequence[bytes]) -> list[np.ndarray | LimelightError]:
        """Every image's pixels or its own refusal, in order: one bad image fails only itself."""
        if len(images) == 1:
            return [self._decode_or_error(images[0])]
        return list(self._threads.map(self._decode_or_error, images))

    def _decode_or_error(self, data: bytes) -> np.ndarray | LimelightError:
        try:
            return self.decode(data)
        except LimelightError as exc:
            return exc

    def _take(self) -> _Child:
        with self._guard:
            if self._closed:
                raise NotReady("The image decoder is shut down.")
            while self._idle:
                child = self._idle.pop()
                if child.process.poll() is None:
                    return child
                self._all.discard(child)  # died while idle (killed, out of memory): start another
            child = _Child(self.preprocessing, self.limits)
            self._all.add(child)
            return child

    def _give_back(self, child: _Child) -> None:
        with self._guard:
            if not self._closed and child.served < self.limits.images_per_child and child.process.poll() is None:
                self._idle.append(child)
                return
        self._drop(child)

    def _drop(self, child: _Child) -> None:
        with self._guard:
            self._all.discard(child)
            with contextlib.suppress(ValueError):
                self._idle.remove(child)
        child.kill()

    @property
    def children(self) -> list[int]:
        """The process ids of the live children (for tests and operators)."""
        with self._guard:
            return [c.process.pid for c in self._all]

    def close(self) -> None:
        with self._guard:
            self._closed = True
            children, self._idle, self._all = list(self._all), [], set()
        for child in children:
            child.kill()
        self._threads.shutdown(wait=False)
