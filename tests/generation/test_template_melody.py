"""The melody grammar admits only ABC that music21 reads; MIDI and audio come out of it."""

from __future__ import annotations

import base64
import io
import random
import shutil

import mido
import pytest

from limelight.generation.builtin_templates import builtin_template
from limelight.generation.melody import abc_grammar, abc_to_midi, midi_to_wav
from limelight.generation.template_output import finish_output, lyrics_grammar
from tests.support.gbnf_sampler import parse_gbnf

BARS = 8


def melodies(count: int, seed: int = 7) -> list[str]:
    grammar, rng = parse_gbnf(abc_grammar(BARS)), random.Random(seed)
    return [grammar.sample(rng) for _ in range(count)]


def test_twenty_random_strings_the_grammar_admits_all_parse_as_full_bars() -> None:
    from music21 import converter

    tunes = melodies(20)
    assert len(set(tunes)) == 20
    for tune in tunes:
        score = converter.parse(tune, format="abc")
        assert score.recurse().notesAndRests, tune
        # every bar is 4/4 by construction: the whole tune lasts exactly BARS bars of 4 quarters
        assert score.flatten().highestTime == BARS * 4, tune


def test_midi_parses_back_with_mido_with_the_tunes_notes() -> None:
    tune = "X:1\nT:Test Tune\nM:4/4\nL:1/8\nK:C\nC2 D2 E2 F2 | G4 z2 c2 |]\n"
    midi = abc_to_midi(tune)
    notes = [m.note for m in mido.MidiFile(file=io.BytesIO(midi)) if m.type == "note_on" and m.velocity > 0]
    assert notes == [60, 62, 64, 65, 67, 72]


def test_a_melody_output_carries_abc_midi_and_audio_or_the_reason_for_none() -> None:
    spec = builtin_template("melody")
    tune = melodies(1, seed=3)[0]
    output = finish_output(spec, tune, "stop")["output"]
    assert output["abc"] == tune
    assert base64.b64decode(output["midi_base64"]).startswith(b"MThd")
    if shutil.which("fluidsynth"):
        wav = base64.b64decode(output["audio_base64"])
        assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
        assert output["audio_media_type"] == "audio/wav"
    else:
        assert output["audio_base64"] is None and "fluidsynth" in output["audio_unavailable"]


def test_without_fluidsynth_the_audio_is_left_out_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    audio = midi_to_wav(abc_to_midi(melodies(1)[0]))
    assert audio.wav is None and "fluidsynth" in (audio.reason or "")


def test_a_truncated_melody_is_reported_not_parsed() -> None:
    result = finish_output(builtin_template("melody"), "X:1\nT:Cut", "length")
    assert result["output"] is None and result["output_error"]["code"] == "output_truncated"


def test_lyrics_follow_the_sections_in_order() -> None:
    sections = ["Verse 1", "Chorus", "Verse 2", "Chorus"]
    text = parse_gbnf(lyrics_grammar(sections, 4)).sample(random.Random(1))
    headings = [line for line in text.splitlines() if line.startswith("[")]
    assert headings == [f"[{s}]" for s in sections]
    assert len([line for line in text.splitlines() if line and not line.startswith("[")]) == 16
