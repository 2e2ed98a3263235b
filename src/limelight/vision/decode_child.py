"""One image-decoding process: confine itself, then decode image after image from stdin.

Run as ``python -m limelight.vision.decode_child '<json config>'`` by :mod:`limelight.vision.decode_pool`.
Frames both ways are a little-endian uint32 length and that many bytes. A request is the image's
bytes; a reply is ``K`` and the ``(size, size, 3)`` uint8 pixels, or ``E`` and a JSON error
``{"code", "message", "details"}``. Replies go out on a private copy of stdout, and stdout itself
is pointed at stderr, so nothing a library prints can forge a reply.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import sys
from typing import Any

from limelight.runtimes import sandbox_child

OK, ERROR = b"K", b"E"
FRAME = struct.Struct("<I")
_OPEN_FILES = 32


def confine(memory_bytes: int) -> None:
    """No core dumps, a capped address space and few files; no network where the kernel lets us.
    CPU time is budgeted per picture (``allow_cpu``)."""
    sandbox_child.confine(memory_bytes, None, open_files=_OPEN_FILES)


def allow_cpu(cpu_s: int) -> None:
    """RLIMIT_CPU counts the process's whole life: move the soft limit ``cpu_s`` past now, so each
    image gets ``cpu_s`` and SIGXCPU ends a child spinning on a hostile file."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(usage.ru_utime + usage.ru_stime) + cpu_s + 1
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _read_exactly(fd: int, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(FRAME.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view):]


def _error(code: str, message: str, details: dict[str, Any]) -> bytes:
    return ERROR + json.dumps({"code": code, "message": message, "details": details}, default=str).encode()


def decode_reply(data: bytes, prep: Any, limits: Any) -> bytes:
    """The reply frame for one image: its cropped pixels, or the decoder's refusal."""
    from limelight.errors import ImageInvalid, ImageTooLarge, LimelightError
    from limelight.imaging.decode import decode_rgb

    try:
        return OK + prep.crop(decode_rgb(data, limits)).tobytes()
    except LimelightError as exc:
        return _error(exc.code, exc.message, exc.details)
    except MemoryError:
        return _error(ImageTooLarge.code, "Decoding the image needs more memory than allowed.",
                      {"reason": "too_much_memory"})
    except Exception as exc:  # noqa: BLE001 - a codec's surprise is a refused image, not a dead child
        return _error(ImageInvalid.code, "The image could not be decoded.",
                      {"reason": "undecodable", "error": type(exc).__name__})


def main() -> None:
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    config = json.loads(sys.argv[1])
    from PIL import Image, ImageOps  # noqa: F401 - Pillow and its format plugins load before the limits

    from limelight.imaging.decode import ImageLimits
    from limelight.vision.preprocess import Preprocessing

    Image.init()

    prep = Preprocessing.from_json(config["preprocessing"])
    limits = ImageLimits(**config["limits"])
    confine(int(config["memory_bytes"]))
    max_request = limits.max_bytes + 1024
    while True:
        head = _read_exactly(0, FRAME.size)
        if head is None:
            return  # the parent closed our stdin: done
        (size,) = FRAME.unpack(head)
        if size > max_request:
            return  # not a request the parent would send: stop rather than buffer it
        data = _read_exactly(0, size)
        if data is None:
            return
        allow_cpu(int(config["cpu_s"]))
        _write_frame(reply_fd, decode_reply(data, prep, limits))


if __name__ == "__main__":
    main()
