"""``assistant/rag``: a support assistant answering from a ``documents`` dataset, with citations.

Documents are cut into overlapping passages (``chunk_tokens`` words, ``overlap_tokens`` shared),
embedded with the bundled all-MiniLM-L6-v2 and indexed with BM25; at serving time the ``assistant``
runtime retrieves the best passages, abstains when its confidence is below ``abstain_threshold``
(default: the value calibrated on the shipped evaluation set) and otherwise has the LLM answer
from them. Metrics on the version: documents, passages, encode seconds, and self-retrieval@3 (a
document's title as the question finds that document among the top 3).
The artifact is one ``limelight.assistant/1`` ``.npz`` (see ``limelight.assistant.artifact``).
"""

from __future__ import annotations

import time
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from limelight.recipes.base import JobContext, RecipeParams, RecipeResult

SELF_RETRIEVAL_SAMPLE = 200


class AssistantParams(RecipeParams):
    chunk_tokens: int = Field(120, ge=20, le=400, description="words per passage at most")
    overlap_tokens: int = Field(30, ge=0, le=200, description="words consecutive passages of a section share")
    k: int = Field(3, ge=1, le=10, description="passages (each from a different document) given to the LLM")
    abstain_threshold: float | None = Field(
        None, ge=0, le=1, description="answer only at or above this retrieval confidence; "
                                      "empty: the value calibrated on the shipped evaluation set")
    semantic_weight: float = Field(0.7, ge=0, le=1, description="share of the MiniLM side in hybrid ranking")
    llm: Literal["smollm2-135m-instruct"] = Field("smollm2-135m-instruct", description="the bundled LLM")
    max_tokens: int = Field(128, ge=8, le=1024, description="longest answer in LLM tokens")

    @model_validator(mode="after")
    def _overlap_below_chunk(self) -> AssistantParams:
        if self.overlap_tokens >= self.chunk_tokens:
            raise ValueError("overlap_tokens must be less than chunk_tokens")
        return self


class AssistantRagRecipe:
    name: ClassVar[str] = "assistant/rag"
    task: ClassVar[str] = "assistant"
    dataset_kind: ClassVar[str] = "documents"
    description: ClassVar[str] = ("Answers customers' questions from your documents with citations, and abstains "
                                  "when they do not hold the answer (BM25 + MiniLM retrieval, local LLM).")
    Params: ClassVar[type[RecipeParams]] = AssistantParams

    def run(self, ctx: JobContext, params: RecipeParams) -> RecipeResult:
        assert isinstance(params, AssistantParams)
        import pyarrow.parquet as pq

        from limelight.assistant.artifact import save_index
        from limelight.assistant.indexing import build_index, documents_of, passage_encoder

        documents = documents_of(pq.read_table(ctx.dataset_path()))
        ctx.progress(5, f"{len(documents)} documents")
        encoder = passage_encoder(ctx.workdir / "encoder-cache")
        try:
            def log(share: float, message: str) -> None:
                ctx.check_cancelled()
                ctx.progress(5 + 75 * share, message)

            started = time.perf_counter()
            index = build_index(documents, params.model_dump(mode="json"), encoder, log)
            index.metadata["metrics"]["encode_seconds"] = round(time.perf_counter() - started, 3)
            ctx.progress(85, "checking retrieval")
            index.metadata["metrics"]["self_retrieval@3"] = _self_retrieval(index, documents, encoder, params)
        finally:
            encoder.close()
        metrics = index.metadata["metrics"]
        ctx.log(f"{metrics['passages']} passages; self_retrieval@3={metrics['self_retrieval@3']}")
        ctx.progress(95, "saving the artifact")
        save_index(ctx.output_path(".npz"), index)
        return RecipeResult(
            runtime="assistant", format="npz", metrics=metrics, params=params.model_dump(mode="json"),
            gate_metric="self_retrieval@3", summary={"documents": len(documents), "passages": metrics["passages"]},
            signature={"inputs": [{"name": "question", "dtype": "object"}],
                       "outputs": [{"name": "answer"}, {"name": "citations"}, {"name": "abstained"}]},
            # the OpenAI-style chat, so the card also shows the `openai` client's call
            example={"verb": "chat", "body": {"messages": [{"role": "user",
                                                            "content": f"Tell me about {documents[0][1][:200]}."}]}})


def _self_retrieval(index: object, documents: list[tuple[str, str, str]], encoder: object,
                    params: AssistantParams) -> float:
    """Share of documents (a sample of up to 200) found in the top 3 when their title is the question."""
    from limelight.assistant.retrieval import Retriever
    from limelight.search.building import encode_with

    titled = [(doc_id, title) for doc_id, title, _ in documents if title and title != doc_id]
    sample = titled[:: max(1, len(titled) // SELF_RETRIEVAL_SAMPLE)][:SELF_RETRIEVAL_SAMPLE]
    if not sample:
        return 0.0
    retriever = Retriever(index, encode_with(encoder), params.semantic_weight)  # type: ignore[arg-type]
    found = retriever.retrieve_many([title for _, title in sample], 3)
    hits = sum(doc_id in {h.doc_id for h in r.hits} for (doc_id, _), r in zip(sample, found, strict=True))
    return round(hits / len(sample), 4)
