"""Citations a pharmacist can check: the EMA page, the product number, the PDF page and the whole section."""

from __future__ import annotations

import pytest

from rag.citations import ema_page, pdf_page

from .test_ingest import _pdf_bytes

EPAR = "https://www.ema.europa.eu/en/medicines/human/EPAR/"


@pytest.mark.parametrize("name, slug", [
    ("Conexxence", "conexxence"),
    ("Opzelura", "opzelura"),
    ("Nplate Plus", "nplate-plus"),
    ("Évaltra (forte)", "evaltra-forte"),
    ("Zyx  Ä/B", "zyx-ab"),
])
def test_the_ema_page_is_built_from_the_medicine_name(name, slug):
    assert ema_page({"medicine": name}) == EPAR + slug


def test_no_name_no_link():
    assert ema_page({"medicine": ""}) is None and ema_page({"medicine": "!!"}) is None


@pytest.mark.parametrize("url", [
    "javascript:alert(1)",
    "http://www.ema.europa.eu/en/medicines/human/EPAR/conexxence",
    "https://www.ema.europa.eu.evil.example/en/medicines/human/EPAR/conexxence",
    "https://evil.example/?https://www.ema.europa.eu/",
    "https://user@www.ema.europa.eu/x",
    'https://www.ema.europa.eu/x" onmouseover="alert(1)',
    "https://www.ema.europa.eu/x\nSet-Cookie: a=b",
])
def test_an_ingested_url_is_used_only_when_it_is_an_ema_page(url):
    assert ema_page({"medicine": "Conexxence", "url": url}) == EPAR + "conexxence"


def test_an_ingested_ema_url_is_preferred():
    url = EPAR + "conexxence-previously-xyz"
    assert ema_page({"medicine": "Conexxence", "url": url}) == url


def test_page_numbers_only_for_pdfs():
    assert pdf_page({"source": "x.pdf", "page": 3}) == 3
    assert pdf_page({"source": "x.md", "page": 1}) is None and pdf_page({"source": "x.pdf", "page": 0}) is None


def test_an_answer_from_a_pdf_cites_its_page_link_product_number_and_section(make_settings, tmp_path):
    from ingest.pipeline import ingest
    from rag.service import RagService

    settings = make_settings()
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "pdfmed.pdf").write_bytes(_pdf_bytes("Pdfmed"))
    assert ingest([folder], settings).exit_code == 0
    answer = RagService(settings).answer("Vilka är riskerna med Pdfmed?")
    assert not answer.refused, answer.answer
    c = answer.citations[0]
    assert (c.page, c.url, c.product_number) == (2, EPAR + "pdfmed", "EMEA/H/C/009999")
    assert c.quote in c.context and "huvudvärk" in c.quote
    assert c.context.startswith("De vanligaste biverkningarna")


def test_an_answer_from_markdown_links_the_ema_page_and_gives_no_page(service):
    c = service.answer("How often is Conexxence given?").citations[0]
    assert c.url == EPAR + "conexxence" and c.page is None
    assert c.product_number == "EMEA/H/C/006268"
    assert c.quote in c.context and len(c.context) > len(c.quote)


def test_chat_card_links_only_ema_pages_and_marks_the_quote_as_text():
    from ui import render

    c = {"number": 1, "medicine": "<b>M</b>", "section_title": "How is M used?", "ref": "EMA/1/2020",
         "product_number": "EMEA/H/C/000001", "language": "en", "source": "m.pdf", "page": 3,
         "quote": "It is given <img src=x onerror=alert(1)> daily.",
         "context": "First [x](javascript:alert(1)).\n\nIt is given <img src=x onerror=alert(1)> daily. Last.",
         "url": EPAR + "m"}
    html = render.card(c)
    assert f'href="{EPAR}m"' in html and 'rel="noopener noreferrer"' in html and 'target="_blank"' in html
    assert "EMEA/H/C/000001" in html and "m.pdf, p. 3" in html
    assert "<mark>It is given &lt;img src=x onerror=alert(1)&gt; daily.</mark> Last." in html
    assert "<img" not in html and "<b>" not in html and "](" not in html
    for bad in ("javascript:alert(1)", "https://evil.example/", EPAR + 'm" onclick="alert(1)'):
        assert "<a " not in render.card(c | {"url": bad})
