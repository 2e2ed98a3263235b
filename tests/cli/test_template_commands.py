"""``limelight templates add-builtins`` and ``limelight generate`` against a real server and SmolLM2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Cli

pytest.importorskip("llama_cpp")


@pytest.mark.slow
def test_add_builtins_then_generate_text_and_a_melody_to_files(cli: Cli, tmp_path: Path) -> None:
    added = cli("templates", "add-builtins", "logline", "melody")
    assert f"{cli.tenant.org}/logline version 1" in added.err and f"{cli.tenant.org}/melody version 1" in added.err
    assert "exists: skipped" in cli("templates", "add-builtins", "logline").err

    text = cli("generate", "logline", "--var", "genre=noir", "--var", "premise=a lost dog", "--max-tokens", "8",
               "--seed", "1")
    assert text.out.strip() and "tokens" in text.err

    midi, wav = tmp_path / "tune.mid", tmp_path / "tune.wav"
    melody = cli("generate", "melody", "-v", "mood=calm", "--seed", "2", "--midi", str(midi), "--audio", str(wav),
                 "--json").json()
    assert midi.read_bytes().startswith(b"MThd") and melody["output"]["abc"].startswith("X:1")
    assert wav.read_bytes()[:4] == b"RIFF" if melody["output"]["audio_base64"] else not wav.exists()

    refused = cli("generate", "logline", "--var", "genre=noir", expect=1)
    assert "premise" in refused.err
