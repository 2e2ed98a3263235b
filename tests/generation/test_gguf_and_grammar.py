"""GGUF metadata of the real model, crafted files refused, JSON schema grammars, text assembly."""

from __future__ import annotations

from pathlib import Path

import pytest

from limelight.errors import ArtifactInvalid, ResponseFormatUnsupported, ValidationFailed
from limelight.generation.gguf_file import BUNDLED_MODEL_FILE, read_gguf_info
from limelight.generation.grammar import json_schema_grammar
from limelight.generation.requests import GenerationRequest
from limelight.generation.text_assembly import TextAssembler
from tests.generation.crafted import CRAFTED, CraftedGGUF


def test_metadata_of_the_bundled_smollm2(model_path: Path) -> None:
    info = read_gguf_info(model_path)
    assert model_path.name == BUNDLED_MODEL_FILE
    assert info.architecture == "llama"
    assert info.context_length == 8192
    assert info.quantization == "Q4_1"
    assert info.tensor_count == 272
    assert info.size_bytes == model_path.stat().st_size
    assert info.chat_template is not None and "<|im_start|>" in info.chat_template
    assert info.details()["chat_template"] is True  # the details say whether, not the whole template


@pytest.mark.parametrize("case", CRAFTED, ids=[case.name for case in CRAFTED])
def test_crafted_files_are_refused_with_the_reason(tmp_path: Path, model_path: Path, case: CraftedGGUF) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(case.build(model_path))
    with pytest.raises(ArtifactInvalid) as refused:
        read_gguf_info(path)
    assert case.reason in refused.value.message
    assert refused.value.status == 422 and refused.value.details["format"] == "gguf"


def test_a_directory_or_an_empty_file_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "empty.gguf").write_bytes(b"")
    for path in (tmp_path, tmp_path / "empty.gguf"):
        with pytest.raises(ArtifactInvalid):
            read_gguf_info(path)


def test_a_json_schema_becomes_a_grammar_with_a_root_rule() -> None:
    grammar = json_schema_grammar({"type": "object", "properties": {"year": {"type": "integer"}},
                                   "required": ["year"]})
    assert grammar.startswith("root ::=") or "\nroot ::=" in grammar
    assert '\\"year\\"' in grammar


@pytest.mark.parametrize("schema", [
    {"type": "no-such-type"},
    {"$ref": "https://example.com/remote.json"},
    {"type": "object", "properties": {"a": {"$ref": "#/definitions/missing"}}},
    {"type": "string", "pattern": "(("},
])
def test_a_schema_without_a_grammar_is_a_400(schema: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ResponseFormatUnsupported) as refused:
        json_schema_grammar(schema)
    assert refused.value.status == 400 and refused.value.code == "response_format_unsupported"
    assert refused.value.details["reason"]


def test_converting_a_grammar_does_not_load_llama_cpp_into_this_process() -> None:
    import subprocess
    import sys

    code = ("import sys; from limelight.generation.grammar import json_schema_grammar;"
            "json_schema_grammar({'type': 'string'}); print('llama_cpp' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "False"


def test_stop_sequences_split_across_tokens_are_never_released() -> None:
    text = TextAssembler(["END"])
    assert text.feed(b"The E") == ("The ", False)  # "E" could begin "END": held
    assert text.feed(b"N") == ("", False)
    assert text.feed(b"Dless") == ("", True)  # "END" completed: nothing from it on
    other = TextAssembler(["END"])
    assert other.feed(b"The E") == ("The ", False)
    assert other.feed(b"gg") == ("Egg", False)  # it was not the stop after all


def test_a_character_split_across_tokens_is_released_whole() -> None:
    text = TextAssembler([])
    star = "\N{GLOWING STAR}".encode()
    assert text.feed(star[:2]) == ("", False)
    assert text.feed(star[2:]) == ("\N{GLOWING STAR}", False)
    assert text.feed(b"\xf0") == ("", False)
    assert text.flush() == "\N{REPLACEMENT CHARACTER}"  # an unfinished character at the very end


@pytest.mark.parametrize("fields", [
    {},
    {"prompt": "a", "messages": [{"role": "user", "content": "b"}]},
    {"messages": [{"role": "wizard", "content": "b"}]},
    {"prompt": "a", "max_tokens": 0},
    {"prompt": "a", "temperature": -1.0},
    {"prompt": "a", "seed": -5},
    {"prompt": "a", "stop": ("",)},
])
def test_malformed_requests_name_the_field(fields: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationFailed) as refused:
        GenerationRequest(**fields)
    assert refused.value.details["field"]
