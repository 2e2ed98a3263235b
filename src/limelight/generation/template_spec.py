"""The ``limelight.template/1`` document: a creative prompt template as a registry artifact.

A template is a model version with runtime ``prompt-template`` whose artifact is this JSON
document, so versions, aliases, the marketplace, forks and permissions come from the registry.

```json
{"format": "limelight.template/1", "title": "Logline", "description": "…",
 "system": "You are a story editor.",                       # Jinja2, like the prompt
 "prompt": "Write a logline for a {{ genre }} film about {{ premise }}.",
 "variables": [{"name": "genre", "description": "…", "required": true, "max_chars": 40,
                "default": null}],
 "output": {"kind": "text"}                                 # or {"kind": "text", "sections": ["Verse 1", "Chorus"]}
         | {"kind": "json", "schema": {…JSON Schema…}}      # grammar-constrained, validated
         | {"kind": "abc", "bars": 8},                      # a melody in ABC notation
 "generation": {"max_tokens": 256, "temperature": 0.8},
 "base_model": null}                                        # or "org/name" of an `llm` model
```

:func:`parse_template` checks everything that can be checked without a language model (the
Jinja2 source against :mod:`template_render`'s allowlist, the JSON Schema against its metaschema)
and raises ``ArtifactInvalid`` (422) naming the field, so a bad template is refused at upload.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from limelight.errors import ArtifactInvalid
from limelight.generation.template_render import check_sources

__all__ = ["FORMAT", "AbcOutput", "JsonOutput", "TemplateSpec", "TextOutput", "Variable", "parse_template"]

FORMAT = "limelight.template/1"
MAX_TEMPLATE_BYTES = 256 * 1024
_NAME = r"^[a-z_][a-z0-9_]{0,63}$"
_SECTION = r"^[A-Za-z0-9][A-Za-z0-9 ]{0,29}$"
_MODEL_REF = r"^[a-z0-9][a-z0-9_-]{0,63}/[a-z0-9][a-z0-9_-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Variable(_Strict):
    name: str = Field(pattern=_NAME)
    description: str = Field("", max_length=500)
    required: bool = True
    max_chars: int = Field(2000, ge=1, le=20_000)
    default: str | None = None

    @model_validator(mode="after")
    def _default_fits(self) -> Variable:
        if self.default is not None and len(self.default) > self.max_chars:
            raise ValueError(f"default is longer than max_chars ({self.max_chars})")
        return self


class TextOutput(_Strict):
    """Free text, or with ``sections`` text under fixed ``[Section]`` headings (song lyrics)."""

    kind: Literal["text"]
    sections: list[Annotated[str, Field(pattern=_SECTION)]] | None = Field(None, min_length=1, max_length=16)
    lines_per_section: int = Field(4, ge=1, le=16)


class JsonOutput(_Strict):
    kind: Literal["json"]
    json_schema: dict[str, Any] = Field(alias="schema")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("json_schema")
    @classmethod
    def _is_a_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        import jsonschema

        try:
            jsonschema.validators.validator_for(value).check_schema(value)
        except jsonschema.SchemaError as exc:
            raise ValueError(f"not a valid JSON Schema: {exc.message}") from None
        if value.get("type") != "object":
            raise ValueError("the schema must describe an object (\"type\": \"object\")")
        return value


class AbcOutput(_Strict):
    """A melody in ABC notation: a fixed header and ``bars`` bars of 4/4 (see ``melody.py``)."""

    kind: Literal["abc"]
    bars: int = Field(8, ge=2, le=32)


Output = Annotated[TextOutput | JsonOutput | AbcOutput, Field(discriminator="kind")]


class GenerationDefaults(_Strict):
    max_tokens: int = Field(256, ge=1, le=4096)
    temperature: float = Field(0.8, ge=0.0, le=2.0)


class TemplateSpec(_Strict):
    format: Literal["limelight.template/1"]
    title: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=2000)
    system: str = Field("", max_length=8000)
    prompt: str = Field(min_length=1, max_length=20_000)
    variables: list[Variable] = Field(default_factory=list, max_length=32)
    output: Output
    generation: GenerationDefaults = Field(default_factory=GenerationDefaults)
    base_model: str | None = Field(None, pattern=_MODEL_REF)

    @field_validator("variables")
    @classmethod
    def _unique(cls, value: list[Variable]) -> list[Variable]:
        names = [v.name for v in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"variable names must be unique: {', '.join(duplicates)}")
        return value

    def variable(self, name: str) -> Variable | None:
        return next((v for v in self.variables if v.name == name), None)

    def signature(self) -> dict[str, Any]:
        """The version signature: what a caller needs to fill the template (the playground's form)."""
        from limelight.runtimes.base import io_spec

        # dtype object without an example: the validator and the warm-up do not generate.
        return {"inputs": [io_spec("variables", "object", [-1])],
                "outputs": [io_spec("text", "string", [-1]), io_spec("output", "object", [-1])],
                "title": self.title, "output": self.output.kind,
                "variables": [v.model_dump() for v in self.variables],
                "defaults": self.generation.model_dump(), "base_model": self.base_model}


def parse_template(raw: bytes | str) -> TemplateSpec:
    """The checked template; ``ArtifactInvalid`` naming the field for anything wrong."""
    if len(raw) > MAX_TEMPLATE_BYTES:
        raise ArtifactInvalid(f"a template is at most {MAX_TEMPLATE_BYTES} bytes", details={"field": "template"})
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArtifactInvalid(f"the template is not JSON: {exc}", details={"field": "template"}) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ArtifactInvalid(f"a template is a JSON object with \"format\": \"{FORMAT}\"",
                              details={"field": "template.format"})
    try:
        spec = TemplateSpec.model_validate(document)
    except ValidationError as exc:
        raise _invalid(exc) from None
    check_sources(spec)
    return spec


def _invalid(exc: ValidationError) -> ArtifactInvalid:
    first = exc.errors()[0]
    location = ".".join(str(part) for part in first["loc"] if part not in ("text", "json", "abc"))
    field = f"template.{location}" if location else "template"
    message = str(first["msg"]).removeprefix("Value error, ")
    return ArtifactInvalid(f"{field}: {message}", details={"field": field, "errors": exc.error_count()})
