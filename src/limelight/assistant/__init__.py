"""The support assistant: answers questions from an org's own documents, with citations.

Documents are cut into overlapping passages (``chunking``), indexed with BM25 and MiniLM
(``indexing``, reusing ``limelight.search``), retrieved with a calibrated confidence that decides
whether to answer or abstain (``retrieval``), and answered by a small local LLM that sees only the
retrieved passages (``answering``). The runtime is ``assistant``, the verb ``:ask``, the recipe
``assistant/rag``; ``knowledge_base/`` ships a fictional help centre for the demo and the tests.
"""
