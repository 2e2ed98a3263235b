"""A small synthetic film catalog with planted answers for search tests.

Most items are variations on six plot themes; a few are planted: one found only by meaning
(cooking, though no other item and no query word shares a word with it), one only by a rare title
word, and labelled queries for comparing fusion methods.
"""

from __future__ import annotations

import csv
import io
import random

THEMES = {
    "Crime": "A crew of thieves plans to rob a casino in {city}, but {name} suspects a traitor.",
    "Romance": "Two strangers fall in love during a summer in {city}; {name} must choose between duty and desire.",
    "Sci-Fi": "Astronauts travel to a distant planet; {name} discovers a signal from an alien civilisation.",
    "Horror": "A family moves into an old house near {city} and {name} hears a ghost at night.",
    "Sport": "An underdog boxer from {city} trains for the championship fight with {name}.",
    "Drama": "A lawyer in {city} defends {name}, a man accused of a murder he did not commit.",
}
WORDS = ["Silent", "Broken", "Golden", "Last", "Hidden", "Crimson", "Endless", "Secret", "Wild", "Distant"]
NOUNS = ["River", "Winter", "Promise", "Harbor", "Signal", "Horizon", "Garden", "Witness", "Storm", "Echo"]
CITIES = ["Lisbon", "Oslo", "Cairo", "Denver", "Kyoto", "Lagos", "Quito", "Perth"]
NAMES = ["Mara", "Tomas", "Iris", "Leon", "Nadia", "Felix", "Ruth", "Omar"]

CHEF_ID = "chef-01"
RARE_ID = "rare-01"
PLANTED = [
    {"item_id": CHEF_ID, "title": "The Tasting Menu", "genres": "Drama", "year": 2015, "tags": "",
     "description": "A chef opens a tiny bistro and prepares dishes for a demanding food critic."},
    {"item_id": RARE_ID, "title": "Zarkovian Nights", "genres": "Drama", "year": 1994, "tags": "",
     "description": "Two brothers inherit a farm and argue about selling it."},
]
SYNONYM_QUERY = "culinary cuisine cooking restaurant kitchen"  # shares no word with any item
RARE_QUERY = "zarkovian"


def items(n: int = 300, seed: int = 7) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out: list[dict[str, object]] = list(PLANTED)
    genres = list(THEMES)
    for index in range(n - len(PLANTED)):
        genre = genres[index % len(genres)]
        out.append({
            "item_id": f"m{index:04d}", "title": f"{rng.choice(WORDS)} {rng.choice(NOUNS)} {index}",
            "genres": genre + ("|" + rng.choice(genres) if rng.random() < 0.3 else ""),
            "year": rng.randint(1960, 2022), "tags": rng.choice(["classic", "festival", "indie", ""]),
            "description": THEMES[genre].format(city=rng.choice(CITIES), name=rng.choice(NAMES)),
        })
    return out


def items_csv(rows: list[dict[str, object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["item_id", "title", "genres", "year", "description", "tags"])
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def items_table(rows: list[dict[str, object]]):  # type: ignore[no-untyped-def]
    """The Arrow table the ingest would produce (genres as a list, year as int64)."""
    import pyarrow as pa

    return pa.table({
        "item_id": [str(r["item_id"]) for r in rows], "title": [str(r["title"]) for r in rows],
        "genres": [str(r["genres"]).split("|") for r in rows], "year": [int(r["year"]) for r in rows],  # type: ignore[call-overload]
        "description": [str(r["description"]) for r in rows], "tags": [str(r["tags"]) or None for r in rows],
        "studio": [f"studio-{n % 3}" for n in range(len(rows))],
    })


# (query, the item it asks for) for comparing fusion methods: by meaning, by words, by both
LABELLED = [
    (SYNONYM_QUERY, CHEF_ID),
    ("critic tasting dishes", CHEF_ID),
    (RARE_QUERY, RARE_ID),
    ("zarkovian farm brothers", RARE_ID),
    ("siblings quarrel over selling the family ranch", RARE_ID),
    ("Tasting Menu", CHEF_ID),
]
