"""Random strings from a GBNF grammar (the subset limelight writes), to test what a grammar admits.

Supported: one rule per line ``name ::= expr``; alternatives ``|``; sequences; ``"literals"`` with
``\\n``, ``\\"`` and ``\\\\`` escapes; character classes ``[a-zA-Z ,.-]``; groups ``( … )``; the
quantifiers ``?``, ``*``, ``+``, ``{m}``, ``{m,n}``. Unbounded repeats stop after a few.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r'\s*("(?:\\.|[^"\\])*"|\[(?:\\.|[^\]\\])*\]|[A-Za-z][A-Za-z0-9-]*|\{\d+(?:,\d*)?\}|[()|?*+])')
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "[": "[", "]": "]", "-": "-"}


@dataclass
class Grammar:
    rules: dict[str, Any]

    def sample(self, rng: random.Random, rule: str = "root") -> str:
        out: list[str] = []
        _emit(self.rules[rule], self.rules, rng, out)
        return "".join(out)


def parse_gbnf(text: str) -> Grammar:
    rules = {}
    for line in text.strip().splitlines():
        name, _, body = line.partition("::=")
        tokens = _TOKEN.findall(body)
        assert "".join(tokens).replace(" ", "") == body.replace(" ", ""), f"unsupported syntax in {line!r}"
        expr, rest = _alternatives(tokens)
        assert not rest, f"trailing tokens in {line!r}: {rest}"
        rules[name.strip()] = expr
    return Grammar(rules)


def _alternatives(tokens: list[str]) -> tuple[Any, list[str]]:
    options = []
    sequence, tokens = _sequence(tokens)
    options.append(sequence)
    while tokens and tokens[0] == "|":
        sequence, tokens = _sequence(tokens[1:])
        options.append(sequence)
    return ("alt", options), tokens


def _sequence(tokens: list[str]) -> tuple[Any, list[str]]:
    items = []
    while tokens and tokens[0] not in ("|", ")"):
        item, tokens = _primary(tokens)
        if tokens and (tokens[0] in "?*+" or tokens[0].startswith("{")):
            item, tokens = ("repeat", item, *_bounds(tokens[0])), tokens[1:]
        items.append(item)
    return ("seq", items), tokens


def _primary(tokens: list[str]) -> tuple[Any, list[str]]:
    head, rest = tokens[0], tokens[1:]
    if head == "(":
        expr, rest = _alternatives(rest)
        assert rest and rest[0] == ")", "unclosed group"
        return expr, rest[1:]
    if head.startswith('"'):
        return ("lit", _unescape(head[1:-1])), rest
    if head.startswith("["):
        return ("class", _class_chars(head[1:-1])), rest
    return ("ref", head), rest


def _bounds(quantifier: str) -> tuple[int, int]:
    if quantifier == "?":
        return 0, 1
    if quantifier == "*":
        return 0, 3
    if quantifier == "+":
        return 1, 3
    low, _, high = quantifier[1:-1].partition(",")
    return int(low), int(high) if high else (int(low) if "," not in quantifier else int(low) + 3)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text)


def _class_chars(body: str) -> list[str]:
    assert not body.startswith("^"), "negated classes are not supported"
    chars, i = [], 0
    atoms = [_unescape(m) for m in re.findall(r"\\.|.", body)]
    while i < len(atoms):
        if i + 2 < len(atoms) and atoms[i + 1] == "-":
            chars += [chr(c) for c in range(ord(atoms[i]), ord(atoms[i + 2]) + 1)]
            i += 3
        else:
            chars.append(atoms[i])
            i += 1
    return chars


def _emit(node: Any, rules: dict[str, Any], rng: random.Random, out: list[str]) -> None:
    kind = node[0]
    if kind == "alt":
        _emit(rng.choice(node[1]), rules, rng, out)
    elif kind == "seq":
        for item in node[1]:
            _emit(item, rules, rng, out)
    elif kind == "repeat":
        for _ in range(rng.randint(node[2], node[3])):
            _emit(node[1], rules, rng, out)
    elif kind == "lit":
        out.append(node[1])
    elif kind == "class":
        out.append(rng.choice(node[1]))
    else:
        _emit(rules[node[1]], rules, rng, out)
