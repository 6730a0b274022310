"""The Gradio chat: streamed answers with citation cards, a medicine filter, examples and thumbs up/down."""

from __future__ import annotations

import dataclasses
import logging

import gradio as gr

from rag.schema import Answer
from rag.service import RagService

from . import render
from .feedback import FeedbackStore
from .models import unicode_text

log = logging.getLogger(__name__)

TITLE = "EMA medicine overviews: questions and answers"
NOTICE = ("Answers quote the European Medicines Agency's medicine overviews (summaries for the public) and are "
          "not medical advice: for your own treatment, read the package leaflet or ask a doctor or pharmacist.")
EXAMPLES = [
    "How often is Conexxence given?",
    "Vilken dos av Lumykras rekommenderas?",
    "What is the maximum daily dose of ibuprofen?",
]
ALL_MEDICINES = "All medicines"
HISTORY_EXCHANGES = 10  # the service reads only the latest turns; this bounds what is passed


def theme() -> gr.themes.Base:
    # Gradio's bundled semi-bold face only holds a few glyphs, so bold text would mix fonts; use the full bold.
    font = gr.themes.LocalFont("Source Sans Pro", weights=(400, 700))
    return gr.themes.Default(font=(font, "ui-sans-serif", "system-ui", "sans-serif"))


def _medicine_names(service: RagService) -> list[str]:
    try:
        return [m["name"] for m in service.medicines()]
    except Exception as exc:
        log.warning("cannot list medicines: %s", exc)
        return []


def _history(exchanges: list[dict]) -> list[dict]:
    """The conversation as the service reads it: plain question and answer text."""
    turns = []
    for e in exchanges:
        turns += [{"role": "user", "content": e["question"]}, {"role": "assistant", "content": e["answer"]}]
    return turns


def _shown(exchanges: list[dict]) -> list[dict]:
    """What the Chatbot displays; message 2k is question k and message 2k+1 its answer."""
    messages = []
    for e in exchanges:
        messages.append({"role": "user", "content": render.text(e["question"])})
        messages.append({"role": "assistant", "content": render.message(e["answer"], e["citations"])})
    return messages


def build_chat(service: RagService, feedback: FeedbackStore, *, concurrency: int, max_chars: int) -> gr.Blocks:
    def respond(message: str, exchanges: list[dict], medicine: str | None):
        question = unicode_text(message or "").strip()
        if not question:
            yield gr.skip(), gr.skip(), gr.skip(), "Type a question about a medicine first."
            return
        exchanges = list(exchanges or [])
        shown = _shown(exchanges) + [{"role": "user", "content": render.text(question)},
                                     {"role": "assistant", "content": ""}]
        yield "", shown, gr.skip(), ""
        only = medicine if medicine and medicine != ALL_MEDICINES else None
        so_far, final = "", None
        try:
            for item in service.stream(question, _history(exchanges[-HISTORY_EXCHANGES:]), only):
                if isinstance(item, Answer):
                    final = item
                else:
                    so_far += item
                    shown[-1]["content"] = render.text(so_far)
                    yield gr.skip(), shown, gr.skip(), gr.skip()
        except Exception:
            log.exception("answering failed")
            raise gr.Error("The answer could not be produced; the server log says why.") from None
        assert final is not None
        exchanges.append({"question": question, "answer": final.answer, "refused": final.refused,
                          "citations": [dataclasses.asdict(c) for c in final.citations]})
        yield gr.skip(), _shown(exchanges), exchanges, gr.skip()

    def vote(exchanges: list[dict], data: gr.LikeData):
        index = data.index if isinstance(data.index, int) else data.index[0]
        if index % 2 != 1 or index // 2 >= len(exchanges or []) or data.liked not in (True, False):
            return gr.skip()
        e = exchanges[index // 2]
        citations = [{k: v for k, v in c.items() if k != "context"} for c in e["citations"]]
        feedback.add(question=e["question"], answer=e["answer"], citations=citations,
                     vote="up" if data.liked else "down", refused=e["refused"], source="chat")
        # A line of its own under the chat, not a toast: it covers nothing at any window width.
        return "Thank you, your feedback was saved."

    def example_text(data: gr.SelectData) -> str:
        return data.value["text"]

    def medicine_choices():
        return gr.update(choices=[ALL_MEDICINES] + _medicine_names(service))

    with gr.Blocks(title="EMA medicine Q&A", fill_height=True, analytics_enabled=False) as blocks:
        exchanges = gr.State([])
        with gr.Row(equal_height=True, elem_id="top"):
            gr.Markdown(f"## {TITLE}\n{NOTICE}", elem_id="intro")
            medicine = gr.Dropdown([ALL_MEDICINES] + _medicine_names(service), value=ALL_MEDICINES,
                                   label="Answer from", elem_id="medicine", filterable=False, scale=0,
                                   min_width=220)
        chatbot = gr.Chatbot(
            elem_id="chat", label="Conversation", show_label=False, scale=1, min_height=420,
            sanitize_html=True, allow_tags=False, render_markdown=True, latex_delimiters=[],
            buttons=[], feedback_options=("Like", "Dislike"), layout="panel",
            examples=[{"text": q} for q in EXAMPLES],
            placeholder="Ask about a medicine covered by the EMA overviews, in English or Swedish.",
        )
        box = gr.Textbox(elem_id="question", show_label=False, lines=1, max_lines=6, max_length=max_chars,
                         placeholder="Type a question, e.g. How often is Conexxence given?",
                         submit_btn="Ask", autofocus=True)
        with gr.Row(elem_id="foot"):
            status = gr.Markdown("", elem_id="status", container=False)
            gr.Markdown("[API docs](/docs) · [Help widget demo](/embed)", elem_id="links", container=False)

        chat_io = dict(inputs=[box, exchanges, medicine], outputs=[box, chatbot, exchanges, status],
                       concurrency_limit=concurrency, concurrency_id="answer", api_visibility="private")
        box.submit(respond, **chat_io)
        chatbot.example_select(example_text, None, box, queue=False,
                               api_visibility="private").then(respond, **chat_io)
        chatbot.like(vote, [exchanges], status, api_visibility="private")
        chatbot.clear(lambda: [], None, exchanges, api_visibility="private")
        blocks.load(medicine_choices, None, medicine, api_visibility="private")

    blocks.queue(default_concurrency_limit=concurrency, max_size=64)
    return blocks
