"""Semantic search over a studio's catalog: the ``search/catalog`` recipe's internals, the
``catalog-search`` runtime and the ``:search`` verb."""
