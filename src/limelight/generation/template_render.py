"""Template text in, prompt out: Jinja2 held to a small allowlist, rendered in its sandbox.

A public template is code written by one tenant and run for another, so two fences stand:

* at upload, :func:`check_sources` walks the parsed template and refuses every construct outside
  the allowlist (loops, macros, includes, arithmetic, attribute and item access, calls, unknown
  filters): what is left — variables, ``if``/``else``, ``~``, comparisons and a few string filters —
  cannot reach Python objects or build a large string from a small template;
* at render time the template still runs in jinja2's ``SandboxedEnvironment`` with
  ``StrictUndefined``, and the prompt is capped (``MAX_PROMPT_CHARS``).

:func:`bind_variables` turns a request's ``variables`` into the values a template sees, with a 422
naming the variable for an unknown, missing, non-string or over-long one.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Protocol

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

from limelight.errors import ArtifactInvalid, ValidationFailed


class _Variable(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def default(self) -> str | None: ...
    @property
    def required(self) -> bool: ...
    @property
    def max_chars(self) -> int: ...


class TemplateSource(Protocol):
    """What rendering reads of a template (``template_spec.TemplateSpec`` is one); a Protocol, so the
    spec module may call the checks here without the two importing each other."""

    @property
    def system(self) -> str: ...
    @property
    def prompt(self) -> str: ...
    @property
    def variables(self) -> Sequence[_Variable]: ...
    def variable(self, name: str) -> _Variable | None: ...

__all__ = ["MAX_PROMPT_CHARS", "TemplateSource", "bind_variables", "check_sources", "render"]

MAX_PROMPT_CHARS = 64_000
ALLOWED_FILTERS = frozenset({"trim", "upper", "lower", "title", "capitalize", "default", "truncate", "length"})
ALLOWED_TESTS = frozenset({"defined", "undefined", "none", "string"})
_ALLOWED_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.If,
                  nodes.CondExpr, nodes.Compare, nodes.Operand, nodes.Not, nodes.And, nodes.Or, nodes.Concat,
                  nodes.Filter, nodes.Test)


@functools.cache
def _environment() -> SandboxedEnvironment:
    # Prompts are plain text for a model, not HTML: no escaping; a missing variable is an error.
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def check_sources(spec: TemplateSource) -> None:
    """Refuse (422, naming the field) a system or prompt text outside the allowlist."""
    declared = {v.name for v in spec.variables}
    for field, source in (("system", spec.system), ("prompt", spec.prompt)):
        try:
            tree = _environment().parse(source)
        except TemplateError as exc:
            raise ArtifactInvalid(f"template.{field} is not valid Jinja2: {exc}",
                                  details={"field": f"template.{field}"}) from None
        _check_tree(tree, declared, f"template.{field}")
        _compiled(source)  # what parses must also compile


def _check_tree(tree: nodes.Node, declared: set[str], field: str) -> None:
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            raise _refused(field, f"{type(node).__name__} is not allowed in templates (allowed: variables, "
                                  f"if/else, ~, comparisons and the filters {', '.join(sorted(ALLOWED_FILTERS))})")
        if isinstance(node, nodes.Name) and node.name not in declared:
            raise _refused(field, f"{node.name!r} is used but not declared in variables", variable=node.name)
        if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
            raise _refused(field, f"the filter {node.name!r} is not allowed")
        if isinstance(node, nodes.Test) and node.name not in ALLOWED_TESTS:
            raise _refused(field, f"the test {node.name!r} is not allowed")
        if isinstance(node, nodes.Const) and not isinstance(node.value, str | int | bool | None):
            raise _refused(field, f"the constant {node.value!r} is not allowed")


def _refused(field: str, reason: str, **details: Any) -> ArtifactInvalid:
    return ArtifactInvalid(f"{field}: {reason}", details={"field": field, **details})


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> Any:
    return _environment().from_string(source)


def bind_variables(spec: TemplateSource, given: Any) -> dict[str, str]:
    """The values the template renders with; ``ValidationFailed`` naming the variable at fault."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise ValidationFailed("variables must be an object of strings", details={"field": "variables"})
    for name in given:
        if spec.variable(name) is None:
            raise ValidationFailed(f"unknown variable {name!r}; this template takes: "
                                   f"{', '.join(v.name for v in spec.variables) or 'none'}",
                                   details={"field": f"variables.{name}", "variable": name})
    bound: dict[str, str] = {}
    for variable in spec.variables:
        value = given.get(variable.name, variable.default)
        if value is None:
            if variable.required:
                raise ValidationFailed(f"the variable {variable.name!r} is required",
                                       details={"field": f"variables.{variable.name}", "variable": variable.name})
            value = ""
        if not isinstance(value, str):
            raise ValidationFailed(f"the variable {variable.name!r} must be a string",
                                   details={"field": f"variables.{variable.name}", "variable": variable.name})
        if len(value) > variable.max_chars:
            raise ValidationFailed(f"the variable {variable.name!r} is longer than {variable.max_chars} characters",
                                   details={"field": f"variables.{variable.name}", "variable": variable.name,
                                            "max_chars": variable.max_chars})
        bound[variable.name] = value
    return bound


def render(source: str, values: dict[str, str]) -> str:
    """``source`` rendered with ``values`` in the sandbox; 422 if it fails or runs too long."""
    try:
        text = str(_compiled(source).render(values))
    except TemplateError as exc:  # SecurityError and UndefinedError are TemplateErrors
        raise ValidationFailed(f"the template could not be rendered: {exc}", details={"field": "template"}) from None
    if len(text) > MAX_PROMPT_CHARS:
        raise ValidationFailed(f"the rendered prompt is longer than {MAX_PROMPT_CHARS} characters",
                               details={"field": "template"})
    return text
