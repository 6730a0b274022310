"""Latency of /api/ask beside /v1/chat/completions (plain and streamed) on the same questions, one at a time.

`python -m eval.api_latency --url http://127.0.0.1:7860 [--questions 30] [--api-key KEY]`. The questions are
spread over eval/qa.jsonl (with their chat history). Every question is asked once first to warm the answer
caches, so the figures compare the endpoints rather than first-time embedding; then each endpoint is timed on
each question, in an order that rotates per question so no endpoint always goes first. For loopback addresses
of an app you started yourself.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from .metrics import percentile
from .runner import SEED_QA, load_qa

ENDPOINTS = ("api_ask", "v1_chat", "v1_chat_stream")


def questions(n: int) -> list[tuple[str, list[dict]]]:
    items = load_qa(SEED_QA)
    step = max(1, len(items) // n)
    return [(i.question, i.history) for i in items[::step][:n]]


def _api_ask(http, question: str, history: list[dict]) -> str:
    r = http.post("/api/ask", json={"question": question, "history": history})
    r.raise_for_status()
    return r.json()["answer"]


def _v1(http, question: str, history: list[dict], stream: bool) -> tuple[str, float | None]:
    body = {"model": "ema-overviews", "messages": history + [{"role": "user", "content": question}], "stream": stream}
    if not stream:
        r = http.post("/v1/chat/completions", json=body)
        r.raise_for_status()
        return r.json()["choices"][0]["message"]["content"], None
    start, first, text = time.perf_counter(), None, []
    with http.stream("POST", "/v1/chat/completions", json=body) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            data = line.removeprefix("data: ") if line.startswith("data: ") else None
            if data is None or data == "[DONE]":
                continue
            for choice in json.loads(data)["choices"]:
                piece = choice["delta"].get("content")
                if piece:
                    first = first or time.perf_counter() - start
                    text.append(piece)
    return "".join(text), first


def run(url: str, n: int = 30, headers: dict | None = None) -> dict:
    import httpx

    qs = questions(n)
    timings: dict[str, list[float]] = {e: [] for e in ENDPOINTS}
    first_piece: list[float] = []
    with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
        calls = {
            "api_ask": lambda q, h: (_api_ask(http, q, h), None),
            "v1_chat": lambda q, h: _v1(http, q, h, stream=False),
            "v1_chat_stream": lambda q, h: _v1(http, q, h, stream=True),
        }
        for q, h in qs:  # warm-up, not timed
            _api_ask(http, q, h)
        for k, (q, h) in enumerate(qs):
            order = ENDPOINTS[k % 3:] + ENDPOINTS[:k % 3]
            for name in order:
                start = time.perf_counter()
                _, first = calls[name](q, h)
                timings[name].append((time.perf_counter() - start) * 1000)
                if first is not None:
                    first_piece.append(first * 1000)

    def stats(ms: list[float]) -> dict:
        return {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(percentile(ms, 95), 1),
                "mean_ms": round(statistics.fmean(ms), 1)}

    result = {"url": url, "questions": len(qs), **{name: stats(ms) for name, ms in timings.items()},
              "v1_chat_stream_first_piece": stats(first_piece)}
    # Per question, so the cost of the question itself cancels out.
    for name in ("v1_chat", "v1_chat_stream"):
        gaps = [v - a for v, a in zip(timings[name], timings["api_ask"])]
        result[f"{name}_minus_api_ask_median_ms"] = round(statistics.median(gaps), 1)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.api_latency", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:7860")
    p.add_argument("--questions", type=int, default=30)
    p.add_argument("--api-key", help="sent as X-API-Key")
    args = p.parse_args(argv)
    headers = {"X-API-Key": args.api_key} if args.api_key else None
    print(json.dumps(run(args.url, args.questions, headers), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
