"""JSON schema -> GBNF grammar, so a model's output is constrained to parse and validate.

The converter is llama-cpp-python's own (``llama_cpp/llama_grammar.py``, the Python port of
llama.cpp's ``json_schema_to_grammar``). That file is pure Python, but importing it as
``llama_cpp.llama_grammar`` runs ``llama_cpp/__init__``, which loads the native library into the
API process; so the file is loaded on its own, and llama.cpp stays in the generating processes.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from limelight.errors import ResponseFormatUnsupported

__all__ = ["json_schema_grammar"]

_MAX_SCHEMA_CHARS = 100_000


def json_schema_grammar(schema: dict[str, Any]) -> str:
    """The GBNF grammar of ``schema``; ``ResponseFormatUnsupported`` (400) if it has none."""
    if not isinstance(schema, dict):
        raise _unsupported("the schema must be a JSON object")
    try:
        text = json.dumps(schema)
    except (TypeError, ValueError) as exc:
        raise _unsupported(f"the schema is not JSON: {exc}") from None
    if len(text) > _MAX_SCHEMA_CHARS:
        raise _unsupported(f"the schema is longer than {_MAX_SCHEMA_CHARS} characters")
    try:
        grammar: str = _converter().json_schema_to_gbnf(text)
    except RecursionError:
        raise _unsupported("the schema is nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - the converter raises bare ValueError/KeyError/… on what it cannot do
        raise _unsupported(f"{type(exc).__name__}: {str(exc)[:300]}") from None
    if "root ::=" not in grammar:
        raise _unsupported("the converter produced no root rule")
    return grammar


def _unsupported(reason: str) -> ResponseFormatUnsupported:
    return ResponseFormatUnsupported(f"This JSON schema cannot be turned into a grammar: {reason}.",
                                     details={"field": "response_format", "reason": reason})


@functools.cache
def _converter() -> ModuleType:
    spec = importlib.util.find_spec("llama_cpp")  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise _unsupported("llama-cpp-python is not installed (the `llm` extra)")
    path = Path(next(iter(spec.submodule_search_locations))) / "llama_grammar.py"
    file_spec = importlib.util.spec_from_file_location("limelight_llama_grammar", path)
    if file_spec is None or file_spec.loader is None:
        raise _unsupported("llama-cpp-python has no llama_grammar.py")
    module = importlib.util.module_from_spec(file_spec)
    file_spec.loader.exec_module(module)
    return module
