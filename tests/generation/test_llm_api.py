"""The llm runtime through a real server: the GGUF upload route, the sandboxed validator (which
really loads llama.cpp), ``:predict``, crafted files refused 422, and a generating process killed
mid-request. After every refusal or crash the API process is still up and answering."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.generation.crafted import CRAFTED, CraftedGGUF, gguf_llama_cpp_refuses
from tests.support.factories import error_code, ok
from tests.support.live_server import LiveServer, start_live_server

MODEL = "smollm2"
STORY = "Once upon a time, in a small village by the sea,"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("llm")
    server = start_live_server(home, f"sqlite:///{home / 'meta.db'}", LIMELIGHT_WORKER__PROCESSES="0",
                               LIMELIGHT_GENERATION__N_THREADS="1", LIMELIGHT_GENERATION__N_CTX="512")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def served(live: LiveServer, model_path: Path) -> dict:  # type: ignore[type-arg]
    """The real SmolLM2 GGUF uploaded as a version of ``smollm2`` and promoted."""
    with live.client() as client:
        ok(client.post(f"/api/v1/orgs/{live.org}/models", json={"name": MODEL, "task": "generate"}))
        with model_path.open("rb") as handle:
            version = ok(client.post(f"/api/v1/orgs/{live.org}/models/{MODEL}/versions",
                                     files={"file": (model_path.name, handle)},
                                     data={"meta": json.dumps({"runtime": "llm"})}))
        ok(client.put(f"/api/v1/orgs/{live.org}/models/{MODEL}/aliases/production",
                      json={"version": version["version"]}))
    return version


def _predict(live: LiveServer, inputs: list[object]) -> httpx.Response:
    with live.client() as client:
        return client.post(f"/v1/models/{live.org}/{MODEL}:predict", json={"inputs": inputs})


def _assert_up(live: LiveServer) -> None:
    assert live.process.poll() is None, live.log_text()[-3000:]
    with live.anonymous() as anonymous:
        assert anonymous.get("/healthz").status_code == 200


def _blobs(live: LiveServer) -> set[str]:
    return {p.name for p in (live.home / "artifacts").rglob("*") if p.is_file()}


def _upload(live: LiveServer, model: str, payload: bytes, runtime: str = "llm") -> httpx.Response:
    with live.client() as client:
        ok(client.post(f"/api/v1/orgs/{live.org}/models", json={"name": model, "task": "generate"}))
        return client.post(f"/api/v1/orgs/{live.org}/models/{model}/versions",
                           files={"file": ("model.gguf", payload)}, data={"meta": json.dumps({"runtime": runtime})})


def test_the_real_gguf_passes_the_validator_and_answers_predict(live: LiveServer, served: dict) -> None:  # type: ignore[type-arg]
    assert served["format"] == "gguf" and served["runtime"] == "llm"
    assert served["validation"]["status"] == "passed" and served["validation"]["network_isolated"] in (True, False)
    assert served["validation"]["libraries"]["llama-cpp-python"] == "0.3.36"
    inputs = ["The capital of France is", {"prompt": "1, 2, 3,", "max_tokens": 4}]
    first = ok(_predict(live, inputs))
    assert first["version"] == served["version"] and len(first["outputs"]) == 2
    assert all(isinstance(text, str) and text for text in first["outputs"])
    assert ok(_predict(live, inputs))["outputs"] == first["outputs"]  # greedy: the same answer again


def test_a_prompt_over_the_context_is_a_400_naming_the_limit(live: LiveServer, served: dict) -> None:  # type: ignore[type-arg]
    response = _predict(live, [{"prompt": "word " * 700, "max_tokens": 4}])
    assert response.status_code == 400 and error_code(response) == "context_length_exceeded"
    assert response.json()["error"]["details"]["limit"] == 512
    _assert_up(live)


CASES = [*CRAFTED, CraftedGGUF("llama-cpp-refuses", gguf_llama_cpp_refuses, "llama.cpp could not load")]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_crafted_gguf_is_refused_422_and_nothing_is_kept(live: LiveServer, model_path: Path,
                                                         case: CraftedGGUF) -> None:
    before = _blobs(live)
    response = _upload(live, f"crafted-{case.name}", case.build(model_path))
    assert response.status_code == 422, response.text
    assert error_code(response) == "artifact_invalid" and case.reason in response.json()["error"]["message"]
    assert response.json()["error"]["details"]["validator"] == "sandbox"
    _assert_up(live)
    with live.client() as client:
        assert ok(client.get(f"/api/v1/orgs/{live.org}/models/crafted-{case.name}"))["latest_version"] == 0
    assert _blobs(live) == before


def test_plain_text_and_gguf_for_another_runtime_are_refused_415(live: LiveServer, model_path: Path) -> None:
    text = _upload(live, "prose", b"Just a note, not a model.\n")
    assert text.status_code == 415 and error_code(text) == "unsafe_artifact_format"
    wrong_runtime = _upload(live, "gguf-as-onnx", model_path.read_bytes()[: 2 << 20], runtime="onnx")
    assert wrong_runtime.status_code == 415 and "runtime llm" in wrong_runtime.json()["error"]["message"]
    _assert_up(live)


def _generating_children(parent: int) -> list[int]:
    """Processes running limelight.generation.child under ``parent``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"limelight.generation.child" in cmdline:
            found.append(int(entry.name))
    return found


def test_killing_the_generating_process_fails_that_request_only(live: LiveServer, served: dict) -> None:  # type: ignore[type-arg]
    ok(_predict(live, ["Hi"]))  # loaded
    (victim,) = _generating_children(live.process.pid)
    answers: list[httpx.Response] = []
    request = threading.Thread(target=lambda: answers.append(
        _predict(live, [{"prompt": STORY, "max_tokens": 400, "temperature": 0.8}])))
    request.start()
    time.sleep(1.0)  # well into its 400 tokens (~50 tokens/s here)
    os.kill(victim, signal.SIGKILL)
    request.join(timeout=30)
    assert answers and answers[0].status_code == 502, answers and answers[0].text
    assert error_code(answers[0]) == "generation_failed"
    _assert_up(live)
    assert ok(_predict(live, [{"prompt": "Hi", "max_tokens": 2}]))["outputs"]  # a new process answers
    assert _generating_children(live.process.pid) not in ([], [victim])


@pytest.mark.parametrize(("params", "field"), [({"n_ctx": 100_000}, "params.n_ctx"),
                                               ({"concurrency": 0}, "params.concurrency"),
                                               ({"temperature": 2}, "params.temperature")])
def test_version_params_out_of_bounds_are_a_400(live: LiveServer, model_path: Path, params: dict,  # type: ignore[type-arg]
                                                field: str) -> None:
    with live.client() as client:
        name = f"params-{field.split('.')[1].replace('_', '-')}"
        ok(client.post(f"/api/v1/orgs/{live.org}/models", json={"name": name, "task": "generate"}))
        with model_path.open("rb") as handle:
            response = client.post(f"/api/v1/orgs/{live.org}/models/{name}/versions",
                                   files={"file": ("model.gguf", handle)},
                                   data={"meta": json.dumps({"runtime": "llm", "params": params})})
    assert response.status_code == 400 and error_code(response) == "invalid_params"
    assert response.json()["error"]["details"]["field"] == field


def test_the_generating_process_inherits_no_settings_or_secrets(live: LiveServer, served: dict) -> None:  # type: ignore[type-arg]
    ok(_predict(live, [{"prompt": "Hi", "max_tokens": 1}]))
    server_env = (Path("/proc") / str(live.process.pid) / "environ").read_bytes().split(b"\0")
    assert any(entry.startswith(b"LIMELIGHT_DATABASE_URL=") for entry in server_env)
    children = _generating_children(live.process.pid)
    assert children
    for child in children:
        names = {entry.split(b"=", 1)[0] for entry in (Path("/proc") / str(child) / "environ").read_bytes().split(b"\0")}
        assert not {name for name in names if name.startswith(b"LIMELIGHT_")}
        assert b"LIMELIGHT_SERVER__METRICS_TOKEN" not in names and b"PATH" in names
