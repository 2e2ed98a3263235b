"""What the generation playgrounds (chat, templates, the support assistant) need from a served version.

Each builder takes the served version and returns the page's template name and context; the page
itself calls the real API (``/v1/chat/completions``, ``:generate``, ``:ask``) with the session.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from limelight.schemas.registry import ModelVersionRead

__all__ = ["GENERATION_PAGES"]

_MAX_VARIABLES = 30


def _chat(served: ModelVersionRead) -> dict[str, Any]:
    details = served.signature.get("model") or {}
    facts = [str(details[k]) for k in ("architecture", "quantization") if details.get(k)]
    if details.get("context_length"):
        facts.append(f"{details['context_length']} tokens of context")
    return {"template": "playground_chat.html", "llm_info": ", ".join(facts)}


def _template(served: ModelVersionRead) -> dict[str, Any]:
    signature = served.signature
    variables = [v for v in signature.get("variables") or [] if isinstance(v, dict) and v.get("name")]
    variables = variables[:_MAX_VARIABLES]
    defaults = signature.get("defaults") or {}
    example = {"variables": {v["name"]: v.get("default") or v["name"] for v in variables if v.get("required")},
               "stream": True}
    return {"template": "playground_template.html", "template_variables": variables,
            "template_output": str(signature.get("output") or "text"),
            "template_max_tokens": int(defaults.get("max_tokens") or 256),
            "template_temperature": float(defaults.get("temperature") or 0.8),
            "template_example": json.dumps(example)}


def _ask(served: ModelVersionRead) -> dict[str, Any]:
    return {"template": "playground_ask.html"}


GENERATION_PAGES: dict[str, Callable[[ModelVersionRead], dict[str, Any]]] = {
    "llm": _chat, "prompt-template": _template, "assistant": _ask}
