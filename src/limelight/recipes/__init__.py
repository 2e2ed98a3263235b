"""Training recipes, one module each, looked up by name (``classify/lightgbm``, ``recommend/als``, …)."""

from __future__ import annotations

import importlib

from limelight.domains import RECIPE_FACTORIES
from limelight.errors import InvalidParams
from limelight.recipes.base import Recipe


def _all() -> list[Recipe]:
    recipes: list[Recipe] = []
    for target in RECIPE_FACTORIES:  # declared per domain in limelight.domains
        module_name, name = target.split(":")
        made = getattr(importlib.import_module(module_name), name)()
        recipes += made if isinstance(made, list) else [made]
    return recipes


def all_recipes() -> dict[str, Recipe]:
    return {recipe.name: recipe for recipe in _all()}


def get_recipe(name: str) -> Recipe:
    recipes = all_recipes()
    if name not in recipes:
        raise InvalidParams(f"Unknown recipe {name!r}.", details={"field": "recipe", "allowed": sorted(recipes)})
    return recipes[name]
