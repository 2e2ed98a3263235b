"""Small generated data sets for the console tests: a catalogue with titles and an audience with tastes."""

from __future__ import annotations

import numpy as np

GENRES = ("Comedy", "Drama", "Sci-Fi", "Horror")
WORDS = {
    "Comedy": ("Laughing", "Silly", "Happy", "Crazy", "Wedding", "Summer"),
    "Drama": ("Silent", "Broken", "Distant", "Last", "Quiet", "Winter"),
    "Sci-Fi": ("Stellar", "Quantum", "Orbital", "Neon", "Galactic", "Android"),
    "Horror": ("Haunted", "Cursed", "Dark", "Hollow", "Bleeding", "Midnight"),
}
NOUNS = ("Road", "House", "Signal", "Garden", "Voyage", "Letters", "Harbor", "Machine")


def catalog_csv(items_per_genre: int = 12) -> bytes:
    lines = ["item_id,title,genres,year"]
    for g, genre in enumerate(GENRES):
        for i in range(items_per_genre):
            title = f"{WORDS[genre][i % 6]} {NOUNS[(i + g) % 8]}{'' if i < 6 else ' II'}"
            lines.append(f"m{g * items_per_genre + i},{title},{genre},{1980 + (i * 7 + g) % 40}")
    return ("\n".join(lines) + "\n").encode()


def audience_csv(users: int = 48, items_per_genre: int = 12, per_user: int = 10, seed: int = 7) -> bytes:
    """Each user mostly watches one genre (a taste cluster), a little of the others."""
    rng = np.random.default_rng(seed)
    lines = ["user_id,item_id,rating,timestamp"]
    for u in range(users):
        taste = u % len(GENRES)
        own = rng.choice(items_per_genre, size=per_user - 2, replace=False) + taste * items_per_genre
        other = rng.choice(len(GENRES) * items_per_genre, size=2, replace=False)
        for item in dict.fromkeys([*own.tolist(), *other.tolist()]):
            lines.append(f"u{u},m{item},{int(rng.integers(3, 6))},{1_650_000_000 + int(rng.integers(0, 5_000_000))}")
    return ("\n".join(lines) + "\n").encode()


def bad_interactions_csv() -> bytes:
    """Rows 3 and 5 (file lines) are bad: an empty user id and a rating that is not a number."""
    return b"user_id,item_id,rating\nu1,m1,5\n,m2,4\nu2,m3,3\nu3,m4,lots\n"


SCRIPT_COLUMN = "<script>window.__xss_column=1</script>"
SCRIPT_VALUE = "<img src=x onerror=\"window.__xss_value=1\"><script>window.__xss_value=2</script>"


def hostile_tabular_csv(rows: int = 40) -> bytes:
    """A tabular dataset whose column name and values hold markup that must render as text."""
    lines = [f'f1,"{SCRIPT_COLUMN}",target']
    escaped = SCRIPT_VALUE.replace('"', '""')
    lines += [f'{i * 0.5},"{escaped}",{i % 2}' for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def catalog_titles(items_per_genre: int = 12) -> set[str]:
    rows = catalog_csv(items_per_genre).decode().splitlines()[1:]
    return {row.split(",")[1] for row in rows}


def watched_titles(user_id: str) -> set[str]:
    """Titles of the items ``user_id`` has in the generated audience (their history)."""
    titles = {row.split(",")[0]: row.split(",")[1] for row in catalog_csv().decode().splitlines()[1:]}
    rows = [row.split(",") for row in audience_csv().decode().splitlines()[1:]]
    return {titles[item] for user, item, *_ in rows if user == user_id}
