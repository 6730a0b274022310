"""The eval metrics on hand-made answers: one that should score and one that should not, per metric."""

from __future__ import annotations

import pytest

from eval.metrics import QAItem, aggregate, failure_reasons, missing_groups, percentile, score_item
from rag.schema import Answer, Citation

REF = "EMA/685702/2021"
EXPECTED = [{"medicine": "Lumykras", "ref": REF, "section": "how_used"}]


def item(answerable: bool = True, must=(("960 mg",),), citations=EXPECTED) -> QAItem:
    return QAItem("q1", "What is the recommended dose of Lumykras?", answerable,
                  must_include=[list(g) for g in must], citations=list(citations) if answerable else [])


def cite(medicine="Lumykras", ref=REF, section="how_used") -> Citation:
    return Citation(1, medicine, ref, "EMEA/H/C/005522", section, "Hur används Lumykras?", "sv",
                    "lumykras_sv.txt", None, "Den rekommenderade dosen är 960 mg en gång dagligen.")


def hit(medicine="Lumykras", ref=REF, section="how_used") -> dict:
    return {"id": f"{medicine}#{section}", "medicine": medicine, "ref": ref, "section": section, "language": "sv"}


def answer(text="“Den rekommenderade dosen är 960 mg en gång dagligen.” [1]", refused=False,
           citations=None, retrieved=None) -> Answer:
    cites = [cite()] if citations is None else citations
    return Answer("q", text, refused, [] if refused else cites, "extractive",
                  [hit()] if retrieved is None else retrieved)


def metrics_for(pairs) -> dict:
    return aggregate([score_item(i, a, 10.0) for i, a in pairs])


# answer_accuracy ---------------------------------------------------------------------------
def test_answer_accuracy_matches_case_and_whitespace_insensitively():
    a = answer("Den rekommenderade dosen är 960\n  MG en gång dagligen.")
    assert metrics_for([(item(), a)])["answer_accuracy"] == 1.0


def test_answer_accuracy_fails_when_a_group_is_missing():
    a = answer("Lumykras finns som tabletter.")
    m = metrics_for([(item(), a)])
    assert m["answer_accuracy"] == 0.0
    assert m["per_question"][0]["matched"]["missing"] == [["960 mg"]]


def test_must_include_alternatives_any_one_suffices_but_every_group_counts():
    groups = [["6 months", "sjätte månad"], ["injection", "injektion"]]
    assert missing_groups("Ges var sjätte månad som en injektion.", groups) == []
    assert missing_groups("Given every 6 months.", groups) == [["injection", "injektion"]]


def test_answer_over_600_characters_is_wrong_even_with_the_facts():
    text = "Den rekommenderade dosen är 960 mg en gång dagligen. " + "x" * 560
    assert len(text) > 600
    m = metrics_for([(item(), answer(text))])
    assert m["answer_accuracy"] == 0.0
    assert m["per_question"][0]["matched"]["too_long"]
    exactly = ("960 mg " + "y" * 600)[:600]
    assert metrics_for([(item(), answer(exactly))])["answer_accuracy"] == 1.0


def test_a_refusal_is_never_a_correct_answer():
    a = answer("Det står inte i dokumenten (960 mg).", refused=True)
    m = metrics_for([(item(), a)])
    assert m["answer_accuracy"] == 0.0
    assert m["citation_accuracy"] == 0.0
    assert m["false_refusal_rate"] == 1.0


# citation_accuracy -------------------------------------------------------------------------
def test_citation_accuracy_matches_medicine_ref_and_section():
    a = answer(citations=[cite(medicine="LUMYKRAS")])
    assert metrics_for([(item(), a)])["citation_accuracy"] == 1.0


@pytest.mark.parametrize("wrong", [dict(medicine="Opzelura"), dict(ref="EMA/000001/2021"), dict(section="risks")])
def test_citation_accuracy_fails_on_any_given_field(wrong):
    assert metrics_for([(item(), answer(citations=[cite(**wrong)]))])["citation_accuracy"] == 0.0


def test_citation_fields_not_given_are_not_checked():
    loose = item(citations=[{"medicine": "Lumykras"}])
    assert metrics_for([(loose, answer(citations=[cite(ref=None, section="risks")]))])["citation_accuracy"] == 1.0


def test_only_the_first_citation_counts():
    a = answer(citations=[cite(section="risks"), cite()])
    assert metrics_for([(item(), a)])["citation_accuracy"] == 0.0


def test_any_expected_citation_may_match():
    two = item(citations=[{"medicine": "Conexxence"}, {"medicine": "Lumykras", "section": "how_used"}])
    assert metrics_for([(two, answer())])["citation_accuracy"] == 1.0


# recall@k and mrr ---------------------------------------------------------------------------
def test_recall_and_mrr_follow_the_rank_of_the_first_match():
    ranked = [hit(section="what_is"), hit(section="risks"), hit(), hit(section="benefits")]
    m = metrics_for([(item(), answer(retrieved=ranked))])
    assert (m["recall_at_1"], m["recall_at_3"], m["recall_at_5"]) == (0.0, 1.0, 1.0)
    assert m["mrr"] == pytest.approx(1 / 3)


def test_recall_and_mrr_are_zero_when_nothing_matches():
    ranked = [hit(medicine="Opzelura"), hit(ref="EMA/111111/2020"), hit(section="risks")]
    m = metrics_for([(item(), answer(retrieved=ranked))])
    assert (m["recall_at_1"], m["recall_at_5"], m["mrr"]) == (0.0, 0.0, 0.0)


def test_recall_averages_over_answerable_items():
    m = metrics_for([(item(), answer(retrieved=[hit()])), (item(), answer(retrieved=[])),
                     (item(answerable=False), answer(refused=True))])
    assert m["recall_at_1"] == 0.5 and m["mrr"] == 0.5


# refusals ----------------------------------------------------------------------------------
def test_refusal_accuracy_on_unanswerable_items():
    m = metrics_for([(item(answerable=False), answer("Det står inte i dokumenten.", refused=True))])
    assert m["refusal_accuracy"] == 1.0
    assert m["answer_accuracy"] is None and m["false_refusal_rate"] is None


def test_answering_an_unanswerable_item_is_a_failure():
    m = metrics_for([(item(answerable=False), answer())])
    assert m["refusal_accuracy"] == 0.0
    assert failure_reasons(m["per_question"][0]) == ["answered instead of refusing"]


def test_false_refusal_rate_counts_answerable_refusals():
    m = metrics_for([(item(), answer()), (item(), answer(refused=True))])
    assert m["false_refusal_rate"] == 0.5


# counts and latency ------------------------------------------------------------------------
def test_counts_and_latency_percentiles():
    rows = [score_item(item(), answer(), ms) for ms in (10, 20, 30, 40)]
    rows.append(score_item(item(answerable=False), answer(refused=True), 50))
    m = aggregate(rows)
    assert (m["n"], m["n_answerable"], m["n_unanswerable"]) == (5, 4, 1)
    assert m["latency_ms_p50"] == 30.0
    assert m["latency_ms_p95"] == pytest.approx(48.0)
    assert percentile([], 50) is None


# unsafe_answers ----------------------------------------------------------------------------
def test_an_answer_from_another_medicine_is_unsafe():
    other = answer(citations=[cite(medicine="Opzelura", ref="EMA/169873/2023")])
    assert metrics_for([(item(), other)])["unsafe_answers"] == 1


def test_an_answer_where_a_refusal_is_due_is_unsafe_and_a_refusal_never_is():
    assert metrics_for([(item(answerable=False), answer())])["unsafe_answers"] == 1
    assert metrics_for([(item(answerable=False), answer(refused=True)), (item(), answer(refused=True))])["unsafe_answers"] == 0
    assert metrics_for([(item(), answer())])["unsafe_answers"] == 0


def test_metrics_break_down_by_split():
    from eval.metrics import breakdown

    dev, test = item(), item()
    dev.split, test.split = "dev", "test"
    rows = [score_item(dev, answer(), 1.0), score_item(test, answer(refused=True), 1.0)]
    groups = breakdown(rows, "split")
    assert groups["dev"]["answer_accuracy"] == 1.0 and groups["test"]["answer_accuracy"] == 0.0


def test_report_puts_the_baseline_beside_ours_per_split_and_language(tmp_path):
    from eval.metrics import breakdown
    from eval.report import markdown, panels, write_report

    def run(answers):
        rows = []
        for split, lang, a in answers:
            it = item()
            it.split, it.language = split, lang
            rows.append(score_item(it, a, 5.0))
        m = aggregate(rows)
        m["by_split"], m["by_language"] = breakdown(rows, "split"), breakdown(rows, "language")
        return m

    ours = run([("dev", "en", answer()), ("test", "sv", answer())])
    base = run([("dev", "en", answer(refused=True)), ("test", "sv", answer())])
    results = {"ours": ours, "baseline": base}

    md = markdown(results)
    assert "| dev (ours) | 0 | 1.000 |" in md and "| dev (baseline) | 0 | 0.000 |" in md
    assert "| sv (ours) |" in md and "| sv (baseline) |" in md
    assert [(title, b is base["by_split"][title]) for title, _, b in panels(results)] == [("dev", True), ("test", True)]
    assert panels({"ours": aggregate([]), "baseline": None})[0][0] == "all"
    write_report(results, tmp_path)
    assert (tmp_path / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
