"""`nlp serve`: predictions over HTTP from a trained model folder (FastAPI on uvicorn).

Endpoints:

- `POST /predict` with `{"texts": ["...", ...]}` or `{"documents": [{"id", "text", "meta"}, ...]}`
  answers `{"predictions": [{"id", ...prediction...}, ...]}` in input order; ids default to
  the position in the request. An input a run would quarantine (empty, invalid Unicode,
  over the model's `corpus.max_chars`, or one a stage fails on) gets `{"id", "error":
  reason}` in its slot instead of failing the whole request.
- `GET /health` -> `{"status": "ok", "model": name}`; `GET /model` -> the model's card.

Status codes: every *size* limit answers 413 (body over `max_bytes`, judged on
`Content-Length` before reading and on the bytes actually received for chunked bodies;
more than `max_batch` texts; one text over `max_chars`), every *shape* problem answers 422
(malformed JSON, neither or both of `texts`/`documents`, an empty list, a non-string
text). Errors carry a JSON `detail` saying what was wrong and what to change.

The model is loaded once per worker process at startup (the app's lifespan) and warmed
up with one prediction; `/predict` is a plain `def` endpoint, so predictions run in the
threadpool and the event loop keeps answering `/health` while a batch is scored.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.document import Document
from pipeline.shards import check_item
from pipeline.stage import StageError

__all__ = [
    "MODEL_DIR_ENV",
    "LIMITS_ENV",
    "PredictRequest",
    "Predictor",
    "app_from_env",
    "create_app",
    "intake_problem",
    "predict_items",
    "serve",
]

logger = logging.getLogger(__name__)

#: Environment variables through which `serve` hands the model folder and limits to workers.
MODEL_DIR_ENV = "NLP_SERVE_MODEL_DIR"
LIMITS_ENV = "NLP_SERVE_LIMITS"

DEFAULT_MAX_BATCH = 256
DEFAULT_MAX_BYTES = 1_000_000
DEFAULT_MAX_CHARS = 100_000
INTAKE_MAX_CHARS = 1_000_000  # a run's corpus.max_chars default, when the model has none
WARM_UP_TEXT = "Stocks rose on Tuesday after the central bank held interest rates steady."


class Predictor(Protocol):
    """What the server needs from `components.models.load(MODEL_DIR)`."""

    name: str
    card: dict[str, Any]

    def predict(self, texts_or_docs: Sequence[str | Document]) -> Any:
        """One JSON-ready dict per input, in input order."""
        ...


class DocumentIn(BaseModel):
    """One document of a `/predict` request: `text` plus an optional `id` and `meta`."""

    model_config = ConfigDict(extra="forbid")

    id: StrictStr | int | None = None
    text: StrictStr
    meta: dict[str, Any] = Field(default_factory=dict)


class PredictRequest(BaseModel):
    """The body of `POST /predict`: exactly one of `texts` or `documents`, not empty."""

    model_config = ConfigDict(extra="forbid")

    texts: list[StrictStr] | None = None
    documents: list[DocumentIn] | None = None

    @model_validator(mode="after")
    def _one_non_empty_list(self) -> PredictRequest:
        given = [name for name in ("texts", "documents") if getattr(self, name) is not None]
        if len(given) != 1:
            got = "both" if given else "neither"
            raise ValueError(
                'send exactly one of "texts" (a list of strings) or "documents" '
                f'(a list of {{"id", "text", "meta"}} objects); got {got}'
            )
        if not getattr(self, given[0]):
            raise ValueError(f"{given[0]} is empty: send at least one item")
        return self

    def items(self) -> list[tuple[str | int, str | Document]]:
        """`(id, text or Document)` per input, ids defaulting to the position."""
        if self.texts is not None:
            return [(i, text) for i, text in enumerate(self.texts)]
        out: list[tuple[str | int, str | Document]] = []
        for i, doc in enumerate(self.documents or []):
            doc_id = doc.id if doc.id is not None else i
            out.append((doc_id, Document(id=str(doc_id), text=doc.text, meta=dict(doc.meta))))
        return out


class PredictResponse(BaseModel):
    """The answer of `POST /predict`: one prediction (or `{"id", "error"}`) per input, in order."""

    predictions: list[dict[str, Any]]


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` gets 413 before the app sees it.

    Trusts `Content-Length` to refuse early, and counts the bytes actually received (chunked
    bodies, lying headers). The accepted body is buffered (at most `max_bytes`) and replayed.
    Recent FastAPI has `max_body_size`, but it answers a bare "Content Too Large" and the
    project allows fastapi>=0.110; this names the limit and works on all of them.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send, f"{int(declared):,} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send, f"more than {self.max_bytes:,} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, got: str) -> None:
        detail = (
            f"request body too large: {got}, the limit is {self.max_bytes:,} bytes; "
            "send fewer or shorter texts per request (or start the server with a larger max_bytes)"
        )
        response = JSONResponse(
            {"detail": detail}, status_code=413, headers={"Connection": "close"}
        )
        await response(scope, receive, send)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with FastAPI's error list plus one readable line per problem in `message`."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    lines = []
    for err in errors:
        where = ".".join(str(part) for part in err.get("loc", ()) if part != "body")
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        if err.get("type") == "json_invalid":
            where = ""
            position = err.get("loc", ("body", "?"))[-1]
            reason = err.get("ctx", {}).get("error", "")
            msg = f"the body is not valid JSON (character {position}: {reason})"
        elif err.get("type") in ("model_attributes_type", "dict_type") and not where:
            msg = 'the body must be a JSON object: {"texts": [...]} or {"documents": [...]}'
        lines.append(f"{where}: {msg}" if where else msg)
    # the whole body as `input` of a body-level error would echo up to max_bytes back
    detail = [
        {k: v for k, v in err.items() if not (k == "input" and tuple(err["loc"]) == ("body",))}
        for err in errors
    ]
    content = {"detail": json.loads(json.dumps(detail, default=str)), "message": "; ".join(lines)}
    return JSONResponse(content, status_code=422)


def _item(doc_id: str | int, prediction: dict[str, Any]) -> dict[str, Any]:
    """One response slot: our id first, then the prediction (a quarantine record -> `error`)."""
    for key in ("error", "quarantined"):  # `quarantined`: the reason the stages rejected it
        if key in prediction:
            return {"id": doc_id, "error": str(prediction[key])}
    if "label" not in prediction and "reason" in prediction:  # a bare quarantine record
        return {"id": doc_id, "error": str(prediction["reason"])}
    return {"id": doc_id, **{k: v for k, v in prediction.items() if k != "id"}}


def intake_problem(value: str | Document, position: int, max_chars: int) -> str | None:
    """Why a run's intake would quarantine this input (empty, over `max_chars`, invalid
    Unicode such as a lone surrogate), or `None` when it is fine: the same check as
    `nlp run` and `nlp predict` (`pipeline.shards.check_item`)."""
    doc = value if isinstance(value, Document) else Document(id=str(position), text=value)
    kind, record, _ = check_item(doc, position, max_chars)
    return None if kind == "doc" else str(record["reason"])


def predict_items(
    predictor: Predictor,
    items: list[tuple[str | int, str | Document]],
    *,
    max_chars: int = INTAKE_MAX_CHARS,
) -> list[dict[str, Any]]:
    """Predictions for `(id, input)` pairs, in order; an input that is rejected gets
    `{"id", "error": reason}` in its slot.

    Inputs the run's intake would quarantine are answered without the model; the rest are
    scored in one call, and if that call fails (or drops inputs) each one alone, so one bad
    document cannot sink the others. `StageError` (the model cannot run at all) propagates.
    """
    out: list[dict[str, Any]] = []
    accepted: list[int] = []
    for position, (doc_id, value) in enumerate(items):
        reason = intake_problem(value, position, max_chars)
        out.append({"id": doc_id, "error": reason} if reason else {})
        if reason is None:
            accepted.append(position)
    for position, item in zip(
        accepted, _scored(predictor, [items[i] for i in accepted]), strict=True
    ):
        out[position] = item
    return out


def _scored(
    predictor: Predictor, items: list[tuple[str | int, str | Document]]
) -> list[dict[str, Any]]:
    if not items:
        return []
    try:
        predictions = list(predictor.predict([value for _, value in items]))
    except StageError:
        raise
    except Exception:  # noqa: BLE001 - isolate the failing input below
        predictions = []
    if len(predictions) == len(items):
        return [_item(doc_id, pred) for (doc_id, _), pred in zip(items, predictions, strict=True)]
    out = []
    for doc_id, value in items:
        try:
            alone = list(predictor.predict([value]))
        except StageError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bad document must not sink the request
            first_line = str(exc).splitlines()[0] if str(exc) else ""
            out.append({"id": doc_id, "error": f"{type(exc).__name__}: {first_line}"[:500]})
            continue
        if alone:
            out.append(_item(doc_id, alone[0]))
        else:
            out.append({"id": doc_id, "error": "the model's stages rejected this document"})
    return out


def _load(model_dir: Path) -> Predictor:
    from components.models import load

    return load(model_dir)


def create_app(
    model_dir: str | Path,
    *,
    max_batch: int = DEFAULT_MAX_BATCH,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_chars: int = DEFAULT_MAX_CHARS,
    predictor: Predictor | None = None,
) -> FastAPI:
    """The FastAPI app serving the model in `model_dir` (loaded once, at startup).

    `max_batch` texts, `max_bytes` of request body and `max_chars` per text are the limits
    (413 beyond). `predictor`: an already loaded model, used instead of loading `model_dir`.
    """
    folder = Path(model_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        model = predictor if predictor is not None else _load(folder)
        list(model.predict([WARM_UP_TEXT]))  # builds lazy resources before requests race
        app.state.predictor = model
        logger.info("serving model %s from %s (pid %d)", model.name, folder, os.getpid())
        yield

    app = FastAPI(
        title="nlp-pipeline model server",
        summary=f"Predictions from the trained model in {folder}",
        lifespan=lifespan,
    )
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(BodyLimit, max_bytes=max_bytes)

    @app.get("/health")
    def health(request: Request) -> dict[str, str]:
        """Liveness: the model is loaded and the worker answers."""
        return {"status": "ok", "model": request.app.state.predictor.name}

    @app.get("/model")
    def model_card(request: Request) -> dict[str, Any]:
        """The model's card: data, split, seed, parameters, versions, metrics."""
        return dict(request.app.state.predictor.card)

    @app.post("/predict", response_model=PredictResponse)
    def predict(body: PredictRequest, request: Request) -> dict[str, Any]:
        """One prediction per text or document, in input order."""
        items = body.items()
        if len(items) > max_batch:
            raise HTTPException(
                413,
                f"too many texts: {len(items)}, the limit is {max_batch} per request; "
                "split them over several requests",
            )
        for position, (_, value) in enumerate(items):
            text = value.text if isinstance(value, Document) else value
            if len(text) > max_chars:
                raise HTTPException(
                    413,
                    f"text {position} is too long: {len(text):,} characters, the limit is "
                    f"{max_chars:,}; split or truncate it",
                )
        model = request.app.state.predictor
        intake_chars = int(
            (getattr(model, "corpus", None) or {}).get("max_chars") or INTAKE_MAX_CHARS
        )
        return {"predictions": predict_items(model, items, max_chars=intake_chars)}

    return app


def app_from_env() -> FastAPI:
    """App factory for uvicorn workers: the model folder and limits come from the environment
    (`NLP_SERVE_MODEL_DIR`, and `NLP_SERVE_LIMITS` as JSON), as set by `serve`."""
    model_dir = os.environ.get(MODEL_DIR_ENV)
    if not model_dir:
        raise RuntimeError(f"set {MODEL_DIR_ENV} to a trained model folder (nlp serve does this)")
    limits = json.loads(os.environ.get(LIMITS_ENV) or "{}")
    return create_app(model_dir, **limits)


def serve(
    model_dir: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    max_batch: int = DEFAULT_MAX_BATCH,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_chars: int = DEFAULT_MAX_CHARS,
    log_level: str = "info",
) -> None:
    """Serve the model in `model_dir` on `host:port` with uvicorn until interrupted.

    The model is loaded here first, so a bad folder fails fast with its own error
    (`ModelFolderError`) before any socket opens. `workers > 1` starts that many
    processes, each loading the model once. `log_level`: uvicorn's (debug, info, warning, ...).
    """
    import uvicorn

    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    folder = Path(model_dir).resolve()
    model = _load(folder)
    limits = {"max_batch": max_batch, "max_bytes": max_bytes, "max_chars": max_chars}
    if workers == 1:
        app = create_app(folder, predictor=model, **limits)
        uvicorn.run(app, host=host, port=port, log_level=log_level)
        return
    os.environ[MODEL_DIR_ENV] = str(folder)
    os.environ[LIMITS_ENV] = json.dumps(limits)
    uvicorn.run(
        "components.models.serving:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )
