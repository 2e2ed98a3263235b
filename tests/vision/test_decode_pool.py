"""The decode pool on hostile pictures: each is refused alone, and the pool keeps serving."""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import termios
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from limelight.errors import ImageInvalid, ImageTooLarge, NotReady
from limelight.imaging.decode import ImageLimits
from limelight.vision.decode_pool import DecodeLimits, DecodePool
from tests.vision.models import TINY, noise_picture, picture, png_bomb


@pytest.fixture
def pool() -> Iterator[DecodePool]:
    made = DecodePool(TINY, DecodeLimits(image=ImageLimits(max_bytes=200_000, max_pixels=4_000_000), workers=2))
    yield made
    made.close()


def test_a_picture_comes_back_cropped_as_uint8(pool: DecodePool) -> None:
    pixels = pool.decode(picture("red", "JPEG", size=(80, 50)))
    assert pixels.shape == (32, 32, 3) and pixels.dtype == np.uint8
    assert pixels[..., 0].mean() > 200 and pixels[..., 1].mean() < 50


def test_the_children_are_other_processes(pool: DecodePool) -> None:
    pool.start()
    assert len(pool.children) == 2 and os.getpid() not in pool.children


@pytest.mark.parametrize(("hostile", "error", "reason"), [
    (png_bomb(), ImageTooLarge, "too_many_pixels"),
    (noise_picture(size=(200, 150))[:3000], ImageInvalid, "undecodable"),  # a truncated JPEG
    (b"\x89PNG\r\n\x1a\n" + os.urandom(200), ImageInvalid, "not_an_image"),  # a PNG signature, then garbage
    (os.urandom(1000), ImageInvalid, "not_an_image"),
    (picture("red", "BMP"), ImageInvalid, "unsupported_format"),
    (picture("red", "PNG", size=(4, 4)), ImageInvalid, "too_small"),
])
def test_hostile_pictures_are_refused_and_the_pool_goes_on(pool: DecodePool, hostile: bytes,
                                                            error: type[Exception], reason: str) -> None:
    results = pool.decode_many([picture("green"), hostile, picture("blue")])
    assert isinstance(results[1], error), results[1]
    assert results[1].details["reason"] == reason
    assert isinstance(results[0], np.ndarray) and isinstance(results[2], np.ndarray)
    assert results[0][..., 1].mean() > 200 and results[2][..., 2].mean() > 200


def test_an_image_over_the_byte_limit_is_refused_with_the_limit(pool: DecodePool) -> None:
    with pytest.raises(ImageTooLarge) as caught:
        pool.decode(b"\x89PNG\r\n\x1a\n" + bytes(200_001))
    assert caught.value.details == {"reason": "too_many_bytes", "bytes": 200_009, "limit": 200_000}


def _pending_bytes(child: Any) -> int:
    """Bytes written to a child's stdin that it has not read (FIONREAD works on either end of a pipe)."""
    return struct.unpack("i", fcntl.ioctl(child.process.stdin.fileno(), termios.FIONREAD, b"\0" * 4))[0]


def test_a_child_killed_mid_request_fails_only_its_image_and_is_replaced() -> None:
    pool = DecodePool(TINY, DecodeLimits(workers=1))
    try:
        pool.start()
        [child] = pool._idle  # noqa: SLF001 - the test needs the one child's pipe
        victim = child.process.pid
        os.kill(victim, signal.SIGSTOP)  # it cannot read the request until it is killed
        with ThreadPoolExecutor(1) as caller:
            request = caller.submit(pool.decode, picture("red"))
            deadline = time.monotonic() + 10
            while _pending_bytes(child) == 0 and time.monotonic() < deadline:  # wait for the request, no sleep
                pass
            assert _pending_bytes(child) > 0
            os.kill(victim, signal.SIGKILL)
            with pytest.raises(ImageInvalid) as caught:
                request.result(timeout=30)
        assert caught.value.details["reason"] == "decoder_crashed"
        pixels = pool.decode(picture("red"))  # the next request works, on a new child
        assert pixels[..., 0].mean() > 200
        assert pool.children and victim not in pool.children
    finally:
        pool.close()


def test_a_hung_child_times_out_and_is_replaced() -> None:
    pool = DecodePool(TINY, DecodeLimits(workers=1, timeout_s=0.5))
    try:
        pool.start()
        [victim] = pool.children
        os.kill(victim, signal.SIGSTOP)  # never answers, like a decoder looping on a hostile file
        with pytest.raises(ImageInvalid) as caught:
            pool.decode(picture("red"))
        assert caught.value.details == {"reason": "decode_timeout", "limit_s": 0.5}
        assert pool.decode(picture("blue"))[..., 2].mean() > 200
        assert victim not in pool.children
    finally:
        pool.close()


def test_a_closed_pool_refuses(pool: DecodePool) -> None:
    pool.close()
    with pytest.raises(NotReady):
        pool.decode(picture("red"))
