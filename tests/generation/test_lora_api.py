"""``generate/lora`` end to end through a real server: a documents dataset in, a few LoRA steps, a
GGUF version on the ``llm`` runtime that llama.cpp serves, perplexities on the version; bad params 400."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest

from tests.support.factories import error_code, new_tenant, ok, wait_for_job
from tests.support.live_server import LiveServer, start_live_server
from tests.support.snippets import card_of, run_snippets

PLOTS = [
    "A retired detective returns to the city to find the man who framed his partner.",
    "Two sisters inherit a haunted lighthouse and uncover their family's secret.",
    "A young chef enters a cooking contest to save her grandmother's restaurant.",
    "An astronaut stranded on Mars must grow food to survive until rescue arrives.",
    "A group of friends plans one last heist before going their separate ways.",
    "A shy teenager discovers she can hear the thoughts of everyone around her.",
    "A disgraced boxer trains an unlikely fighter for the championship of his life.",
    "A journalist investigates a string of disappearances in a remote mountain town.",
    "A robot built to clean a space station learns to paint and questions its purpose.",
    "A small-town sheriff faces a gang that takes over the local bank.",
    "An orphan boy befriends a dragon hiding in the forest near his village.",
    "A violinist loses her hearing and must find a new way to make music.",
]
TINY = {"max_steps": 2, "block_size": 32, "batch_size": 2, "rank": 4, "alpha": 8, "eval_every_steps": 1,
        "validation_share": 0.25, "time_budget_minutes": 5, "threads": 1, "seed": 1}


def _csv(columns: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _upload(client, org: str, name: str, kind: str, data: bytes) -> None:  # type: ignore[no-untyped-def]
    ok(client.post(f"/api/v1/orgs/{org}/datasets", files={"file": (f"{name}.csv", data)},
                   data={"name": name, "kind": kind}))


def _submit(client, org: str, dataset: str, params: dict):  # type: ignore[no-untyped-def, type-arg]
    return client.post(f"/api/v1/orgs/{org}/jobs", json={"recipe": "generate/lora", "dataset": dataset,
                                                          "model": "plots-llm", "promote": "production",
                                                          "params": params})


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose worker trains and whose llm runtime serves on one thread (a shared machine)."""
    home = tmp_path_factory.mktemp("lora")
    server = start_live_server(home, f"sqlite:///{home / 'meta.db'}", LIMELIGHT_GENERATION__N_THREADS="1",
                               LIMELIGHT_GENERATION__N_CTX="512")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def lora_tenant(live: LiveServer):  # type: ignore[no-untyped-def]
    tenant = new_tenant(live)
    with tenant.client() as client:
        _upload(client, tenant.org, "plots", "documents", _csv(["doc_id", "text"],
                                                               [[str(i), t] for i, t in enumerate(PLOTS)]))
        _upload(client, tenant.org, "reviews", "labeled_text", _csv(["text", "label"],
                                                                    [[t, "x"] for t in PLOTS]))
        job = ok(_submit(client, tenant.org, "plots", TINY))
        tenant.job = wait_for_job(client, tenant.org, job["id"], timeout_s=600)  # type: ignore[attr-defined]
    assert tenant.job["state"] == "succeeded", tenant.job  # type: ignore[attr-defined]
    return tenant


def test_lora_job_registers_an_llm_version_with_perplexities(lora_tenant) -> None:  # type: ignore[no-untyped-def]
    result = lora_tenant.job["result"]
    metrics = result["metrics"]
    assert metrics["perplexity_before"] > 1 and metrics["perplexity_after"] > 1
    assert metrics["perplexity_drop"] == pytest.approx(1 - metrics["perplexity_after"] / metrics["perplexity_before"])
    assert metrics["perplexity_after"] <= metrics["perplexity_before"]  # the best evaluation is kept, step 0 included
    assert metrics["steps"] == 2 and result["summary"]["replaced_tensors"] == 30 * 4
    with lora_tenant.client() as client:
        version = ok(client.get(f"/api/v1/orgs/{lora_tenant.org}/models/plots-llm/versions/1"))
    assert version["runtime"] == "llm" and version["format"] == "gguf"
    assert version["metrics"]["perplexity_before"] == metrics["perplexity_before"]
    assert version["signature"]["gguf"]["architecture"] == "llama" and version["signature"]["gguf"]["chat_template"]


def test_the_written_gguf_is_served_by_llama_cpp(lora_tenant) -> None:  # type: ignore[no-untyped-def]
    with lora_tenant.client() as client:
        answer = client.post(f"/v1/models/{lora_tenant.org}/plots-llm:predict",
                             json={"inputs": ["Write one sentence about a detective."]}, timeout=180)
    body = ok(answer)
    assert body["version"] == 1 and isinstance(body["outputs"][0], str) and body["outputs"][0].strip()


def test_labeled_text_is_accepted_and_other_kinds_refused(lora_tenant) -> None:  # type: ignore[no-untyped-def]
    with lora_tenant.client() as client:
        items = _csv(["item_id", "title"], [["1", "A"], ["2", "B"]])
        _upload(client, lora_tenant.org, "catalog", "items", items)
        refused = _submit(client, lora_tenant.org, "catalog", TINY)
        accepted = ok(_submit(client, lora_tenant.org, "reviews", TINY))
        ok(client.post(f"/api/v1/orgs/{lora_tenant.org}/jobs/{accepted['id']}/cancel"))
        ended = wait_for_job(client, lora_tenant.org, accepted["id"], timeout_s=120)
    assert refused.status_code == 400 and error_code(refused) == "invalid_params"
    assert ended["state"] == "cancelled"


@pytest.mark.parametrize(("params", "field"), [
    ({"time_budget_minutes": 0}, "params.time_budget_minutes"),
    ({"rank": 0}, "params.rank"),
    ({"block_size": 100_000}, "params.block_size"),
    ({"validation_share": 1.5}, "params.validation_share"),
    ({"learning_rate": "fast"}, "params.learning_rate"),
    ({"stored_type": "Q2_K"}, "params.stored_type"),
    ({"epochs": 3}, "params.epochs"),
])
def test_bad_params_are_refused_naming_the_field(lora_tenant, params, field) -> None:  # type: ignore[no-untyped-def]
    with lora_tenant.client() as client:
        response = _submit(client, lora_tenant.org, "plots", params)
        jobs = ok(client.get(f"/api/v1/orgs/{lora_tenant.org}/jobs"))
    assert response.status_code == 400 and error_code(response) == "invalid_params"
    assert response.json()["error"]["details"]["fields"][0]["field"] == field
    assert sum(1 for j in jobs["items"] if j["recipe"] == "generate/lora") <= 2  # nothing half-written


def test_the_cards_snippets_continue_the_example_prompt_as_printed(lora_tenant) -> None:  # type: ignore[no-untyped-def]
    card = card_of(lora_tenant, "plots-llm")
    example = card["example"]
    assert example["verb"] == "complete"
    assert any(plot.split()[:12] == example["body"]["prompt"].split() for plot in PLOTS)  # a text's opening
    assert "calls of the example, measured at registration" in card["facts"]  # the probe timed the generation
    answers = run_snippets(card, lora_tenant.key)
    assert set(answers) == {"curl", "python", "cli", "openai"}
    for kind in ("curl", "python", "cli"):
        assert answers[kind]["text"] and answers[kind]["model"].endswith("/plots-llm"), (kind, answers[kind])
