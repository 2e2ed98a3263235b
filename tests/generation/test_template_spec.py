"""The template document: what upload refuses (naming the field), variables, sandboxed rendering."""

from __future__ import annotations

import json
from typing import Any

import pytest

from limelight.errors import ArtifactInvalid, ValidationFailed
from limelight.generation.builtin_templates import BUILTIN_TEMPLATES, builtin_template
from limelight.generation.template_render import bind_variables, render
from limelight.generation.template_spec import parse_template


def doc(**changes: Any) -> dict[str, Any]:
    base = {"format": "limelight.template/1", "title": "Pitch",
            "prompt": "A {{ genre|lower }} pitch about {{ premise }}{% if tone %} ({{ tone }}){% endif %}.",
            "variables": [{"name": "genre", "max_chars": 20}, {"name": "premise"},
                          {"name": "tone", "required": False}],
            "output": {"kind": "text"}}
    return {**base, **changes}


def refused_field(document: Any) -> str:
    with pytest.raises(ArtifactInvalid) as caught:
        parse_template(json.dumps(document) if not isinstance(document, bytes) else document)
    assert caught.value.status == 422
    return str(caught.value.details["field"])


def test_a_good_template_renders_with_its_variables() -> None:
    spec = parse_template(json.dumps(doc()))
    values = bind_variables(spec, {"genre": "HEIST", "premise": "a lighthouse"})
    assert render(spec.prompt, values) == "A heist pitch about a lighthouse."
    assert render(spec.prompt, {**values, "tone": "wry"}) == "A heist pitch about a lighthouse (wry)."


@pytest.mark.parametrize(("document", "field"), [
    (b"not json", "template"),
    ({"format": "limelight.template/9"}, "template.format"),
    (doc(prompt="{% if %}"), "template.prompt"),
    (doc(prompt="{{ premise "), "template.prompt"),
    (doc(system="{{ undeclared }}"), "template.system"),
    (doc(output={"kind": "poem"}), "template.output"),
    (doc(output={"kind": "json", "schema": {"type": "object", "properties": 5}}), "template.output.schema"),
    (doc(output={"kind": "json", "schema": {"type": "nonsense"}}), "template.output.schema"),
    (doc(output={"kind": "abc", "bars": 500}), "template.output.bars"),
    (doc(variables=[{"name": "genre"}, {"name": "genre"}]), "template.variables"),
    (doc(variables=[{"name": "Bad Name"}]), "template.variables.0.name"),
    (doc(base_model="not a ref"), "template.base_model"),
    (doc(surprise=1), "template.surprise"),
])
def test_bad_templates_are_refused_naming_the_field(document: Any, field: str) -> None:
    assert refused_field(document) == field


@pytest.mark.parametrize("prompt", [
    "{{ ''.__class__ }}",
    "{{ premise.__class__.__mro__ }}",
    "{{ premise['__class__'] }}",
    "{{ premise|attr('__class__') }}",
    "{{ cycler.__init__.__globals__ }}",
    "{% for x in range(99999) %}{{ premise }}{% endfor %}",
    "{{ premise * 100000000 }}",
    "{{ 9 ** 9 ** 9 }}",
    "{% include 'x' %}",
    "{% macro m() %}{% endmacro %}",
    "{{ premise.upper() }}",
    "{{ lipsum() }}",
])
def test_python_reaching_or_expensive_constructs_are_refused_at_upload(prompt: str) -> None:
    assert refused_field(doc(prompt=prompt)) == "template.prompt"


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"story": {"type": "string", "maxLength": 100_000}}},
    {"type": "object", "properties": {"x": {"type": "string", "pattern": "(?<=a)b"}}},
])
def test_json_schemas_without_a_reasonable_grammar_are_refused(schema: dict[str, Any]) -> None:
    from limelight.generation.template_output import grammar_for

    pytest.importorskip("llama_cpp")
    spec = parse_template(json.dumps(doc(output={"kind": "json", "schema": schema})))
    with pytest.raises(ArtifactInvalid) as caught:
        grammar_for(spec)
    assert caught.value.details["field"] == "template.output.schema"


def test_the_sandbox_still_refuses_attribute_tricks_at_render_time() -> None:
    # check_sources refuses this at upload; render must refuse it too if a source ever slipped by
    with pytest.raises(ValidationFailed):
        render("{{ x.__class__.__mro__ }}", {"x": "text"})


@pytest.mark.parametrize(("variables", "named"), [
    ({"genre": "noir", "premise": "p", "budget": "1"}, "budget"),
    ({"genre": "noir"}, "premise"),
    ({"genre": "x" * 21, "premise": "p"}, "genre"),
    ({"genre": 5, "premise": "p"}, "genre"),
])
def test_bad_variables_are_422_naming_the_variable(variables: dict[str, Any], named: str) -> None:
    spec = parse_template(json.dumps(doc()))
    with pytest.raises(ValidationFailed) as caught:
        bind_variables(spec, variables)
    assert caught.value.status == 422
    assert caught.value.details["variable"] == named
    assert caught.value.details["field"] == f"variables.{named}"


def test_defaults_fill_missing_variables() -> None:
    spec = parse_template(json.dumps(doc(variables=[{"name": "genre", "default": "noir"}, {"name": "premise"},
                                                    {"name": "tone", "required": False}])))
    assert bind_variables(spec, {"premise": "p"}) == {"genre": "noir", "premise": "p", "tone": ""}


@pytest.mark.parametrize("name", BUILTIN_TEMPLATES)
def test_every_builtin_template_is_valid(name: str) -> None:
    from limelight.generation.template_output import MAX_GRAMMAR_CHARS, grammar_for

    spec = builtin_template(name)
    required = {v.name: "x" for v in spec.variables if v.required and v.default is None}
    assert render(spec.prompt, bind_variables(spec, required))
    if spec.output.kind != "text" or spec.output.sections:
        pytest.importorskip("llama_cpp")
        assert "root ::=" in (grammar_for(spec) or "") and len(grammar_for(spec) or "") < MAX_GRAMMAR_CHARS


def test_without_the_bundled_model_generation_is_unavailable_not_a_crash(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from limelight.errors import ModelUnavailable
    from limelight.generation import gguf_file
    from limelight.runtimes.base import LoadContext, load_runtime

    path = tmp_path / "template.json"
    path.write_text(json.dumps(doc()))
    runtime = load_runtime("prompt-template", path, {}, LoadContext())  # loading needs no model at all
    assert runtime.signature()["variables"][0]["name"] == "genre"

    def missing() -> None:
        raise FileNotFoundError("SmolLM2 not installed")

    monkeypatch.setattr(gguf_file, "bundled_model_path", missing)
    with pytest.raises(ModelUnavailable):
        runtime.generate({"variables": {"genre": "noir", "premise": "p"}})
    runtime.close()
