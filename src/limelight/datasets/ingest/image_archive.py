"""An archive of labelled images as rows: runs inside the confined child (``image_child``), never in
the API process, because it decodes every picture with Pillow's native codecs.

Layouts, detected from the archive:

* one folder per label: ``ants/1.jpg``, ``bees/2.png``;
* split folders above them: ``train/ants/1.jpg``, ``val/bees/2.jpg`` (``train``/``training``,
  ``val``/``valid``/``validation``, ``test``), kept in the ``split`` column;
* a ``labels.csv`` at the top with ``path,label`` (several labels separated by ``|``: multi-label);
  every CSV row must name a file of the archive and every image must have a row.

A single top folder holding everything is dropped. Each image is decoded in full (JPEG, PNG, WebP,
GIF; the pixel limit stops decompression bombs before any pixel exists); one that is not an image,
or does not decode, refuses the whole upload with a report per file, unless ``skip_invalid`` keeps
the valid rest. The same bytes twice are kept once and reported.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from limelight.datasets.ingest.archive import ArchiveLimits, Member, archive_kind, read_members
from limelight.errors import DatasetInvalid, ImageInvalid, ImageTooLarge, UnsupportedMediaType
from limelight.imaging.decode import ImageLimits, decode_rgb

LABELS_CSV = "labels.csv"
SPLITS = {"train": "train", "training": "train", "val": "validation", "valid": "validation",
          "validation": "validation", "test": "test"}
REPORT_MAX_FILES = 1_000
THUMBNAILS_PER_LABEL = 4
THUMBNAILS_MAX = 32
THUMBNAIL_PX = 96
MIN_IMAGES_PER_LABEL = 2


@dataclass
class ImageRow:
    image_id: str
    labels: list[str]
    split: str | None
    data: bytes
    format: str
    width: int
    height: int
    sha256: str


@dataclass
class ImageRows:
    format: str  # zip or tar
    rows: list[ImageRow] = field(default_factory=list)
    files: list[dict[str, str]] = field(default_factory=list)  # what was refused, skipped or a duplicate
    thumbnails: list[dict[str, str]] = field(default_factory=list)


def read_image_archive(file: BinaryIO, filename: str | None, archive_limits: ArchiveLimits,
                       image_limits: ImageLimits, skip_invalid: bool, labels_csv: str | None = None) -> ImageRows:
    """``labels_csv``: the labels table sent beside the archive (the upload's ``labels`` part)."""
    head = file.read(512)
    file.seek(0)
    kind = archive_kind(head, filename)
    if kind is None:
        raise UnsupportedMediaType("An images dataset is uploaded as a zip or tar archive of pictures.",
                                   details={"field": "file", "accepted": ["zip", "tar", "tar.gz"]})
    skipped: list[dict[str, str]] = []
    raw = list(read_members(file, kind, archive_limits, skipped))
    members = _without_common_top(raw)
    result = ImageRows(format=kind, files=skipped)
    table = _labels_table(members, labels_csv)
    # A table sent beside the archive may name the paths with the folder that holds everything.
    if table is not None and labels_csv is not None and members is not raw and \
            len(set(table) & {m.path for m in raw}) > len(set(table) & {m.path for m in members}):
        members = raw
    images = [m for m in members if m.path != LABELS_CSV]
    labelled = _labelled_by_csv(images, table) if table is not None else [(m, *_labels_by_folder(m.path))
                                                                          for m in images]
    seen: dict[str, str] = {}
    refused = 0
    for member, labels, split in labelled:
        if not labels:
            if table is not None:
                result.files.append(_report(member.path, "refused", "no_label", f"its {LABELS_CSV} row names no label"))
            else:
                result.files.append(_report(member.path, "refused", "not_in_a_label_folder",
                                            "put each image in a folder named after its label"))
            refused += 1
            continue
        digest = hashlib.sha256(member.data).hexdigest()
        if digest in seen:
            result.files.append(_report(member.path, "duplicate", "same_bytes", f"the same file as {seen[digest]}"))
            continue
        try:
            picture = decode_rgb(member.data, image_limits)
        except (ImageInvalid, ImageTooLarge) as exc:
            result.files.append(_report(member.path, "refused", str(exc.details.get("reason")), exc.message))
            refused += 1
            continue
        seen[digest] = member.path
        fmt = _format_of(member.data)
        result.rows.append(ImageRow(member.path, labels, split, member.data, fmt, picture.width, picture.height,
                                    digest))
        _maybe_thumbnail(result, member.path, labels[0], picture)
    _check(result, refused, skip_invalid)
    result.rows.sort(key=lambda r: (r.split or "", r.labels[0], r.image_id))
    return result


def _without_common_top(members: list[Member]) -> list[Member]:
    """Drops a single folder that holds everything (``hymenoptera/train/…`` → ``train/…``)."""
    tops = {m.path.split("/", 1)[0] for m in members}
    if len(tops) == 1 and all("/" in m.path for m in members):
        top = next(iter(tops))
        if top.lower() not in SPLITS:
            return [Member(m.path.split("/", 1)[1], m.data) for m in members]
    return members


def _labels_by_folder(path: str) -> tuple[list[str], str | None]:
    parts = path.split("/")
    if len(parts) >= 3 and parts[0].lower() in SPLITS:
        return [parts[1]], SPLITS[parts[0].lower()]
    if len(parts) >= 2 and parts[0].lower() not in SPLITS:
        return [parts[0]], None
    return [], None


def _labels_table(members: list[Member], sent: str | None) -> dict[str, list[str]] | None:
    found = next((m for m in members if m.path == LABELS_CSV), None)
    if found is not None and sent is not None:
        raise DatasetInvalid(f"The archive holds a {LABELS_CSV} and a labels part was sent too; send one of them.",
                             details={"field": "labels", "file": LABELS_CSV})
    if found is None and sent is None:
        return None
    try:
        text = found.data.decode("utf-8-sig") if found is not None else str(sent).lstrip("\ufeff")
        rows = list(csv.DictReader(io.StringIO(text)))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetInvalid(f"{LABELS_CSV} cannot be read: {exc}", details={"file": LABELS_CSV}) from None
    if not rows or not {"path", "label"} <= set(rows[0]):
        raise DatasetInvalid(f"{LABELS_CSV} needs the columns path and label.", details={"file": LABELS_CSV})
    table: dict[str, list[str]] = {}
    for row in rows:
        labels = [part.strip() for part in (row.get("label") or "").split("|") if part.strip()]
        table[_table_path(row.get("path") or "")] = labels
    return table


def _table_path(path: str) -> str:
    """A table's path spelt the way archive members are (``./a.jpg``, ``ants\\a.jpg``); a path that
    climbs (``../a.jpg``) keeps its ``..`` and so names no member and is reported."""
    return "/".join(p for p in path.strip().replace("\\", "/").split("/") if p not in ("", "."))


def _labelled_by_csv(images: list[Member], table: dict[str, list[str]]) -> list[tuple[Member, list[str], None]]:
    paths = {m.path for m in images}
    unnamed = sorted(paths - set(table))
    missing = sorted(set(table) - paths)
    if unnamed or missing:
        raise DatasetInvalid(f"{LABELS_CSV} and the archive disagree: {len(missing)} row(s) name no file of "
                             f"the archive and {len(unnamed)} image(s) have no row.",
                             details={"rows_without_file": missing[:100], "files_without_row": unnamed[:100]})
    return [(m, table[m.path], None) for m in images]


def _format_of(data: bytes) -> str:
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data.startswith(b"\x89PNG"):
        return "png"
    if data.startswith(b"GIF8"):
        return "gif"
    return "webp"


def _maybe_thumbnail(result: ImageRows, path: str, label: str, picture: Any) -> None:
    per_label = sum(1 for t in result.thumbnails if t["label"] == label)
    if per_label >= THUMBNAILS_PER_LABEL or len(result.thumbnails) >= THUMBNAILS_MAX:
        return
    small = picture.copy()
    small.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    result.thumbnails.append({"image_id": path, "label": label,
                              "data": "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()})


def _check(result: ImageRows, refused: int, skip_invalid: bool) -> None:
    report = [f for f in result.files if f["status"] == "refused"][:REPORT_MAX_FILES]
    if refused and not skip_invalid:
        raise DatasetInvalid(f"{refused} file(s) are not images that can be read; nothing was stored "
                             "(send skip_invalid=true to keep the valid rest).",
                             details={"files": report, "refused": refused})
    counts = Counter(label for row in result.rows for label in row.labels)
    if len(counts) < 2:
        raise DatasetInvalid("A classifier needs images of at least two labels.",
                             details={"labels": dict(counts), "files": report})
    few = sorted(label for label, n in counts.items() if n < MIN_IMAGES_PER_LABEL)
    if few:
        raise DatasetInvalid(f"Each label needs at least {MIN_IMAGES_PER_LABEL} images: {', '.join(few[:10])} "
                             "has fewer.", details={"labels": {label: counts[label] for label in few}})


def _report(path: str, status: str, reason: str, message: str) -> dict[str, str]:
    return {"path": path, "status": status, "reason": reason, "message": message[:300]}


def write_parquet(result: ImageRows, dest: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = result.rows
    table = pa.table({
        "image_id": pa.array([r.image_id for r in rows], pa.string()),
        "label": pa.array([r.labels[0] for r in rows], pa.string()),
        "labels": pa.array([r.labels for r in rows], pa.list_(pa.string())),
        "split": pa.array([r.split for r in rows], pa.string()),
        "image": pa.array([r.data for r in rows], pa.binary()),
        "format": pa.array([r.format for r in rows], pa.string()),
        "width": pa.array([r.width for r in rows], pa.int32()),
        "height": pa.array([r.height for r in rows], pa.int32()),
        "sha256": pa.array([r.sha256 for r in rows], pa.string()),
    }).replace_schema_metadata({b"limelight.kind": b"images"})
    pq.write_table(table, dest, row_group_size=256)


def profile(result: ImageRows) -> dict[str, Any]:
    rows = result.rows
    return {
        "labels": dict(sorted(Counter(label for r in rows for label in r.labels).items())),
        "splits": dict(sorted(Counter(r.split or "unsplit" for r in rows).items())),
        "formats": dict(sorted(Counter(r.format for r in rows).items())),
        "multi_label": any(len(r.labels) > 1 for r in rows),
        "width": _spread([r.width for r in rows]), "height": _spread([r.height for r in rows]),
        "bytes": _spread([len(r.data) for r in rows]),
        "thumbnails": result.thumbnails,
        "files": result.files[:REPORT_MAX_FILES],
    }


def _spread(values: list[int]) -> dict[str, int]:
    ordered = sorted(values)
    return {"min": ordered[0], "p50": ordered[len(ordered) // 2], "max": ordered[-1]} if ordered else {}
