"""`nlp serve` under a bounded load from the same machine, beside `load().predict` in-process.

    python benchmarks/bench_serve.py                          # trains a logreg on AG News first
    python benchmarks/bench_serve.py --model RUN/tasks/category --workers 1 2 --clients 8

The model (unless `--model`) is a `logreg` task trained in a real run on the first 2,000
rows of `../shared/data/classification/ag_news_test_first_half.csv`; requests carry the
other 1,800 rows. For each worker count the server runs in its own process (`serve()`,
as `nlp serve` does) on a free port; `--clients` concurrent keep-alive connections
(asyncio + httpx) send `--requests` requests of `batch` texts each, after a warm-up.
Prints requests/s, documents/s and latency p50/p95/p99 per (workers, batch), and the
in-process `load(MODEL_DIR).predict` documents/s at the same batch sizes as the baseline.
The load generator shares the machine's cores with the server: its own CPU use and the
load average are printed beside each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import SHARED, load  # noqa: E402

AG_NEWS = SHARED / "classification" / "ag_news_test_first_half.csv"
TRAIN_ROWS = 2_000


def ag_news() -> tuple[list[dict[str, str]], list[str]]:
    """(training rows, held-out texts joined `title\\ndescription` as the csv reader does)."""
    if not AG_NEWS.is_file():
        sys.exit(f"AG News not found at {AG_NEWS}: set NLP_SHARED_DATA or pass --model")
    with AG_NEWS.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    held_out = [f"{r['title']}\n{r['description']}" for r in rows[TRAIN_ROWS:]]
    return rows[:TRAIN_ROWS], held_out


def train_logreg(rows: list[dict[str, str]], folder: Path) -> Path:
    """A `logreg` task trained in a real run on `rows`; returns its model folder."""
    from pipeline.config import resolve_config
    from pipeline.runner import run

    corpus = folder / "news.csv"
    with corpus.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["label", "title", "description"])
        writer.writeheader()
        writer.writerows(rows)
    config = {
        "name": "bench-serve",
        "corpus": {
            "reader": "csv",
            "path": str(corpus),
            "text_column": ["title", "description"],
            "label_column": "label",
        },
        "stages": [{"tokenize": {"backend": "regex"}}],
        "tasks": {"category": {"model": "logreg", "label": "label"}},
        "output": {"dir": str(folder / "run")},
    }
    t0 = time.perf_counter()
    result = run(resolve_config(config))
    print(f"trained logreg on {len(rows):,} AG News rows in {time.perf_counter() - t0:.1f}s")
    return result.run_dir / "tasks" / "category"


def direct_docs_per_second(model_dir: Path, texts: list[str], batch: int, seconds: float) -> float:
    """Documents/s of `load(model_dir).predict` in this process, `batch` texts per call."""
    from components.models import load as load_model

    predictor = load_model(model_dir)
    list(predictor.predict(texts[:batch]))  # warm up
    done, i, t0 = 0, 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        chunk = texts[i : i + batch] or texts[:batch]
        i = (i + batch) % len(texts)
        done += len(list(predictor.predict(chunk)))
    return done / (time.perf_counter() - t0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model_dir: Path, workers: int, port: int) -> subprocess.Popen:
    """`serve(model_dir, workers=...)` in its own process; returns once /health answers."""
    import httpx

    code = (
        "import sys; from components.models.serving import serve; "
        "serve(sys.argv[1], port=int(sys.argv[2]), workers=int(sys.argv[3]), "
        "max_batch=256, log_level='warning')"
    )
    args = [sys.executable, "-c", code, str(model_dir), str(port), str(workers)]
    proc = subprocess.Popen(args, cwd=ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.terminate()
    sys.exit("the server did not answer /health within 120 s")


async def drive(url: str, texts: list[str], batch: int, clients: int, requests: int) -> list[float]:
    """Send `requests` POST /predict of `batch` texts over `clients` concurrent connections;
    return each request's latency in seconds."""
    import httpx

    bodies = [
        {"texts": [texts[(r * batch + k) % len(texts)] for k in range(batch)]}
        for r in range(requests)
    ]
    latencies: list[float] = []
    next_request = iter(range(requests))

    async def client(http: httpx.AsyncClient) -> None:
        for r in next_request:
            t0 = time.perf_counter()
            response = await http.post(f"{url}/predict", json=bodies[r])
            latencies.append(time.perf_counter() - t0)
            if response.status_code != 200 or len(response.json()["predictions"]) != batch:
                raise RuntimeError(f"request {r}: {response.status_code} {response.text[:200]}")

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a trained model folder (default: train one)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections")
    parser.add_argument("--requests", type=int, default=400, help="timed requests per setting")
    args = parser.parse_args(argv)

    rows, texts = ag_news()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        model_dir = args.model or train_logreg(rows, Path(tmp))
        for batch in args.batch_sizes:
            rate = direct_docs_per_second(model_dir, texts, batch, seconds=3.0)
            print(
                f"direct  load().predict        batch {batch:3d}  {rate:9,.0f} docs/s  ({load()})"
            )
        for workers in args.workers:
            port = free_port()
            proc = start_server(model_dir, workers, port)
            try:
                url = f"http://127.0.0.1:{port}"
                for batch in args.batch_sizes:
                    warm = max(2 * args.clients, 20)
                    asyncio.run(drive(url, texts, batch, args.clients, warm))
                    t0, cpu0 = time.perf_counter(), time.process_time()
                    lat = asyncio.run(drive(url, texts, batch, args.clients, args.requests))
                    wall = time.perf_counter() - t0
                    client_cpu = (time.process_time() - cpu0) / wall
                    p50, p95, p99 = (1000 * percentile(lat, q) for q in (50, 95, 99))
                    print(
                        f"serve   workers {workers} clients {args.clients}  batch {batch:3d}  "
                        f"{args.requests / wall:7,.0f} req/s {args.requests * batch / wall:9,.0f} "
                        f"docs/s  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms  "
                        f"(load generator {client_cpu:.0%} of a core; {load()})"
                    )
            finally:
                proc.terminate()
                proc.wait(timeout=30)


if __name__ == "__main__":
    main()
