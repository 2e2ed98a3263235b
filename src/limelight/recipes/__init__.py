"""Training recipes, one module each, looked up by name (``classify/lightgbm``, ``recommend/als``, …)."""

from __future__ import annotations

from limelight.errors import InvalidParams
from limelight.recipes.base import Recipe


def _all() -> list[Recipe]:
    from limelight.recipes.assistant_rag import AssistantRagRecipe
    from limelight.recipes.classify_tabular import LightGBMClassifierRecipe
    from limelight.recipes.classify_text import classify_text_recipes
    from limelight.recipes.generate_lora import GenerateLoraRecipe
    from limelight.recipes.predict_behaviour import behaviour_recipes
    from limelight.recipes.recommend import recommend_recipes
    from limelight.recipes.search_catalog import CatalogSearchRecipe

    return [LightGBMClassifierRecipe(), *recommend_recipes(), *classify_text_recipes(), CatalogSearchRecipe(),
            AssistantRagRecipe(), GenerateLoraRecipe(), *behaviour_recipes()]


def all_recipes() -> dict[str, Recipe]:
    return {recipe.name: recipe for recipe in _all()}


def get_recipe(name: str) -> Recipe:
    recipes = all_recipes()
    if name not in recipes:
        raise InvalidParams(f"Unknown recipe {name!r}.", details={"field": "recipe", "allowed": sorted(recipes)})
    return recipes[name]
