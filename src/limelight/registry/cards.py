"""Model cards: the owner's prose, plus facts generated from the run that trained the version.

The facts (recipe, parameters, data, metrics, candidates of an ``auto`` recipe, the example call's
in-process latency, input and output schema, limitations) come from the version's ``card_facts``,
``metrics`` and ``signature``: owners edit the prose (``model.card``), never the facts. The
snippets call the model with the example the recipe took from its training data, so each one
runs as printed (the test suite runs every kind against a live server).
"""

from __future__ import annotations

import json
import pprint
from typing import Any

from limelight.schemas.registry import CardSnippet, ModelCard, ModelRead, ModelVersionRead

_MAX_METRIC_ROWS = 40


def build_card(model: ModelRead, version: ModelVersionRead | None, base_url: str) -> ModelCard:
    facts = (version.card_facts or {}) if version is not None else {}
    example = facts.get("example")
    return ModelCard(
        model=f"{model.org}/{model.name}", version=version.version if version is not None else None,
        prose=model.card, facts=_facts_markdown(model, version, facts) if version is not None else "",
        snippets=_snippets(f"{model.org}/{model.name}", example, base_url.rstrip("/")) if example else [],
        example=example, example_answer=(facts.get("serving") or {}).get("answer"),
    )


# ---- facts ---------------------------------------------------------------------------------

def _facts_markdown(model: ModelRead, version: ModelVersionRead, facts: dict[str, Any]) -> str:
    rows = [("version", f"{version.version} ({version.runtime}, {version.format}, {_size(version.size_bytes)})")]
    if facts.get("recipe"):
        rows.append(("recipe", f"`{facts['recipe']}`"))
    if facts.get("params"):
        rows.append(("parameters", ", ".join(f"`{k}={_short(v)}`" for k, v in sorted(facts["params"].items()))))
    data = facts.get("dataset")
    if data:
        rows.append(("trained on", f"dataset `{data['name']}` v{data['version']} ({data['rows']:,} rows, {data['kind']})"))
    elif not facts.get("recipe"):
        rows.append(("trained", "outside limelight (an uploaded file): no run facts recorded"))
    serving = facts.get("serving")
    if serving:
        rows.append(("latency (in process)", f"p50 {serving['p50_ms']} ms, p99 {serving['p99_ms']} ms over "
                                              f"{serving['calls']} calls of the example, measured at registration"))
    if model.forked_from:
        rows.append(("forked from", f"`{model.forked_from}`"))
    parts = ["## Facts", "", "Generated from the run that made this version; the owners' text is above.", "",
             "| | |", "|---|---|", *[f"| {k} | {v} |" for k, v in rows]]
    parts += _schema_section(version.signature)
    parts += _metrics_section(version.metrics, facts.get("candidates"))
    limitations = facts.get("limitations") or []
    if limitations:
        parts += ["", "### Limitations", "", *[f"- {line}" for line in limitations]]
    return "\n".join(parts) + "\n"


def _schema_section(signature: dict[str, Any]) -> list[str]:
    lines = []
    for side in ("inputs", "outputs"):
        for spec in signature.get(side) or []:
            names = spec.get("names")
            shape = "×".join("n" if d == -1 else str(d) for d in spec.get("shape", []))
            described = f"`{spec.get('name', side)}` {spec.get('dtype', '')} [{shape}]"
            if names:
                described += ": " + ", ".join(f"`{n}`" for n in names[:30]) + (" …" if len(names) > 30 else "")
            lines.append(f"| {side[:-1]} | {described} |")
    if signature.get("labels"):
        lines.append("| labels | " + ", ".join(f"`{label}`" for label in signature["labels"][:30]) + " |")
    return ["", "### Input and output", "", "| | |", "|---|---|", *lines] if lines else []


def _metrics_section(metrics: dict[str, Any], recorded_candidates: Any) -> list[str]:
    scalars = [(k, v) for k, v in sorted(metrics.items()) if isinstance(v, int | float) and not isinstance(v, bool)]
    lines = []
    if scalars:
        lines += ["", "### Metrics", "", "| metric | value |", "|---|---|",
                  *[f"| {k} | {_short(v)} |" for k, v in scalars[:_MAX_METRIC_ROWS]]]
    candidates = metrics.get("candidates") or recorded_candidates  # every candidate an ``auto`` recipe tried
    if isinstance(candidates, list) and candidates and all(isinstance(c, dict) for c in candidates):
        columns = list(dict.fromkeys(key for c in candidates for key in c))[:8]
        lines += ["", "### Candidates compared", "", "| " + " | ".join(columns) + " |",
                  "|" + "---|" * len(columns),
                  *["| " + " | ".join(_short(c.get(col, "")) for col in columns) + " |" for c in candidates]]
    return lines


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:59] + "…"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


# ---- snippets ------------------------------------------------------------------------------

def _snippets(ref: str, example: dict[str, Any], base_url: str) -> list[CardSnippet]:
    verb, body = example["verb"], example["body"]
    payload = json.dumps(body, ensure_ascii=False)
    quoted = "'" + payload.replace("'", "'\\''") + "'"
    found = [
        CardSnippet(kind="curl", label="curl", code=(
            f"curl -s -X POST '{base_url}/v1/models/{ref}:{verb}' \\\n"
            f"  -H \"Authorization: Bearer $LIMELIGHT_API_KEY\" -H 'Content-Type: application/json' \\\n"
            f"  -d {quoted}\n")),
        CardSnippet(kind="python", label="Python SDK", code=(
            "import os\n\nfrom limelight.client import Client\n\n"
            f"client = Client({base_url!r}, api_key=os.environ[\"LIMELIGHT_API_KEY\"])\n"
            f"answer = client.invoke({ref!r}, {verb!r}, {pprint.pformat(body, width=88, sort_dicts=False)})\n"
            "print(answer)\n")),
        CardSnippet(kind="cli", label="CLI", code=(
            f"LIMELIGHT_URL={base_url} limelight invoke {ref} {verb} {quoted}\n")),
    ]
    limit = f", max_tokens={int(body['max_tokens'])}" if isinstance(body.get("max_tokens"), int) else ""
    if verb == "chat":
        found.append(_openai(base_url, f"chat.completions.create(model={ref!r}, "
                                       f"messages={body.get('messages', [])!r}{limit})", "message.content"))
    elif verb == "complete":
        found.append(_openai(base_url, f"completions.create(model={ref!r}, prompt={body.get('prompt', '')!r}{limit})",
                             "text"))
    return found


def _openai(base_url: str, call: str, answer: str) -> CardSnippet:
    """The same call through the ``openai`` client (chat and completions, the two it has)."""
    return CardSnippet(kind="openai", label="Python (openai)", code=(
        "import os\n\nfrom openai import OpenAI\n\n"
        f"client = OpenAI(base_url={base_url + '/v1'!r}, api_key=os.environ[\"LIMELIGHT_API_KEY\"])\n"
        f"reply = client.{call}\n"
        f"print(reply.choices[0].{answer})\n"))
