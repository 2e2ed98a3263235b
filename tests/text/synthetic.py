"""Templated sentences for three classes (and tags for multi-label), small and deterministic."""

from __future__ import annotations

import numpy as np

WORDS = {
    "pos": ["wonderful", "great", "delightful", "superb", "lovely", "excellent"],
    "neg": ["awful", "terrible", "boring", "dreadful", "poor", "horrible"],
    "neu": ["average", "ordinary", "standard", "typical", "plain", "usual"],
}
NOUNS = ["film", "meal", "hotel", "book", "concert", "game", "phone", "trip"]
TEMPLATES = ["The {noun} was {word}.", "What a {word} {noun}!", "I found the {noun} {word} overall",
             "Honestly a {word} {noun}", "{word} {noun}, would say so again"]


def labeled_rows(n: int = 300, seed: int = 0) -> list[tuple[str, str]]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = list(WORDS)[i % 3]
        template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
        text = template.format(noun=NOUNS[int(rng.integers(len(NOUNS)))],
                               word=WORDS[label][int(rng.integers(len(WORDS[label])))])
        rows.append((text, label))
    return rows


def multi_label_rows(n: int = 240, seed: int = 1) -> list[tuple[str, str]]:
    """Tags ``food`` / ``service`` / ``price`` mentioned by their own words; a row has one or two."""
    rng = np.random.default_rng(seed)
    cues = {"food": ["tasty pasta", "fresh salad", "bland soup"], "service": ["rude waiter", "friendly staff",
            "slow service"], "price": ["cheap bill", "expensive wine", "fair price"]}
    rows = []
    for _ in range(n):
        tags = sorted(rng.choice(list(cues), size=int(rng.integers(1, 3)), replace=False).tolist())
        parts = [cues[t][int(rng.integers(3))] for t in tags]
        rows.append((f"We had {' and '.join(parts)} tonight", "|".join(tags) if rng.random() < 0.5 else ",".join(tags)))
    return rows


def csv_bytes(rows: list[tuple[str, str]]) -> bytes:
    lines = ["text,label"] + [f'"{text}","{label}"' for text, label in rows]
    return ("\n".join(lines) + "\n").encode()
