"""Load on /api/ask from many concurrent clients, with /api/health polled meanwhile.

`python -m eval.load --url http://127.0.0.1:7860 [--clients 50] [--questions 20]`. Bounded in
count and time; meant for loopback addresses of an app you started yourself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field

QUESTIONS = (
    "How often is Conexxence given?",
    "What is the recommended dose of Lumykras?",
    "Hur ofta ges Conexxence?",
    "Which medicine is used for vitiligo?",
    "What are the most common side effects of Opzelura?",
    "How does Lumykras work?",
    "What is the maximum daily dose of ibuprofen?",
    "Vilka är riskerna med Lumykras?",
    "Who is the marketing authorisation holder for Conexxence?",
    "What information is still awaited about Lumykras?",
)


@dataclass
class LoadResult:
    clients: int
    questions_per_client: int
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    ask_p50_ms: float = 0.0
    ask_p95_ms: float = 0.0
    ask_max_ms: float = 0.0
    throughput_rps: float = 0.0
    health_checks: int = 0
    health_errors: int = 0
    health_p50_ms: float = 0.0
    health_max_ms: float = 0.0


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def run(url: str, clients: int = 50, questions: int = 20, timeout_s: float = 300.0,
              headers: dict | None = None) -> LoadResult:
    import httpx

    result = LoadResult(clients, questions)
    latencies: list[float] = []
    health: list[float] = []
    done = asyncio.Event()
    limits = httpx.Limits(max_connections=clients + 2, max_keepalive_connections=clients + 2)

    async with httpx.AsyncClient(base_url=url, timeout=timeout_s, limits=limits, headers=headers) as http:

        async def client(n: int) -> None:
            for i in range(questions):
                q = QUESTIONS[(n + i) % len(QUESTIONS)]
                start = time.perf_counter()
                try:
                    r = await http.post("/api/ask", json={"question": q, "history": []})
                    ok = r.status_code == 200 and "answer" in r.json()
                except Exception as exc:  # counted, not raised: the run reports every failure
                    ok, r = False, exc
                latencies.append((time.perf_counter() - start) * 1000)
                result.requests += 1
                if not ok:
                    result.errors += 1
                    if len(result.error_samples) < 5:
                        result.error_samples.append(repr(r)[:200])

        async def poll_health() -> None:
            while not done.is_set():
                start = time.perf_counter()
                try:
                    r = await http.get("/api/health", timeout=10.0)
                    if r.status_code != 200:
                        result.health_errors += 1
                except Exception:
                    result.health_errors += 1
                health.append((time.perf_counter() - start) * 1000)
                result.health_checks += 1
                await asyncio.sleep(0.25)

        start = time.perf_counter()
        poller = asyncio.create_task(poll_health())
        await asyncio.wait_for(asyncio.gather(*(client(n) for n in range(clients))), timeout=timeout_s)
        done.set()
        await poller
        result.wall_s = time.perf_counter() - start

    result.ask_p50_ms = round(statistics.median(latencies), 1) if latencies else 0.0
    result.ask_p95_ms = round(_pct(latencies, 0.95), 1)
    result.ask_max_ms = round(max(latencies, default=0.0), 1)
    result.throughput_rps = round(result.requests / result.wall_s, 1) if result.wall_s else 0.0
    result.health_p50_ms = round(statistics.median(health), 1) if health else 0.0
    result.health_max_ms = round(max(health, default=0.0), 1)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.load", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:7860")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--questions", type=int, default=20)
    p.add_argument("--api-key", help="sent as X-API-Key")
    args = p.parse_args(argv)
    headers = {"X-API-Key": args.api_key} if args.api_key else None
    result = asyncio.run(run(args.url, args.clients, args.questions, headers=headers))
    print(json.dumps(asdict(result), indent=2))
    return 0 if result.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
