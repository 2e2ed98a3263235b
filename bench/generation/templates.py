"""Every built-in prompt template on the bundled SmolLM2, in process (no HTTP): time, tokens, tok/s and
whether the output parsed, so the cost of grammar-constrained outputs (JSON, ABC, song sections) shows
next to free text. Run: ``PYTHONPATH=src python bench/generation/templates.py [--threads 2] [--seed 1]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from limelight.generation.builtin_templates import BUILTIN_TEMPLATES, builtin_template_bytes
from limelight.runtimes.base import LoadContext, load_runtime

VARIABLES = {
    "logline": {"genre": "heist thriller", "premise": "a lighthouse keeper robs a bank"},
    "synopsis": {"logline": "A retired thief plans one last job on the night of a storm."},
    "episode-outline": {"series": "Harbour Lights", "premise": "a coastal town hides a smuggling ring"},
    "scene-dialogue": {"character_a": "Mara", "character_b": "Jonah", "setting": "a diner at 3 a.m.",
                       "conflict": "one of them sold the other out"},
    "song-lyrics": {"topic": "summer rain"},
    "game-quest": {"setting": "dark fantasy", "theme": "a stolen bell"},
    "character-sheet": {"genre": "noir", "concept": "a tired detective who hates the rain"},
    "melody": {"mood": "cheerful"},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"{'template':<16} {'output':<6} {'tokens':>6} {'seconds':>8} {'tok/s':>6}  parsed")
    with tempfile.TemporaryDirectory() as folder:
        for name in BUILTIN_TEMPLATES:
            path = Path(folder) / f"{name}.json"
            path.write_bytes(builtin_template_bytes(name))
            runtime = load_runtime("prompt-template", path, {"n_threads": args.threads}, LoadContext())
            try:
                runtime.generate({"variables": VARIABLES[name], "max_tokens": 1})  # start the pool first
                started = time.perf_counter()
                answer = runtime.generate({"variables": VARIABLES[name], "seed": args.seed})
                elapsed_s = time.perf_counter() - started
            finally:
                runtime.close()
            tokens = answer["usage"]["completion_tokens"]
            kind = runtime.spec.output.kind
            parsed = "n/a" if kind == "text" else ("yes" if answer["output"] is not None else "NO")
            print(f"{name:<16} {kind:<6} {tokens:>6} {elapsed_s:>8.2f} {tokens / elapsed_s:>6.1f}  {parsed}")


if __name__ == "__main__":
    main()
