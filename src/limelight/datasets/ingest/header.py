"""A file's column names: cleaned, checked, and matched to the kind's canonical columns."""

from __future__ import annotations

from dataclasses import dataclass

from limelight.datasets.ingest.kinds import ColumnSpec, KindSpec, column_key
from limelight.datasets.ingest.problems import Problem, Reason, reject_file, show_value


def check_names(names: list[str], max_columns: int) -> list[str]:
    """Names stripped, blank ones named ``column_<n>``; duplicates and too many columns refused."""
    if len(names) > max_columns:
        reject_file(Problem(1, None, str(len(names)), f"{Reason.TOO_MANY_COLUMNS} (limit {max_columns})"))
    cleaned = [name.strip() or f"column_{i}" for i, name in enumerate(names, start=1)]
    seen: set[str] = set()
    for name in cleaned:
        if name in seen:
            reject_file(Problem(1, name, show_value(name), Reason.DUPLICATE_COLUMN))
        seen.add(name)
    return cleaned


@dataclass(frozen=True)
class Binding:
    """A canonical column and the file column that provides it."""

    spec: ColumnSpec
    source: str


def bind_columns(kind: KindSpec, names: list[str], target: str | None) -> tuple[list[Binding], list[str]]:
    """Matches file columns to the kind's columns; returns the bindings and the extra columns.

    A column matches on its case- and punctuation-insensitive name (``UserID`` = ``user_id``)
    or an alias (``movieId`` → ``item_id``). Two file columns for one canonical column are
    refused rather than guessed; a missing required column is reported once, at line 1.
    """
    free = list(names)
    bindings: list[Binding] = []
    for spec in kind.columns:
        keys = (column_key(target),) if spec.name == "target" and target else spec.keys()
        source = _pick(spec, [n for n in free if column_key(n) in keys], keys)
        if source is None:
            if spec.required:
                reject_file(Problem(1, target if spec.name == "target" and target else spec.name,
                                    None, Reason.MISSING_COLUMN))
            continue
        free.remove(source)
        bindings.append(Binding(spec, source))
    for name in free:  # e.g. a "target" column left over when target= named another one
        clash = next((b for b in bindings if column_key(name) == column_key(b.spec.name)), None)
        if clash is not None:
            reject_file(Problem(1, name, show_value(f"{clash.source}, {name}"),
                                f"{Reason.AMBIGUOUS_COLUMN}: {name!r} clashes with {clash.source!r}, "
                                f"which becomes {clash.spec.name!r}"))
    return bindings, free


def _pick(spec: ColumnSpec, candidates: list[str], keys: tuple[str, ...]) -> str | None:
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    # Prefer the canonical spelling over aliases: a file with both "rating" and "score" is fine.
    canonical = [n for n in candidates if column_key(n) == keys[0]]
    if len(canonical) == 1:
        return canonical[0]
    clash = canonical or candidates
    reject_file(Problem(1, clash[1], show_value(", ".join(clash)),
                        f"{Reason.AMBIGUOUS_COLUMN}: {len(clash)} columns could be {spec.name!r}"))
