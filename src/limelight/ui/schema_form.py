"""A training form drawn from a recipe's JSON schema, and the form's answers turned back into params.

Only the shape is handled here (which input, which default, numbers parsed as numbers); the
recipe's pydantic model still validates the values when the job is submitted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from limelight.errors import InvalidParams

FIELD_PREFIX = "param."


@dataclass(frozen=True)
class ParamField:
    name: str
    label: str
    kind: str  # int | float | bool | text | choice | json
    default: Any
    description: str = ""
    required: bool = False
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: list[str] = field(default_factory=list)

    @property
    def input_name(self) -> str:
        return FIELD_PREFIX + self.name

    @property
    def input_id(self) -> str:
        return "param-" + self.name.replace("_", "-")

    @property
    def step(self) -> str:
        return "1" if self.kind == "int" else "any"

    @property
    def default_text(self) -> str:
        if self.default is None:
            return ""
        if self.kind == "json":
            return json.dumps(self.default)
        return str(self.default)


def param_fields(schema: Mapping[str, Any]) -> list[ParamField]:
    required = set(schema.get("required", []))
    defs = schema.get("$defs", {})
    return [_field(name, _resolve(prop, defs), name in required) for name, prop in schema.get("properties", {}).items()]


def _resolve(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """Inline a ``$ref`` and unwrap ``anyOf: [X, null]`` (an optional X), keeping the outer keys."""
    merged = dict(prop)
    if "$ref" in merged:
        merged = {**defs.get(str(merged.pop("$ref")).rsplit("/", 1)[-1], {}), **merged}
    options = merged.get("anyOf")
    if options:
        real = [o for o in options if o.get("type") != "null"]
        if len(real) == 1:
            merged = {**_resolve(real[0], defs), **{k: v for k, v in merged.items() if k != "anyOf"}}
            merged["nullable"] = True
    return merged


def _field(name: str, prop: Mapping[str, Any], required: bool) -> ParamField:
    kind = _kind(prop)
    minimum = prop.get("minimum", prop.get("exclusiveMinimum"))
    maximum = prop.get("maximum", prop.get("exclusiveMaximum"))
    return ParamField(
        name=name, label=str(prop.get("title") or name.replace("_", " ")).capitalize(), kind=kind,
        default=prop.get("default"), description=str(prop.get("description", "")), required=required,
        nullable=bool(prop.get("nullable")), minimum=minimum, maximum=maximum,
        choices=[str(c) for c in prop.get("enum", [])],
    )


def _kind(prop: Mapping[str, Any]) -> str:
    if prop.get("enum"):
        return "choice"
    return {"integer": "int", "number": "float", "boolean": "bool", "string": "text"}.get(str(prop.get("type")), "json")


def params_from_form(fields: list[ParamField], form: Mapping[str, Any]) -> dict[str, Any]:
    """Form answers → params; an empty answer leaves the recipe's default in place."""
    params: dict[str, Any] = {}
    for spec in fields:
        if spec.kind == "bool":
            params[spec.name] = form.get(spec.input_name) in ("on", "true", "1")
            continue
        raw = str(form.get(spec.input_name, "")).strip()
        if raw == "":
            continue
        params[spec.name] = _parse(spec, raw)
    return params


def _parse(spec: ParamField, raw: str) -> Any:
    try:
        if spec.kind == "int":
            return int(raw)
        if spec.kind == "float":
            return float(raw)
        if spec.kind == "json":
            return json.loads(raw)
    except ValueError as exc:
        expected = {"int": "a whole number", "float": "a number", "json": "JSON"}[spec.kind]
        raise InvalidParams(f"{spec.label}: expected {expected}, got {raw[:40]!r}.",
                            details={"fields": [{"field": f"params.{spec.name}", "reason": f"expected {expected}"}]},
                            ) from exc
    return raw
