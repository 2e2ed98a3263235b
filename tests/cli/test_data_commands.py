"""datasets, jobs, recipes, models, deployments and audit commands, as a user chains them.

Set-up that is not under test (a second version, a training dataset) goes through the SDK to keep
the number of CLI processes, each paying Python's start-up, small.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from limelight.schemas import VersionMeta
from tests.cli.conftest import Cli
from tests.client.tenants import SdkTenant, new_sdk_tenant
from tests.support.factories import lightgbm_model_bytes, tabular_csv, unique
from tests.support.live_server import LiveServer


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("files")
    (folder / "churn.csv").write_bytes(tabular_csv(rows=300))
    (folder / "model.txt").write_bytes(lightgbm_model_bytes())
    (folder / "card.md").write_text("# Churn\nPredicts who leaves.\n")
    return {path.name: path for path in folder.iterdir()}


@pytest.fixture(scope="module")
def dataset(tenant: SdkTenant, files: dict[str, Path]) -> str:
    name = unique("train")
    with tenant.client() as client:
        client.datasets.upload(tenant.org, files["churn.csv"], name, "tabular")
    return name


def test_datasets_upload_list_show_delete(cli: Cli, files: dict[str, Path]) -> None:
    name = unique("churn")
    upload = cli("datasets", "upload", str(files["churn.csv"]), "--name", name, "--kind", "tabular",
                 "--description", "who leaves")
    assert f"Stored {cli.tenant.org}/{name} version 1" in upload.err
    assert "rows" in upload.out and "300" in upload.out and "tenure" in upload.out
    listed = cli("datasets", "list", "--json").json()
    assert name in [d["name"] for d in listed["items"]] and "next_cursor" in listed
    shown = cli("datasets", "show", name, "--version", "1", "--json").json()
    assert (shown["rows"], shown["source_filename"]) == (300, "churn.csv")
    cli("datasets", "delete", name, "--yes")
    gone = cli("datasets", "show", name, expect=1)
    assert "not_found" in gone.err and "request id:" in gone.err


def test_train_follow_and_inspect_a_model(cli: Cli, dataset: str) -> None:
    model = unique("churn-model")
    assert "classify/lightgbm" in cli("recipes", "list").out
    trained = cli("jobs", "submit", "classify/lightgbm", "--model", model, "--dataset", dataset,
                  "--param", "num_boost_round=10", "--param", "learning_rate=0.1", "--wait")
    assert "succeeded" in trained.out and "Queued job" in trained.err
    job = cli("jobs", "list", "--model", model, "--json").json()["items"][0]
    assert (job["state"], job["params"]["num_boost_round"], job["params"]["learning_rate"]) == ("succeeded", 10, 0.1)
    logs = cli("jobs", "logs", job["id"]).out
    assert "registered" in logs and "INFO" in logs
    assert cli("jobs", "wait", job["id"], "--json").json()["result"]["version"] == 1

    cli("models", "alias", model, "production", "1")
    shown = cli("models", "show", f"{cli.tenant.org}/{model}", "--json").json()
    assert (shown["aliases"], shown["latest_version"]) == ({"production": 1}, 1)
    versions = cli("models", "versions", model, "--json").json()["items"]
    assert versions[0]["metrics"]["accuracy"] > 0.5 and versions[0]["aliases"] == ["production"]


def test_failed_job_exits_1_with_its_error(cli: Cli, dataset: str) -> None:
    failed = cli("jobs", "submit", "classify/lightgbm", "--model", unique("m"), "--dataset", dataset,
                 "--param", "target=no_such_column", "--wait", expect=1)
    assert "failed" in failed.err and "no_such_column" in failed.err


def test_a_failed_job_is_retried_as_its_next_attempt(cli: Cli, dataset: str) -> None:
    model = unique("m")
    cli("jobs", "submit", "classify/lightgbm", "--model", model, "--dataset", dataset,
        "--param", "target=no_such_column", "--wait", expect=1)
    job = cli("jobs", "list", "--model", model, "--json").json()["items"][0]
    assert (job["state"], job["attempts"]) == ("failed", 1)
    again = cli("jobs", "retry", job["id"], "--follow", "--json", expect=1).json()
    assert (again["id"], again["state"], again["attempts"]) == (job["id"], "failed", 2)
    assert again["recipe"] == job["recipe"] and again["params"] == job["params"]
    assert again["dataset_version_id"] == job["dataset_version_id"]
    refused = cli("jobs", "retry", unique("no-such-job"), expect=1)
    assert "not found" in refused.err.lower()


def test_models_registry_marketplace_and_deployments(cli: Cli, files: dict[str, Path],
                                                    sqlite_server: LiveServer) -> None:
    model, tag = unique("recs"), unique("tag")
    cli("models", "create", model, "--task", "classify", "--description", "who leaves", "--tag", tag,
        "--card", str(files["card.md"]))
    with cli.tenant.client() as client:
        client.models.upload_version(cli.tenant.org, model, files["model.txt"], VersionMeta(runtime="lightgbm"))
    uploaded = cli("models", "upload", model, str(files["model.txt"]), "--runtime", "lightgbm",
                   "--metrics", '{"auc": 0.8}', "--json").json()
    assert (uploaded["version"], uploaded["format"], uploaded["metrics"]) == (2, "lightgbm", {"auc": 0.8})
    assert model in [m["name"] for m in cli("models", "list", "--all", "--json").json()["items"]]
    deployment = cli("deployments", "set", model, "--route", "1:90", "--route", "2:10", "--max-batch-size", "8",
                     "--json").json()
    assert [(r["version"], r["weight"]) for r in deployment["routes"]] == [(1, 90), (2, 10)]
    assert "v1 weight 90, v2 weight 10" in cli("deployments", "show", model).out
    cli("models", "alias", model, "staging", "2")
    assert "Removed alias staging" in cli("models", "unalias", model, "staging").err
    cli("models", "update", model, "--visibility", "public")

    other = new_sdk_tenant(sqlite_server, prefix="cli-forker")
    found = cli("models", "search", "--tag", tag, "--json", LIMELIGHT_API_KEY=other.key).json()["items"]
    assert [(m["org"], m["name"], m["card"]) for m in found] == [(cli.tenant.org, model, files["card.md"].read_text())]
    fork = cli("models", "fork", f"{cli.tenant.org}/{model}", "--name", "mine", "--json",
               LIMELIGHT_API_KEY=other.key).json()
    assert (fork["org"], fork["name"], fork["forked_from"]) == (other.org, "mine", f"{cli.tenant.org}/{model}@2")


def test_audit_list_and_verify(cli: Cli) -> None:
    entries = cli("audit", "list", "--action", "org.create", "--json").json()["items"]
    assert [e["object_id"] for e in entries] == [cli.tenant.org]
    assert "Audit chain intact" in cli("audit", "verify").err


def test_datasets_upload_images_refuses_an_unreadable_picture_unless_told_to_skip_it(cli: Cli, tmp_path: Path) -> None:
    from tests.datasets_images.archives import labelled, zip_of

    archive = tmp_path / "insects.zip"
    archive.write_bytes(zip_of(labelled(2) | {"ants/notes.jpg": b"not a picture"}))
    name = unique("insects")
    refused = cli("datasets", "upload", str(archive), "--name", name, "--kind", "images", expect=1)
    assert "dataset_invalid" in refused.err and "ants/notes.jpg" in refused.err
    kept = cli("datasets", "upload", str(archive), "--name", name, "--kind", "images", "--skip-invalid",
               "--json").json()
    assert kept["rows"] == 4
    assert [(f["path"], f["reason"]) for f in kept["profile"]["files"]] == [("ants/notes.jpg", "not_an_image")]


def test_datasets_upload_images_with_a_labels_csv_beside_the_archive(cli: Cli, tmp_path: Path) -> None:
    from tests.datasets_images.archives import picture, zip_of

    archive, table = tmp_path / "posters.zip", tmp_path / "posters.csv"
    archive.write_bytes(zip_of({f"{i}.png": picture((i * 40, 9, 9), "PNG", seed=i) for i in range(4)}))
    table.write_text("path,label\n" + "".join(f"{i}.png,{'comedy' if i % 2 else 'drama'}\n" for i in range(4)))
    stored = cli("datasets", "upload", str(archive), "--name", unique("posters"), "--kind", "images",
                 "--labels", str(table), "--json").json()
    assert stored["profile"]["labels"] == {"comedy": 2, "drama": 2}
