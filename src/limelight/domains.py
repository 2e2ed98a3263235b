"""Every runtime, verb provider and recipe limelight offers, declared once per domain.

The serving core and the platform never import a task domain: they read this table, which names
modules by string and imports nothing, and load what it names when first needed. A domain is one
``Domain`` entry: the runtimes it serves (name -> ``module:Class``, with the distributions whose
native code parses their artifacts, so a sandbox verdict records their versions), the modules whose
``register_verbs(registry)`` add its verbs (a later one may replace an earlier one's handler), and its
recipes. Adding a task
domain means adding its folder and one entry here; packages outside limelight add verbs through the
``limelight.verbs`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Runtime:
    target: str  # "module:Class", imported when the runtime first loads
    libraries: tuple[str, ...]  # distributions whose native code parses this runtime's artifacts


@dataclass(frozen=True)
class Domain:
    name: str
    runtimes: Mapping[str, Runtime] = field(default_factory=dict)
    verbs: tuple[str, ...] = ()  # modules with register_verbs(registry)
    recipes: tuple[str, ...] = ()  # "module:name": a recipe class, or a function returning a list of recipes


_MINILM = ("torch", "transformers", "tokenizers", "safetensors", "onnx", "onnxruntime")

DOMAINS: tuple[Domain, ...] = (
    # the generic formats anyone uploads, and the built-in verbs (predict, embed, recommend)
    Domain("models", runtimes={
        "sklearn": Runtime("limelight.runtimes.sklearn_skops:SklearnRuntime", ("scikit-learn", "skops", "numpy", "scipy")),
        "lightgbm": Runtime("limelight.runtimes.lightgbm_text:LightGBMRuntime", ("lightgbm", "numpy")),
        "onnx": Runtime("limelight.runtimes.onnx_model:OnnxRuntime", ("onnx", "onnxruntime", "numpy")),
        "sentence-embedding": Runtime("limelight.runtimes.sentence_embedding:SentenceEmbeddingRuntime", _MINILM),
    }, verbs=("limelight.serving.protocols.verbs",), recipes=("limelight.recipes.classify_tabular:LightGBMClassifierRecipe",)),
    Domain("recsys", runtimes={
        "recommender": Runtime("limelight.runtimes.recommender:RecommenderRuntime", ("numpy", "scipy", "implicit")),
    }, verbs=("limelight.recsys.verbs",), recipes=("limelight.recipes.recommend:recommend_recipes",)),
    Domain("text", runtimes={
        # tfidf heads need scipy; embedding heads the MiniLM stack; fine-tuned models onnxruntime
        "text-classifier": Runtime("limelight.text.runtime:TextClassifierRuntime", ("numpy", "scipy", *_MINILM)),
    }, verbs=("limelight.text.verbs",), recipes=("limelight.recipes.classify_text:classify_text_recipes",)),
    Domain("search", runtimes={
        "catalog-search": Runtime("limelight.search.runtime:CatalogSearchRuntime", ("numpy", "hnswlib", "onnxruntime")),
    }, verbs=("limelight.search.verbs",), recipes=("limelight.recipes.search_catalog:CatalogSearchRecipe",)),
    Domain("generation", runtimes={
        "llm": Runtime("limelight.generation.runtime:LlmRuntime", ("llama-cpp-python", "gguf", "numpy")),
        # the template's Jinja2 and JSON Schema checks, and the JSON Schema -> GBNF converter
        "prompt-template": Runtime("limelight.generation.template_runtime:PromptTemplateRuntime",
                                   ("jinja2", "jsonschema", "llama-cpp-python")),
    }, verbs=("limelight.generation.verbs", "limelight.generation.template_verbs"), recipes=("limelight.recipes.generate_lora:GenerateLoraRecipe",)),
    Domain("assistant", runtimes={
        "assistant": Runtime("limelight.assistant.runtime:AssistantRuntime",
                             ("numpy", "onnxruntime", "tokenizers", "llama-cpp-python", "gguf")),
    }, verbs=("limelight.assistant.verbs",), recipes=("limelight.recipes.assistant_rag:AssistantRagRecipe",)),
    Domain("behaviour", runtimes={
        "behaviour": Runtime("limelight.behaviour.runtime:BehaviourRuntime", ("lightgbm", "numpy")),
    }, verbs=("limelight.behaviour.verbs",), recipes=("limelight.recipes.predict_behaviour:behaviour_recipes",)),
    Domain("vision", runtimes={
        # the ONNX graph, and Pillow's codecs in the decode pool's children
        "image-classifier": Runtime("limelight.vision.runtime:ImageClassifierRuntime",
                                    ("onnx", "onnxruntime", "numpy", "pillow")),
    }, verbs=("limelight.vision.verbs",), recipes=("limelight.recipes.classify_image:ImageTransferRecipe",)),
)

RUNTIMES: Mapping[str, Runtime] = MappingProxyType({name: runtime for domain in DOMAINS
                                                     for name, runtime in domain.runtimes.items()})
VERB_MODULES: tuple[str, ...] = tuple(module for domain in DOMAINS for module in domain.verbs)
RECIPE_FACTORIES: tuple[str, ...] = tuple(factory for domain in DOMAINS for factory in domain.recipes)
