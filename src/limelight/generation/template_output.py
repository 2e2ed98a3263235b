"""What a template's output kind adds to a generation: a grammar before, a parsed output after.

* ``text``: free text; with ``sections``, a small GBNF fixes ``[Verse 1]``/``[Chorus]``/… headings
  in order, each followed by ``lines_per_section`` lines;
* ``json``: the JSON Schema turned into GBNF (``grammar.json_schema_grammar``), so the text always
  parses; it is then validated with ``jsonschema`` and returned as ``output``;
* ``abc``: the melody grammar (``melody.abc_grammar``); ``output`` is ``{"abc", "midi_base64",
  "audio_base64", "audio_media_type"}``, or ``audio_base64: null`` with ``audio_unavailable`` saying why.

A generation cut short by ``max_tokens`` cannot be parsed: ``output`` is then null and
``output_error`` says so, rather than the whole call failing after the tokens were spent.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from limelight.errors import ArtifactInvalid, LimelightError
from limelight.generation.template_spec import AbcOutput, JsonOutput, TemplateSpec, TextOutput

__all__ = ["MAX_GRAMMAR_CHARS", "finish_output", "grammar_for", "lyrics_grammar"]

MAX_GRAMMAR_CHARS = 100_000

_LINE = r'line ::= [A-Z] [A-Za-z0-9 ,.!?' + "'" + r'-]{3,60} "\n"'


def lyrics_grammar(sections: list[str], lines_per_section: int) -> str:
    """GBNF for text under fixed ``[Section]`` headings, ``lines_per_section`` lines each."""
    lines = " ".join(["line"] * lines_per_section)
    parts = [f'"[{name}]\\n" {lines}' for name in sections]
    return "root ::= " + ' "\\n" '.join(parts) + "\n" + _LINE + "\n"


def grammar_for(spec: TemplateSpec) -> str | None:
    """The GBNF that constrains this template's output, or None for free text."""
    output = spec.output
    if isinstance(output, TextOutput):
        return lyrics_grammar(output.sections, output.lines_per_section) if output.sections else None
    if isinstance(output, AbcOutput):
        from limelight.generation.melody import abc_grammar

        return abc_grammar(output.bars)
    from limelight.generation.grammar import json_schema_grammar

    try:
        grammar = json_schema_grammar(output.json_schema)
    except LimelightError as exc:  # a schema no grammar expresses is a bad template, refused at upload
        raise ArtifactInvalid(f"template.output.schema: {exc.message}",
                              details={"field": "template.output.schema"}) from None
    if len(grammar) > MAX_GRAMMAR_CHARS:  # e.g. a maxLength of 100000: every generation would parse it
        raise ArtifactInvalid(f"template.output.schema: its grammar is longer than {MAX_GRAMMAR_CHARS} characters; "
                              "use smaller maxLength/maxItems bounds", details={"field": "template.output.schema"})
    return grammar


def finish_output(spec: TemplateSpec, text: str, finish_reason: str) -> dict[str, Any]:
    """``{"output": …}`` (plus ``output_error`` when it could not be made) for the generated text."""
    output = spec.output
    if isinstance(output, TextOutput):
        return {"output": None}
    if finish_reason == "length":
        return _failed("output_truncated", "max_tokens ended the generation before the output was complete")
    if isinstance(output, JsonOutput):
        return _json_output(output, text)
    return _melody_output(text)


def _failed(code: str, message: str) -> dict[str, Any]:
    return {"output": None, "output_error": {"code": code, "message": message}}


def _json_output(output: JsonOutput, text: str) -> dict[str, Any]:
    import jsonschema

    try:
        value = json.loads(text)
        jsonschema.validate(value, output.json_schema)
    except ValueError as exc:
        return _failed("output_invalid", f"the output is not JSON: {exc}")
    except jsonschema.ValidationError as exc:
        return _failed("output_invalid", f"the output does not match the schema: {exc.message}")
    return {"output": value}


def _melody_output(text: str) -> dict[str, Any]:
    from limelight.generation.melody import abc_to_midi, midi_to_wav

    try:
        midi = abc_to_midi(text)
    except LimelightError as exc:
        return _failed("output_invalid", exc.message)
    except ImportError:  # the `music` extra is not installed: the tune is still the answer
        return {"output": {"abc": text, "midi_base64": None, "audio_base64": None, "audio_media_type": None,
                           "audio_unavailable": "MIDI needs music21 (install limelight[music])"}}
    audio = midi_to_wav(midi)
    melody: dict[str, Any] = {"abc": text, "midi_base64": base64.b64encode(midi).decode(),
                              "audio_base64": base64.b64encode(audio.wav).decode() if audio.wav else None,
                              "audio_media_type": audio.media_type if audio.wav else None}
    if audio.reason:
        melody["audio_unavailable"] = audio.reason
    return {"output": melody}
