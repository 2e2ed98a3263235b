"""Image archives made in the test, benign and hostile: nothing binary is checked in."""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
import zlib

from PIL import Image

COLOURS = {"ants": (200, 40, 40), "bees": (240, 200, 30)}


def picture(colour: tuple[int, int, int], fmt: str = "JPEG", size: tuple[int, int] = (48, 32), seed: int = 0) -> bytes:
    image = Image.new("RGB", size, colour)
    image.putpixel((seed % size[0], 0), (seed % 255, 0, 0))  # distinct bytes per seed
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def zip_of(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def labelled(per_label: int = 3, top: str = "", fmt: str = "JPEG") -> dict[str, bytes]:
    return {f"{top}{label}/{label}{i}.{fmt.lower()}": picture(colour, fmt, seed=i)
            for label, colour in COLOURS.items() for i in range(per_label)}


def png_declaring(width: int, height: int) -> bytes:
    """A PNG header declaring a huge picture over a tiny body: a decompression bomb's face."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def tar_with_symlink(files: dict[str, bytes], link: str, target: str) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo(link)
        info.type = tarfile.SYMTYPE
        info.linkname = target
        archive.addfile(info)
    return out.getvalue()
