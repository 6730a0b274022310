"""Node postprocessors of the answer chain: what every EMA overview shares, added to the hybrid score.

Each takes and returns `ScoredSection`s (llama-index `NodeWithScore`s); the chain is
MedicineFilter -> SectionIntent -> LanguagePreference -> TopK, see RagService.
"""

from __future__ import annotations

from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle
from pydantic import Field


class MedicineFilter(BaseNodePostprocessor):
    """Only sections of the medicines the question is about: never another medicine's facts."""

    medicines: list[str] = Field(default_factory=list)

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        if not self.medicines:
            return nodes
        wanted = {m.lower() for m in self.medicines}
        return [n for n in nodes if str(n.node.metadata.get("medicine", "")).lower() in wanted]


class SectionIntent(BaseNodePostprocessor):
    """Adds `weight` x how strongly the question asks for the node's section (prior: key -> [0, 1])."""

    prior: dict[str, float] = Field(default_factory=dict)
    weight: float = 2.0

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        for n in nodes:
            n.intent = self.prior.get(str(n.node.metadata.get("section", "")), 0.0)
            n.score = (n.score or 0.0) + self.weight * n.intent
        return nodes


class LanguagePreference(BaseNodePostprocessor):
    """Adds `weight` to sections written in the question's language."""

    language: str = ""
    weight: float = 0.2

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        for n in nodes:
            n.same_language = n.node.metadata.get("language") == self.language
            n.score = (n.score or 0.0) + self.weight * n.same_language
        return nodes


class TopK(BaseNodePostprocessor):
    """The best `k` by final score."""

    k: int = 5

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        return sorted(nodes, key=lambda n: -(n.score or 0.0))[: self.k]
