"""EMA-like overview PDFs for tests, with what real ones have: the reference numbers at the top,
the agency's address block, a running footer with a page counter, hyphenated words across lines,
and text in any EU script (a Unicode font that has å, ö, ł, ő, ř, Greek and Cyrillic)."""

from __future__ import annotations

from pathlib import Path

ADDRESS = (
    "Official address Domenico Scarlattilaan 6 ● 1083 HS Amsterdam ● The Netherlands",
    "Address for visits and deliveries Refer to www.ema.europa.eu/how-to-find-us",
    "Send us a question Go to www.ema.europa.eu/contact Telephone +31 (0)88 781 6000",
    "An agency of the European Union",
    "© European Medicines Agency, 2024. Reproduction is authorised provided the source is acknowledged.",
)


def _font() -> str:
    import matplotlib

    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")


def _wrap(paragraph: str, width: int, hyphenate: bool) -> list[str]:
    """Lines of at most `width` characters; with `hyphenate`, a long word at a line end is split with '-'."""
    lines: list[str] = []
    cur = ""
    for word in paragraph.split():
        if len(cur) + 1 + len(word) <= width:
            cur = f"{cur} {word}".strip()
            continue
        room = width - len(cur) - 2
        if hyphenate and len(word) >= 8 and room >= 4 and word[:room].isalpha() and word[room:room + 1].islower():
            lines.append(f"{cur} {word[:room]}-".strip())
            cur = word[room:]
        else:
            lines.append(cur)
            cur = word
    if cur:
        lines.append(cur)
    return lines


def ema_pdf(
    path: Path,
    *,
    medicine: str,
    substance: str,
    ref: str,
    product: str,
    title: str,
    sections: list[tuple[str, list[str]]],
    page_word: str = "Page",
    lines_per_page: int = 34,
    width: int = 80,
) -> Path:
    from fpdf import FPDF

    footer_text = f"{medicine} ({substance})\n{ref}"

    class Overview(FPDF):
        def footer(self) -> None:
            self.set_y(-18)
            self.set_font("DejaVu", size=8)
            self.multi_cell(0, 4, footer_text + f"    {page_word} {self.page_no()}/{{nb}}")

    pdf = Overview(format="A4")
    pdf.alias_nb_pages()
    pdf.add_font("DejaVu", fname=_font())
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("DejaVu", size=10)
    rows: list[str] = [ref, product, "", f"{medicine} ({substance})", title, ""]
    for heading, paragraphs in sections:
        rows += [heading]
        for para in paragraphs:
            rows += _wrap(para, width, hyphenate=True) + [""]
    first_page = True
    used = 0
    for row in rows:
        if used >= lines_per_page:
            if first_page:
                pdf.set_y(-42)
                pdf.set_font("DejaVu", size=7)
                for line in ADDRESS:
                    pdf.cell(0, 3.5, line, new_x="LMARGIN", new_y="NEXT")
                pdf.set_font("DejaVu", size=10)
                first_page = False
            pdf.add_page()
            used = 0
        pdf.cell(0, 6, row, new_x="LMARGIN", new_y="NEXT")
        used += 1
    if first_page:
        pdf.set_y(-42)
        pdf.set_font("DejaVu", size=7)
        for line in ADDRESS:
            pdf.cell(0, 3.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path
