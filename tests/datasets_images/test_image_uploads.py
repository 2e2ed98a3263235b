"""Image datasets through a real server: layouts that work, and a corpus of hostile archives and
pictures that each get a clear 4xx, store nothing and leave the server up."""

from __future__ import annotations

import io
import zipfile

import pyarrow.parquet as pq
import pytest

from tests.datasets_images.archives import COLOURS, labelled, picture, png_declaring, tar_with_symlink, zip_of
from tests.support.factories import new_tenant


@pytest.fixture(scope="module")
def tenant(sqlite_server):  # type: ignore[no-untyped-def]
    return new_tenant(sqlite_server)


def _upload(tenant, name: str, data: bytes, filename: str = "pictures.zip", **fields: str):  # type: ignore[no-untyped-def]
    with tenant.client() as client:
        return client.post(f"/api/v1/orgs/{tenant.org}/datasets", files={"file": (filename, data)},
                           data={"name": name, "kind": "images", **fields})


def _stored(tenant, name: str) -> bool:  # type: ignore[no-untyped-def]
    with tenant.client() as client:
        return client.get(f"/api/v1/orgs/{tenant.org}/datasets/{name}").status_code == 200


def test_label_folders_with_splits_become_rows_with_a_profile_and_thumbnails(tenant) -> None:
    files = {f"hymenoptera/{split}/{label}/{i}.jpg": picture(colour, seed=i + (50 if split == "val" else 0))
             for split in ("train", "val") for label, colour in COLOURS.items() for i in range(3)}
    files["hymenoptera/train/bees/pic.png"] = picture((10, 10, 200), "PNG", size=(64, 64))
    response = _upload(tenant, "insects", zip_of(files))
    assert response.status_code == 201, response.text
    body = response.json()
    profile = body["profile"]
    assert body["rows"] == 13 and body["source_format"] == "zip"
    assert profile["labels"] == {"ants": 6, "bees": 7} and profile["splits"] == {"train": 7, "validation": 6}
    assert profile["formats"] == {"jpeg": 12, "png": 1} and profile["width"]["max"] == 64
    assert 2 <= len(profile["thumbnails"]) <= 8
    assert all(t["data"].startswith("data:image/jpeg;base64,") for t in profile["thumbnails"])
    assert [c["name"] for c in body["columns"]][:3] == ["image_id", "label", "labels"]


def test_a_labels_csv_gives_several_labels_per_picture(tenant) -> None:
    files = {f"img/{i}.png": picture((i * 20, 100, 100), "PNG", seed=i) for i in range(6)}
    rows = ["path,label"] + [f"img/{i}.png,{'poster|drama' if i % 2 else 'poster|comedy'}" for i in range(6)]
    files["labels.csv"] = ("\n".join(rows) + "\n").encode()
    response = _upload(tenant, "posters", zip_of(files))
    assert response.status_code == 201, response.text
    profile = response.json()["profile"]
    assert profile["multi_label"] is True and profile["labels"] == {"comedy": 3, "drama": 3, "poster": 6}


def test_skip_invalid_keeps_the_valid_rest_and_reports_each_refused_file(tenant) -> None:
    files = labelled(3) | {"ants/notes.jpg": b"not a picture at all", "bees/huge.png": png_declaring(30_000, 30_000)}
    refused = _upload(tenant, "mixed", zip_of(files))
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "dataset_invalid"
    report = {f["path"]: f["reason"] for f in refused.json()["error"]["details"]["files"]}
    assert report == {"ants/notes.jpg": "not_an_image", "bees/huge.png": "too_many_pixels"}
    assert not _stored(tenant, "mixed")
    kept = _upload(tenant, "mixed", zip_of(files), skip_invalid="true")
    assert kept.status_code == 201 and kept.json()["rows"] == 6
    assert {f["path"] for f in kept.json()["profile"]["files"]} == {"ants/notes.jpg", "bees/huge.png"}


def _bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ants/a.jpg", b"\0" * (64 << 20))  # 64 MB of zeros packs into ~64 KB
    return out.getvalue()


HOSTILE = {
    "zip-slip": (zip_of(labelled(2) | {"../escape.jpg": picture((1, 2, 3))}), 422, "archive_unsafe"),
    "absolute path": (zip_of(labelled(2) | {"/etc/evil.jpg": picture((1, 2, 3))}), 422, "archive_unsafe"),
    "zip bomb": (_bomb(), 413, "archive_too_large"),
    "decompression bomb": (zip_of(labelled(2) | {"bees/bomb.png": png_declaring(30_000, 30_000)}), 422,
                           "dataset_invalid"),
    "truncated jpeg": (zip_of(labelled(2) | {"ants/cut.jpg": picture((9, 9, 9), size=(300, 300))[:400]}), 422,
                       "dataset_invalid"),
    "svg": (zip_of(labelled(2) | {"ants/x.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>"}), 422,
            "dataset_invalid"),
    "bmp": (zip_of(labelled(2) | {"ants/x.bmp": picture((5, 5, 5), "BMP")}), 422, "dataset_invalid"),
    "tiff": (zip_of(labelled(2) | {"bees/x.tif": picture((5, 5, 5), "TIFF")}), 422, "dataset_invalid"),
    "text named jpg": (zip_of(labelled(2) | {"bees/readme.jpg": b"just some words\n" * 20}), 422,
                        "dataset_invalid"),
    "one image for a label": (zip_of(labelled(2) | {"wasps/w.jpg": picture((0, 0, 0))}), 422, "dataset_invalid"),
    "one label": (zip_of({f"ants/{i}.jpg": picture((1, 1, 1), seed=i) for i in range(4)}), 422, "dataset_invalid"),
    "csv names a missing file": (zip_of({"a.jpg": picture((1, 1, 1)), "b.jpg": picture((2, 2, 2), seed=1),
                                         "labels.csv": b"path,label\na.jpg,x\nb.jpg,y\nc.jpg,y\n"}), 422,
                                 "dataset_invalid"),
    "csv leaves an image unnamed": (zip_of({"a.jpg": picture((1, 1, 1)), "b.jpg": picture((2, 2, 2), seed=1),
                                            "c.jpg": picture((3, 3, 3), seed=2),
                                            "labels.csv": b"path,label\na.jpg,x\nb.jpg,y\n"}), 422,
                                    "dataset_invalid"),
    "empty archive": (zip_of({}), 422, "dataset_invalid"),
    "not an archive": (picture((1, 2, 3)), 415, "unsupported_media_type"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archives_get_a_clear_4xx_store_nothing_and_leave_the_server_up(tenant, case: str) -> None:
    data, status, code = HOSTILE[case]
    name = "hostile-" + case.replace(" ", "-").replace("'", "")[:40]
    response = _upload(tenant, name, data)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert not _stored(tenant, name)
    with tenant.client() as client:
        assert client.get("/healthz").status_code == 200


def test_a_symlink_in_a_tar_is_skipped_and_reported(tenant) -> None:
    response = _upload(tenant, "linked", tar_with_symlink(labelled(2), "ants/passwd.jpg", "/etc/passwd"),
                       filename="pictures.tar.gz")
    assert response.status_code == 201, response.text
    assert {"path": "ants/passwd.jpg", "status": "skipped", "reason": "symbolic link"} in response.json()["profile"]["files"]


def test_the_stored_parquet_holds_the_original_bytes(tenant, sqlite_server) -> None:
    from limelight.artifacts.registry import open_store

    files = labelled(2)
    body = _upload(tenant, "bytes", zip_of(files)).json()
    store = open_store((sqlite_server.home / "artifacts").as_uri())
    table = pq.read_table(store.local_path(body["sha256"]))
    stored = dict(zip(table.column("image_id").to_pylist(), table.column("image").to_pylist(), strict=True))
    assert stored == files
    assert table.schema.metadata[b"limelight.kind"] == b"images"


def test_the_readme_upload_example_runs_as_written(tenant, sqlite_server, tmp_path, monkeypatch) -> None:
    from tests.recommend_api.test_readme_examples import IMAGES_SECTION, readme_curl_commands, run_curl

    (command,) = readme_curl_commands(IMAGES_SECTION)
    (tmp_path / "hymenoptera.zip").write_bytes(zip_of(labelled(3)))
    monkeypatch.chdir(tmp_path)  # the example names the file relative to where it runs
    status, body = run_curl(command, sqlite_server.url, tenant.org, tenant.key)
    assert status == 201, body
    assert body["dataset"] == "insects" and body["kind"] == "images" and body["rows"] == 6


def _posters() -> tuple[dict[str, bytes], bytes]:
    files = {f"img/{i}.png": picture((i * 20, 100, 100), "PNG", seed=i) for i in range(4)}
    rows = ["path,label"] + [f"img/{i}.png,{'drama' if i % 2 else 'comedy|drama'}" for i in range(4)]
    return files, ("\n".join(rows) + "\n").encode()


def test_a_labels_part_beside_the_archive_labels_its_pictures(tenant) -> None:
    files, table = _posters()
    with tenant.client() as client:
        response = client.post(f"/api/v1/orgs/{tenant.org}/datasets",
                               files={"file": ("posters.zip", zip_of(files)), "labels": ("labels.csv", table)},
                               data={"name": "posters-part", "kind": "images"})
    assert response.status_code == 201, response.text
    assert response.json()["profile"]["labels"] == {"comedy": 2, "drama": 4}
    assert response.json()["profile"]["multi_label"] is True


@pytest.mark.parametrize("case", ["missing file", "unnamed image", "also inside"])
def test_a_labels_part_that_disagrees_with_the_archive_is_refused_and_stores_nothing(tenant, case: str) -> None:
    files, table = _posters()
    if case == "missing file":
        table += b"img/9.png,drama\n"
    elif case == "unnamed image":
        files["img/extra.png"] = picture((1, 200, 1), "PNG", seed=9)
    else:
        files["labels.csv"] = table
    name = "posters-" + case.replace(" ", "-")
    with tenant.client() as client:
        response = client.post(f"/api/v1/orgs/{tenant.org}/datasets",
                               files={"file": ("posters.zip", zip_of(files)), "labels": ("labels.csv", table)},
                               data={"name": name, "kind": "images"})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "dataset_invalid"
    if case == "missing file":
        assert error["details"]["rows_without_file"] == ["img/9.png"]
    elif case == "unnamed image":
        assert error["details"]["files_without_row"] == ["img/extra.png"]
    else:
        assert error["details"]["field"] == "labels"
    assert not _stored(tenant, name)


def test_the_same_bytes_twice_are_kept_once_and_reported(tenant) -> None:
    files = labelled(2)
    files["bees/copy-of-ants0.jpg"] = files["ants/ants0.jpeg"]
    response = _upload(tenant, "twice", zip_of(files))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["rows"] == 4 and body["profile"]["labels"] == {"ants": 2, "bees": 2}
    (report,) = body["profile"]["files"]
    assert (report["path"], report["status"], report["reason"]) == ("bees/copy-of-ants0.jpg", "duplicate", "same_bytes")


def test_a_labels_part_over_its_limit_is_413_and_stores_nothing(tenant) -> None:
    files, table = _posters()
    table += b"".join(b"img/%06d.png,drama\n" % i for i in range(20_000))  # ~400 KiB
    with tenant.client() as client:
        response = client.post(f"/api/v1/orgs/{tenant.org}/datasets",
                               files={"file": ("posters.zip", zip_of(files)), "labels": ("labels.csv", table)},
                               data={"name": "posters-huge-table", "kind": "images"})
    assert response.status_code == 413, response.text
    assert "labels" in response.json()["error"]["message"]
    assert not _stored(tenant, "posters-huge-table")
