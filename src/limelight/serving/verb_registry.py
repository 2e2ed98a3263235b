"""Which modules provide task verbs, and the registry the serving engine starts with.

The verb contract itself (``VerbHandler``, ``VerbRegistry``, ``Served``) is ``limelight.verbs``:
task domains import it from there, downward, and never import the serving core.
"""


from __future__ import annotations

import importlib
import importlib.util

from limelight.domains import VERB_MODULES
from limelight.verbs import VerbRegistry

# In the order of limelight.domains: the built-in verbs first, so any provider after them may replace one.
VERB_PROVIDER_MODULES = VERB_MODULES
VERB_ENTRY_POINT_GROUP = "limelight.verbs"


def default_verbs() -> VerbRegistry:
    """The built-in verbs, then every provider module and entry point (providers win)."""
    registry = VerbRegistry()
    for module_name in VERB_PROVIDER_MODULES:
        try:
            if importlib.util.find_spec(module_name) is None:
                continue
        except ModuleNotFoundError:
            continue
        importlib.import_module(module_name).register_verbs(registry)
    from importlib.metadata import entry_points

    for entry in entry_points(group=VERB_ENTRY_POINT_GROUP):
        entry.load()(registry)
    return registry
