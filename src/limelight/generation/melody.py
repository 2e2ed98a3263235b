"""Melodies as ABC notation: a grammar that admits only ABC music21 can read, then MIDI and audio.

The grammar (:func:`abc_grammar`) fixes the header (``X:``, ``T:``, ``M:4/4``, ``L:1/8``, ``K:``) and
the number of bars; each bar is two halves, each half a half note or two beats, each beat a
quarter note, two eighths or a quarter rest. So every string it admits is a melody of exactly
``bars`` full 4/4 bars, whatever the model writes. :func:`abc_to_midi` parses it with music21;
:func:`midi_to_wav` plays it through Debian's ``fluidsynth`` with the General MIDI soundfont.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from limelight.errors import ValidationFailed

__all__ = ["KEYS", "Audio", "abc_grammar", "abc_to_midi", "midi_to_wav"]

KEYS = ("C", "G", "D", "A", "F", "Bb", "Eb", "Am", "Em", "Dm", "Bm", "Gm")
SOUNDFONTS = (Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"), Path("/usr/share/sounds/sf2/default-GM.sf2"))
_SAMPLE_RATE_HZ = 22050
_RENDER_TIMEOUT_S = 30.0

_RULES = r'''title ::= [A-Z] [a-z]{2,10} (" " [A-Za-z] [a-z]{1,10}){0,3}
key ::= KEYS
bar ::= half " " half
half ::= note "4" | beat beat
beat ::= note "2" | note note | "z2"
note ::= accidental? pitch
accidental ::= "^" | "_"
pitch ::= [A-G] ","? | [a-g] "'"?'''


def abc_grammar(bars: int) -> str:
    """GBNF (llama.cpp's grammar format) for a ``bars``-bar melody in the ABC subset above."""
    if not 1 <= bars <= 64:
        raise ValueError("bars must be in 1..64")
    body = ' " | " '.join(["bar"] * bars)
    keys = " | ".join(f'"{key}"' for key in KEYS)
    root = f'root ::= "X:1\\nT:" title "\\nM:4/4\\nL:1/8\\nK:" key "\\n" {body} " |]\\n"'
    return root + "\n" + _RULES.replace("KEYS", keys) + "\n"


def abc_to_midi(abc: str) -> bytes:
    """Standard MIDI file bytes of an ABC tune; ``ValidationFailed`` if music21 cannot read it."""
    from music21 import converter, midi

    try:
        score = converter.parse(abc, format="abc")
        if not score.recurse().notesAndRests:
            raise ValueError("no notes")
        return bytes(midi.translate.streamToMidiFile(score).writestr())
    except Exception as exc:  # noqa: BLE001 - music21 raises many types for malformed ABC
        raise ValidationFailed(f"the ABC tune could not be read: {exc}", details={"field": "abc"}) from None


@dataclass(frozen=True)
class Audio:
    """A rendering, or why there is none (``wav`` None and ``reason`` set)."""

    wav: bytes | None
    reason: str | None = None
    media_type: str = "audio/wav"


def _soundfont() -> Path | None:
    return next((path for path in SOUNDFONTS if path.is_file()), None)


def midi_to_wav(midi_bytes: bytes) -> Audio:
    """A WAV of the MIDI through fluidsynth; without fluidsynth or a soundfont, the reason instead."""
    binary, soundfont = shutil.which("fluidsynth"), _soundfont()
    if binary is None or soundfont is None:
        missing = "fluidsynth" if binary is None else "a General MIDI soundfont (fluid-soundfont-gm)"
        return Audio(None, f"audio rendering is not available on this server: {missing} is not installed")
    with tempfile.TemporaryDirectory(prefix="limelight-melody-") as folder:
        midi_path, wav_path = Path(folder) / "tune.mid", Path(folder) / "tune.wav"
        midi_path.write_bytes(midi_bytes)
        command = [binary, "-ni", "-q", "-T", "wav", "-F", str(wav_path), "-r", str(_SAMPLE_RATE_HZ),
                   str(soundfont), str(midi_path)]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=_RENDER_TIMEOUT_S)  # noqa: S603
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            return Audio(None, f"fluidsynth failed: {type(exc).__name__}")
        if not wav_path.is_file() or wav_path.stat().st_size == 0:
            return Audio(None, "fluidsynth wrote no audio")
        return Audio(wav_path.read_bytes())
