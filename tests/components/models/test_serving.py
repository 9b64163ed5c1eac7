"""`nlp serve`: a real uvicorn server on 127.0.0.1 answering real HTTP requests (httpx).

The model is a `logreg` task trained once per module in a real run on AG News rows
(`../shared/data/classification/ag_news_test_first_half.csv`; skipped when absent); the
requests carry other AG News rows. Predictions over HTTP must equal
`components.models.load(MODEL_DIR).predict(...)` on the same texts, in request order.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from components.models.serving import create_app
from pipeline.config import resolve_config
from pipeline.runner import run

TRAIN_ROWS = 400
LIMITS = {"max_batch": 8, "max_bytes": 20_000, "max_chars": 4_000}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ag_rows(shared_data) -> list[dict[str, str]]:
    """The AG News rows (label, title, description), in file order."""
    path = shared_data / "classification" / "ag_news_test_first_half.csv"
    if not path.is_file():
        pytest.skip(f"AG News test file not found at {path}")
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def held_out(ag_rows) -> list[str]:
    """20 news items the model never saw, as `title\\ndescription` like the reader joins them."""
    return [f"{r['title']}\n{r['description']}" for r in ag_rows[TRAIN_ROWS : TRAIN_ROWS + 20]]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, ag_rows) -> Path:
    """A `logreg` task trained in a real run on the first AG News rows: `RUN/tasks/category/`."""
    root = tmp_path_factory.mktemp("serve-model")
    corpus = root / "news.csv"
    with corpus.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["label", "title", "description"])
        writer.writeheader()
        writer.writerows(ag_rows[:TRAIN_ROWS])
    config = {
        "name": "serve-test",
        "corpus": {
            "reader": "csv",
            "path": str(corpus),
            "text_column": ["title", "description"],
            "label_column": "label",
        },
        "stages": [{"tokenize": {"backend": "regex"}}],
        "tasks": {"category": {"model": "logreg", "label": "label"}},
        "output": {"dir": str(root / "run")},
    }
    result = run(resolve_config(config))
    return result.run_dir / "tasks" / "category"


@pytest.fixture(scope="module")
def loaded(model_dir):
    """The model as Python code gets it: `components.models.load(MODEL_DIR)`."""
    from components.models import load

    return load(model_dir)


@pytest.fixture(scope="module")
def client(model_dir) -> Iterator[httpx.Client]:
    """An httpx client to a uvicorn server (one worker, in a thread) on a free local port."""
    import uvicorn

    port = _free_port()
    app = create_app(model_dir, **LIMITS)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        yield http
    server.should_exit = True
    thread.join(timeout=10)


def _same_prediction(served: dict, direct: dict) -> bool:
    return served["label"] == direct["label"] and served["probabilities"] == pytest.approx(
        direct["probabilities"], rel=1e-12, abs=1e-15
    )


def test_health_names_the_model(client, loaded):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "model": loaded.name}


def test_model_returns_the_card(client, loaded, model_dir):
    response = client.get("/model")
    assert response.status_code == 200
    card = response.json()
    assert card and card == json.loads(json.dumps(loaded.card))  # the card, unchanged


def test_predictions_equal_load_predict_in_request_order(client, loaded, held_out):
    texts = held_out[:8]
    direct = list(loaded.predict(texts))
    assert len({d["label"] for d in direct}) > 1  # real news: not one class for everything
    for order in (list(range(8)), list(reversed(range(8)))):
        response = client.post("/predict", json={"texts": [texts[i] for i in order]})
        assert response.status_code == 200, response.text
        served = response.json()["predictions"]
        assert [p["id"] for p in served] == list(range(8))  # ids default to the position
        assert all(_same_prediction(p, direct[i]) for p, i in zip(served, order, strict=True)), (
            served
        )
        assert set(served[0]["probabilities"]) == set(loaded.classes)


def test_concurrent_requests_each_get_their_own_predictions(client, loaded, held_out):
    from concurrent.futures import ThreadPoolExecutor

    direct = list(loaded.predict(held_out))
    batches = [held_out[i : i + 4] for i in range(0, 20, 4)] * 2  # 10 requests, 5 distinct

    def ask(texts: list[str]) -> list[dict]:
        response = client.post("/predict", json={"texts": texts})
        assert response.status_code == 200, response.text
        return response.json()["predictions"]

    with ThreadPoolExecutor(max_workers=5) as pool:  # in flight together in the server's threadpool
        answers = list(pool.map(ask, batches))
    for k, served in enumerate(answers):
        start = (k % 5) * 4
        assert all(
            _same_prediction(p, d) for p, d in zip(served, direct[start : start + 4], strict=True)
        )


def test_documents_keep_their_ids_and_order(client, loaded, held_out):
    docs = [
        {"id": "b-2", "text": held_out[10], "meta": {"source": "wire"}},
        {"id": "a-1", "text": held_out[11]},
        {"text": held_out[12]},  # no id: its position
    ]
    response = client.post("/predict", json={"documents": docs})
    assert response.status_code == 200, response.text
    served = response.json()["predictions"]
    assert [p["id"] for p in served] == ["b-2", "a-1", 2]
    direct = list(loaded.predict(held_out[10:13]))
    assert all(_same_prediction(p, d) for p, d in zip(served, direct, strict=True))


def test_a_rejected_input_gets_an_error_in_its_slot_and_the_rest_are_predicted(
    client, loaded, held_out
):
    response = client.post("/predict", json={"texts": ["", held_out[0], "   \n "]})
    assert response.status_code == 200, response.text
    served = response.json()["predictions"]
    assert served[0] == {"id": 0, "error": "empty document"}
    assert served[2] == {"id": 2, "error": "empty document"}
    assert _same_prediction(served[1], loaded.predict([held_out[0]])[0])

    docs = [
        {"id": "bad", "text": "a lone surrogate \ud800 here"},
        {"id": "ok", "text": held_out[1]},
    ]
    body = json.dumps({"documents": docs}).encode("ascii")  # ASCII JSON: the surrogate as an escape
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    bad, ok = response.json()["predictions"]
    assert bad["id"] == "bad" and "invalid Unicode" in bad["error"]
    assert ok["id"] == "ok" and ok["label"] in loaded.classes


def test_too_many_texts_is_413_naming_the_limit(client, held_out):
    response = client.post("/predict", json={"texts": held_out[:9]})
    assert response.status_code == 413
    assert "the limit is 8" in response.json()["detail"]
    assert client.post("/predict", json={"texts": held_out[:8]}).status_code == 200


def test_a_text_over_max_chars_is_413(client, held_out):
    long_text = " ".join(held_out) * 2
    assert len(long_text) > LIMITS["max_chars"]
    response = client.post("/predict", json={"texts": [held_out[0], long_text]})
    assert response.status_code == 413
    detail = response.json()["detail"]
    assert "text 1 is too long" in detail and "4,000" in detail


def test_a_body_over_max_bytes_is_413_declared_or_chunked(client, held_out):
    texts = [" ".join(held_out)[:3_000]] * 8  # under the other limits, ~24 KB of JSON
    response = client.post("/predict", json={"texts": texts})
    assert response.status_code == 413
    assert "the limit is 20,000 bytes" in response.json()["detail"]

    body = httpx.Request("POST", "/", json={"texts": texts}).content

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count
        for start in range(0, len(body), 1_000):
            yield body[start : start + 1_000]

    response = client.post(
        "/predict", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "the limit is 20,000 bytes" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"texts": []}, "texts is empty"),
        ({"texts": ["fine", 42]}, "texts.1: Input should be a valid string"),
        ({"documents": [{"id": "x"}]}, "documents.0.text: Field required"),
        ({}, "send exactly one of"),
        ({"texts": ["a"], "documents": [{"text": "b"}]}, "send exactly one of"),
        (["a bare list"], "the body must be a JSON object"),
    ],
)
def test_wrong_shapes_are_422_with_a_clear_message(client, body, says):
    response = client.post("/predict", json=body)
    assert response.status_code == 422
    assert says in response.json()["message"]


def test_malformed_json_is_422(client):
    response = client.post(
        "/predict", content=b'{"texts": ["unclosed', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["message"]


def test_serve_refuses_a_folder_that_is_not_a_model_before_listening(tmp_path):
    from components.models import ModelFolderError
    from components.models.serving import serve

    port = _free_port()
    with pytest.raises(ModelFolderError, match="no pipeline.json"):
        serve(tmp_path, port=port, workers=2)
    with socket.socket() as sock:  # nothing took the port
        sock.bind(("127.0.0.1", port))


@pytest.mark.slow  # each worker process imports scikit-learn: ~15-50 s on 2 busy cores
def test_two_workers_start_and_answer(model_dir, loaded, held_out):
    import psutil

    port = _free_port()
    code = (
        "import sys; from components.models.serving import serve; "
        "serve(sys.argv[1], port=int(sys.argv[2]), workers=2, log_level='warning')"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    proc = subprocess.Popen([sys.executable, "-c", code, str(model_dir), str(port)], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "the server exited before answering"
            assert time.monotonic() < deadline, "the server did not answer within 60 s"
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        workers = [
            p
            for p in psutil.Process(proc.pid).children()
            if "resource_tracker" not in " ".join(p.cmdline())
        ]
        assert len(workers) == 2, [p.cmdline() for p in workers]
        direct = list(loaded.predict(held_out[:4]))
        for _ in range(6):  # a new connection each time: the workers share the socket
            response = httpx.post(f"{base}/predict", json={"texts": held_out[:4]}, timeout=30)
            served = response.json()["predictions"]
            assert all(_same_prediction(p, d) for p, d in zip(served, direct, strict=True))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
