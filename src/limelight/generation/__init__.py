"""Text generation with local LLMs: GGUF models on llama.cpp, run in child processes.

* :mod:`~limelight.generation.requests` — ``GenerationRequest`` and the events of a stream (plain data).
* :mod:`~limelight.generation.pool` — ``GenerationPool``: the children, the bounded queue, timeouts, restarts.
* :mod:`~limelight.generation.gguf_file` — GGUF metadata (pure Python) and the bundled SmolLM2 model.
* :mod:`~limelight.generation.grammar` — JSON schema -> GBNF grammar for constrained output.
* :mod:`~limelight.generation.runtime` — ``LlmRuntime``, the ``llm`` runtime of the model host.

Only :mod:`~limelight.generation.child` (run as its own process) imports llama.cpp.
"""
