"""Runtimes: one module per artifact format behind the ``Runtime`` Protocol (see ``base``).

Importing this package is cheap: heavy libraries are imported when a runtime is loaded.
"""

from limelight.runtimes.base import RUNTIME_CLASSES, LoadContext, Runtime, load_runtime

__all__ = ["RUNTIME_CLASSES", "LoadContext", "Runtime", "load_runtime"]
