"""Prompt templates through a real server: upload checks, ``:generate`` on the real SmolLM2 (whole and
streamed), schema-valid JSON outputs, melodies as MIDI and WAV, built-ins forked across orgs."""

from __future__ import annotations

import base64
import io
import json
import shutil
from typing import Any

import httpx
import jsonschema
import mido
import orjson
import pytest

from limelight.generation.builtin_templates import builtin_template, builtin_template_bytes
from tests.serving.conftest import Served, create_model
from tests.support.factories import Tenant, error_code, new_tenant, ok
from tests.support.live_server import LiveServer

pytest.importorskip("llama_cpp")
PARAMS = {"n_ctx": 1024, "n_threads": 1}  # one small generating process per template version


def template(**changes: Any) -> dict[str, Any]:
    return {"format": "limelight.template/1", "title": "Tagline", "system": "You are terse.",
            "prompt": "Write a tagline for a {{ genre }} film{% if city %} set in {{ city }}{% endif %}.",
            "variables": [{"name": "genre", "max_chars": 30}, {"name": "city", "required": False}],
            "output": {"kind": "text"}, "generation": {"max_tokens": 16, "temperature": 0.7}, **changes}


def upload(model: Served, document: dict[str, Any] | bytes, params: dict[str, Any] | None = None) -> httpx.Response:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    meta = {"runtime": "prompt-template", "params": PARAMS if params is None else params}
    with model.client() as client:
        client.timeout = 120
        return client.post(f"/api/v1/orgs/{model.org}/models/{model.name}/versions",
                           files={"file": ("template.json", raw)}, data={"meta": json.dumps(meta)})


def generate(model: Served, body: dict[str, Any], client: httpx.Client | None = None) -> httpx.Response:
    with client or model.client() as c:
        c.timeout = 180
        return c.post(f"{model.path}:generate", json=body)


def sse_events(response: httpx.Response) -> list[dict[str, Any]]:
    return [orjson.loads(block.removeprefix("data: ")) for block in response.text.split("\n\n")
            if block.startswith("data: ") and block != "data: [DONE]"]


@pytest.fixture(scope="module")
def tenant(sqlite_server: LiveServer) -> Tenant:
    return new_tenant(sqlite_server)


@pytest.fixture(scope="module")
def tagline(tenant: Tenant) -> Served:
    model = create_model(tenant, task="generate")
    assert ok(upload(model, template()))["version"] == 1
    return model


def upload_builtin(tenant: Tenant, name: str, visibility: str = "private") -> Served:
    model = create_model(tenant, task="generate", visibility=visibility)
    assert upload(model, builtin_template_bytes(name)).status_code == 201
    return model


@pytest.mark.parametrize(("document", "field"), [
    (template(prompt="{% if genre %}unclosed"), "template.prompt"),
    (template(output={"kind": "screenplay"}), "template.output"),
    (template(output={"kind": "json", "schema": {"type": "object", "required": "name"}}), "template.output.schema"),
    (template(prompt="{{ genre.__class__.__mro__ }}"), "template.prompt"),
    (template(prompt="{{ ''.__class__ }}"), "template.prompt"),
])
def test_bad_templates_are_refused_at_upload_and_nothing_is_registered(tenant: Tenant, document: dict[str, Any],
                                                                        field: str) -> None:
    model = create_model(tenant, task="generate")
    refused = upload(model, document)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"]["field"] == field
    with model.client() as client:
        assert ok(client.get(f"/api/v1/orgs/{model.org}/models/{model.name}"))["latest_version"] == 0


def test_generate_fills_the_variables_and_answers_text_usage_and_version(tagline: Served) -> None:
    reply = generate(tagline, {"variables": {"genre": "heist", "city": "Lisbon"}, "max_tokens": 8, "seed": 3})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["text"] and body["output"] is None and body["finish_reason"] in ("stop", "length")
    assert body["model"] == f"{tagline.org}/{tagline.name}" and body["version"] == 1
    usage = body["usage"]
    assert 1 <= usage["completion_tokens"] <= 8 and usage["prompt_tokens"] > 10
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


@pytest.mark.parametrize(("variables", "named"), [
    ({"genre": "noir", "budget": "huge"}, "budget"),
    ({"city": "Oslo"}, "genre"),
    ({"genre": "x" * 31}, "genre"),
])
def test_bad_variables_are_422_naming_the_variable(tagline: Served, variables: dict[str, Any], named: str) -> None:
    reply = generate(tagline, {"variables": variables})
    assert reply.status_code == 422 and error_code(reply) == "validation_failed"
    assert reply.json()["error"]["details"]["variable"] == named


def test_streaming_sends_deltas_then_an_end_event_matching_the_whole_reply(tagline: Served) -> None:
    body = {"variables": {"genre": "western"}, "max_tokens": 10, "seed": 5, "temperature": 0.9}
    whole = ok(generate(tagline, body))
    streamed = generate(tagline, {**body, "stream": True})
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/event-stream")
    events = sse_events(streamed)
    assert events[0]["event"] == "start" and events[0]["version"] == 1
    assert events[-1]["event"] == "end" and events[-1]["output"] is None
    assert events[-1]["completion_tokens"] == whole["usage"]["completion_tokens"]
    assert "".join(e["text"] for e in events if e["event"] == "delta") == whole["text"]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "variables"), [
    ("character-sheet", {"genre": "noir", "concept": "a tired detective who hates the rain"}),
    ("game-quest", {"setting": "dark fantasy", "theme": "a stolen bell"}),
])
def test_structured_templates_answer_json_that_validates_against_their_schema(tenant: Tenant, name: str,
                                                                              variables: dict[str, str]) -> None:
    model = upload_builtin(tenant, name)
    body = ok(generate(model, {"variables": variables, "seed": 2}))
    assert body["finish_reason"] == "stop", body
    jsonschema.validate(body["output"], builtin_template(name).output.json_schema)  # type: ignore[union-attr]
    assert json.loads(body["text"]) == body["output"]


@pytest.mark.slow
def test_melody_answers_abc_midi_and_audio(tenant: Tenant) -> None:
    model = upload_builtin(tenant, "melody")
    body = ok(generate(model, {"variables": {"mood": "cheerful"}, "seed": 4}))
    melody = body["output"]
    assert melody["abc"] == body["text"] and melody["abc"].startswith("X:1\nT:")
    midi = mido.MidiFile(file=io.BytesIO(base64.b64decode(melody["midi_base64"])))
    assert sum(1 for m in midi if m.type == "note_on" and m.velocity > 0) >= 8
    if shutil.which("fluidsynth"):
        wav = base64.b64decode(melody["audio_base64"])
        assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE" and melody["audio_media_type"] == "audio/wav"
    else:
        assert melody["audio_base64"] is None and "fluidsynth" in melody["audio_unavailable"]


@pytest.mark.slow
def test_a_public_builtin_can_be_forked_and_called_by_another_org(sqlite_server: LiveServer, tenant: Tenant) -> None:
    public = upload_builtin(tenant, "logline", visibility="public")
    other = new_tenant(sqlite_server)
    with other.client() as client:
        fork = ok(client.post(f"/api/v1/orgs/{public.org}/models/{public.name}/fork",
                              json={"org": other.org, "name": "my-logline"}))
    assert fork["forked_from"].startswith(f"{public.org}/{public.name}@")
    forked = Served(other, "my-logline")
    body = ok(generate(forked, {"variables": {"genre": "comedy", "premise": "two rival bakers"}, "max_tokens": 6}))
    assert body["text"] and body["model"] == f"{other.org}/my-logline"
    # the original is callable by the other org too (public), under its own name
    assert generate(public, {"variables": {"genre": "comedy", "premise": "bakers"}, "max_tokens": 4},
                    client=other.client()).status_code == 200


def test_another_orgs_private_template_is_not_found(sqlite_server: LiveServer, tagline: Served) -> None:
    stranger = new_tenant(sqlite_server)
    reply = generate(tagline, {"variables": {"genre": "noir"}}, client=stranger.client())
    assert reply.status_code == 404 and error_code(reply) == "not_found"
    with stranger.client() as client:
        assert client.get(f"/api/v1/orgs/{tagline.org}/models/{tagline.name}").status_code == 404
        fork = client.post(f"/api/v1/orgs/{tagline.org}/models/{tagline.name}/fork", json={"org": stranger.org})
        assert fork.status_code == 404


@pytest.mark.slow
def test_a_template_generates_with_its_orgs_llm_as_base_model(sqlite_server: LiveServer, tenant: Tenant) -> None:
    from tests.generation.openai_support import upload_llm

    base = upload_llm(tenant)
    model = create_model(tenant, task="generate")
    ok(upload(model, template(base_model=f"{base.org}/{base.name}"), params={}))
    body = ok(generate(model, {"variables": {"genre": "space opera"}, "max_tokens": 5, "seed": 1}))
    assert body["text"] and body["usage"]["completion_tokens"] <= 5
    # another org's private llm is not found, whoever names it
    stranger = new_tenant(sqlite_server)
    theirs = create_model(stranger, task="generate")
    ok(upload(theirs, template(base_model=f"{base.org}/{base.name}"), params={}))
    refused = generate(theirs, {"variables": {"genre": "space opera"}, "max_tokens": 5})
    assert refused.status_code == 404 and error_code(refused) == "not_found"


@pytest.mark.slow
def test_builtins_register_once_as_public_production_models(sqlite_server: LiveServer) -> None:
    from limelight.artifacts.registry import open_store
    from limelight.db.session import open_database
    from limelight.generation.builtin_templates import BUILTIN_TEMPLATES, register_builtin_templates
    from tests.support.factories import org_principal

    owner = new_tenant(sqlite_server)
    db = open_database(sqlite_server.env["LIMELIGHT_DATABASE_URL"])
    store = open_store(sqlite_server.env["LIMELIGHT_ARTIFACTS_URL"])
    try:
        for expected in (list(BUILTIN_TEMPLATES), []):  # the second run adds nothing
            with db.transaction() as session:
                assert register_builtin_templates(session, org_principal(session, owner.org), owner.org, store) == expected
    finally:
        db.dispose()
    with owner.client() as client:
        synopsis = ok(client.get(f"/api/v1/orgs/{owner.org}/models/synopsis"))
    assert synopsis["visibility"] == "public" and synopsis["aliases"] == {"production": 1}
    body = ok(generate(Served(owner, "synopsis"), {"variables": {"logline": "A baker rivals a spy."}, "max_tokens": 4}))
    assert body["version"] == 1 and body["text"]


def test_a_template_version_must_be_json(tenant: Tenant) -> None:
    from tests.support.factories import npz_bytes

    refused = upload(create_model(tenant, task="generate"), npz_bytes())
    assert refused.status_code == 415 and error_code(refused) == "unsafe_artifact_format"


def test_a_json_output_cut_short_by_max_tokens_is_reported_not_parsed(tenant: Tenant) -> None:
    model = upload_builtin(tenant, "character-sheet")
    body = ok(generate(model, {"variables": {"genre": "noir", "concept": "a detective"}, "max_tokens": 5}))
    assert body["finish_reason"] == "length" and body["usage"]["completion_tokens"] == 5
    assert body["output"] is None and body["output_error"]["code"] == "output_truncated"


def test_the_sdk_generates_whole_and_streamed_and_raises_the_servers_errors(tagline: Served) -> None:
    from limelight.client import AsyncClient, Client
    from limelight.errors import ValidationFailed

    server, key = tagline.tenant.server, tagline.tenant.key
    variables = {"genre": "musical"}
    with Client(server.url, key, timeout=120) as client:
        whole = client.generate(f"{tagline.org}/{tagline.name}", variables, max_tokens=6, seed=9)
        events = list(client.generate_stream(f"{tagline.org}/{tagline.name}", variables, max_tokens=6, seed=9))
        with pytest.raises(ValidationFailed) as caught:
            list(client.generate_stream(f"{tagline.org}/{tagline.name}", {"plot": "x"}))
    assert caught.value.details["variable"] == "plot"
    assert [e["event"] for e in events][0] == "start" and events[-1]["event"] == "end"
    assert "".join(e["text"] for e in events if e["event"] == "delta") == whole["text"]

    async def run() -> dict[str, Any]:
        async with AsyncClient(server.url, key, timeout=120) as client:
            return await client.generate(f"{tagline.org}/{tagline.name}", variables, max_tokens=6, seed=9)

    import asyncio

    assert asyncio.run(run())["text"] == whole["text"]


def test_an_uploaded_template_version_carries_its_variables_in_the_signature(tagline: Served) -> None:
    with tagline.client() as client:
        version = ok(client.get(f"/api/v1/orgs/{tagline.org}/models/{tagline.name}/versions/1"))
    signature = version["signature"]
    assert [v["name"] for v in signature["variables"]] == ["genre", "city"]
    assert signature["variables"][0] == {"name": "genre", "description": "", "required": True, "max_chars": 30,
                                         "default": None}
    assert signature["output"] == "text" and signature["defaults"] == {"max_tokens": 16, "temperature": 0.7}
