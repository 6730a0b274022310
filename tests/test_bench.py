"""The scale benchmark's variant tiers: real vectors where the model computed them, perturbed real
vectors of the same seed text elsewhere, never two stored vectors the same."""

from __future__ import annotations

import numpy as np

from eval.bench import BenchEmbedder, VectorPool, markdown, seed_key


class FakeModel:
    """Stands in for the embedder: a fixed unit vector per text, counting what it computes."""

    def __init__(self) -> None:
        self.computed: list[str] = []

    def passages(self, texts):
        self.computed += texts
        out = []
        for t in texts:
            v = np.random.default_rng(abs(hash(seed_key(t))) % 2**32).standard_normal(384).astype(np.float32)
            v += 0.05 * np.random.default_rng(abs(hash(t)) % 2**32).standard_normal(384).astype(np.float32)
            out.append(v / np.linalg.norm(v))
        return np.asarray(out)


def test_variants_reuse_real_vectors_of_their_seed_text_with_noise():
    model, pool = FakeModel(), VectorPool()
    real = BenchEmbedder(model, pool, variants=False)
    first = [f"Medname{i:04d}: How is Medname{i:04d} used?" for i in (1, 2, 3)]
    stored = real.passages(first)
    assert model.computed == first and real.embedded == 3

    variants = BenchEmbedder(model, pool, variants=True)
    again = variants.passages(first[:1] + ["Medname0042: How is Medname0042 used?", "Medname0043: How is Medname0043 used?"])
    assert model.computed == first  # nothing new was embedded
    assert np.array_equal(again[0], stored[0]) and variants.exact == 1 and variants.perturbed == 2
    assert np.allclose(np.linalg.norm(again, axis=1), 1.0, atol=1e-5)
    assert not np.array_equal(again[1], again[2])
    # as far apart as the real copies are from each other
    real_cos = float(np.dot(stored[0], stored[1]))
    assert abs(float(np.dot(again[1], again[2])) - real_cos) < 0.05

    unseen = variants.passages(["Medname0044: a sentence no smaller tier had"])
    assert model.computed[-1] == "Medname0044: a sentence no smaller tier had" and variants.embedded == 1
    assert unseen.shape == (1, 384)


def test_the_table_says_how_a_variant_tier_was_built():
    ingest = {"documents": 4, "sections": 35, "tokens_per_s": 100.0, "wall_s": 3.0, "variants": False}
    answer = {"first_question_ms": 500.0, "start_to_first_answer_ms": 3000.0, "warm_up_ms": 2000.0,
              "latency_ms": {"p50": 20, "p95": 30}, "latency_ms_repeat": {"p50": 15, "p95": 25},
              "parts_ms_first_time": {k: {"p50": 1.0, "p95": 2.0} for k in ("dense", "bm25", "fetch", "rest")},
              "peak_rss_mb": 900.0}
    variant = {"ingest": {**ingest, "sections": 40000, "variants": True, "texts_reused_exact": 10,
                          "texts_perturbed": 20, "texts_embedded": 0, "noise_cosine_to_source": 0.99},
               "answer": answer}
    result = {"machine": {"cpu_count": 2, "ram_gb": 8, "platform": "Linux", "python": "3.11"},
              "embed_quantization": "int8", "embed_batch_size": 1,
              "tiers": [{"ingest": ingest, "answer": answer}, variant]}
    text = markdown(result)
    assert "40,000 sections" in text and "variants *" in text and "perturbed" not in text.split("\n")[0]
    assert "plus noise (cosine 0.99" in text and "measure parsing and storing, not the model" in text
