"""The `mf` task: biased matrix factorization of ratings, a content-based and a hybrid recommender.

Each document is one rating, read from `meta["row"]` (the `table` reader): the columns
named by `user`, `item` and `rating`. Each user's ratings are split (a held-out fraction,
at random or the latest by timestamp); the model (`components.ml.recommend.BiasedMF`, ALS
or SGD) is fitted on the rest and measured on the held-out ratings: RMSE and MAE beside a
global-mean and a biases-only baseline, precision@k and recall@k among each user's
held-out items (relevant: rated ≥ `relevant`) beside popularity and chance. With
`hybrid:`, content scores (sublinear TF-IDF of each item's `content` columns, cosine to the
items the user rated highly) are blended with the MF scores; the weight is chosen on a
validation split carved from the training ratings, never on the held-out ones.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field as Range
from pydantic import ValidationError

from pipeline.config import ConfigError
from pipeline.document import Document
from pipeline.registry import register

from .base import AnalyticsTask, JsonLines, staged_key, write_json
from .recommendation_data import HybridSettings, Ratings, RatingSplit, read_ratings
from .recommendation_outputs import report_blocks, rmse_png, weight_png

__all__ = ["HybridSettings", "MatrixFactorizationTask", "RatingSplit"]

WORD = re.compile(r"[^\W_][\w'-]*")
PROTOCOL = (
    "precision@{k} / recall@{k}: each user's held-out items ranked by the model's score; "
    "relevant = rated >= {relevant}; precision = relevant in the top {k} / min({k}, held-out "
    "items), recall = relevant in the top {k} / relevant held-out items, averaged over users"
)

CATALOGUE = (
    "whole catalogue: every item a user did not rate in training ranked by the model's score; "
    "precision@{k} = relevant held-out items (rated >= {relevant}) in the top {k} / {k}, "
    "recall@{k} = the same / relevant held-out items, averaged over users with one"
)


@register("task", "mf")
class MatrixFactorizationTask(AnalyticsTask):
    """Recommendations by matrix factorization with biases (ALS or SGD) of ratings.

    The ratings are in each document's `meta["row"]`; with `hybrid`, a content-based and a
    blended recommender are measured beside it.

    - `user`, `item`, `rating`: column names in each document's `meta["row"]`.
    - `solver` "als" | "sgd", `factors`, `reg` (per-rating L2 of the factors), `bias_reg`
      (L2 of the biases; null: per rating too), `epochs`, `learning_rate` (SGD), `seed`:
      the model (`components.ml.recommend.BiasedMF`).
    - `split`: `{fraction: 0.2, by: random | latest, timestamp: timestamp, seed: 0}`.
    - `k`: recommendations per user and the cut-off of precision@k / recall@k; `relevant`:
      the lowest rating that counts as relevant (and liked, for content profiles).
    - `hybrid`: `{weight: 0.3 or [0.0, 0.1, ...], content: [title, genres]}` or null.

    Rows without a user or item, or with a non-numeric rating, are counted as skipped.
    Writes `metrics.json`, `predictions.jsonl` (each rating's prediction and split),
    `recommendations.jsonl` (top-k per user of a model refitted on all ratings),
    `rmse_by_epoch.png`, `precision_by_weight.png` (with `hybrid`) and its report section.
    """

    method = "mf"
    version = "1"

    def __init__(
        self,
        *,
        user: str = "user",
        item: str = "item",
        rating: str = "rating",
        solver: Literal["als", "sgd"] = "als",
        factors: Annotated[int, Range(ge=0)] = 20,
        reg: Annotated[float, Range(ge=0.0)] = 0.2,
        bias_reg: Annotated[float, Range(ge=0.0)] | None = 5.0,
        epochs: Annotated[int, Range(ge=1)] = 15,
        learning_rate: Annotated[float, Range(gt=0.0)] = 0.02,
        split: dict[str, Any] | None = None,
        k: Annotated[int, Range(ge=1)] = 10,
        relevant: float = 4.0,
        hybrid: dict[str, Any] | None = None,
        seed: int = 0,
    ):
        self.user = user
        self.item = item
        self.rating = rating
        self.solver = solver
        self.factors = factors
        self.reg = reg
        self.bias_reg = bias_reg
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.split = split
        self.k = k
        self.relevant = relevant
        self.hybrid = hybrid
        self.seed = seed

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> list[str]:
        """Cheap checks: `split` and `hybrid` settings of the right form, weights in [0, 1]."""
        problems = []
        for key, model in (("split", RatingSplit), ("hybrid", HybridSettings)):
            value = params.get(key)
            if value is None:
                continue
            try:
                settings = model.model_validate(value)
            except ValidationError as exc:
                for error in exc.errors():
                    field = ".".join(str(p) for p in error["loc"] if not isinstance(p, int))
                    problems.append(
                        f"{key}.{field}: {error['msg']}" if field else f"{key}: {error['msg']}"
                    )
                continue
            if isinstance(settings, HybridSettings):
                weights = settings.weights()
                if not weights or any(not 0.0 <= w <= 1.0 for w in weights):
                    problems.append(
                        f"hybrid.weight: {settings.weight!r} is invalid: give a weight in "
                        "[0, 1] (0: MF alone, 1: content alone) or a non-empty list of them"
                    )
        return problems

    def model(self, *, factors: int | None = None) -> Any:
        """The configured (unfitted) `BiasedMF`; `factors=0` gives the biases-only baseline."""
        from ..ml.recommend import BiasedMF

        return BiasedMF(
            factors=self.factors if factors is None else factors,
            solver=self.solver if factors is None else "als",
            reg=self.reg,
            bias_reg=self.bias_reg,
            epochs=self.epochs if factors is None else min(self.epochs, 10),
            learning_rate=self.learning_rate,
            seed=self.seed,
        )

    # -- fitting -------------------------------------------------------------------------

    def _fit(self, corpus: Iterable[Document], staging: Path, run_dir: Path | None) -> None:
        from ..ml.recommend import split_ratings
        from ..ml.recommend_metrics import evaluate_split

        where = staged_key(staging)
        problems = self.check_params(self.get_params())
        if problems:
            raise ConfigError.of([ConfigError(f"{where}.{p}") for p in problems])
        t0 = time.perf_counter()
        split = RatingSplit.model_validate(self.split or {})
        hybrid = HybridSettings.model_validate(self.hybrid) if self.hybrid is not None else None
        data = read_ratings(
            corpus,
            user=self.user,
            item=self.item,
            rating=self.rating,
            split=split,
            hybrid=hybrid,
            where=where,
        )
        stamps = data.timestamps if split.by == "latest" else None
        held = split_ratings(
            data.users, fraction=split.fraction, by=split.by, timestamps=stamps, seed=split.seed
        )
        if not held.any():
            raise ConfigError(
                f"{where}.split.fraction: no rating is held out ({data.users.size} ratings): "
                "users need at least two ratings each, or raise the fraction"
            )
        item_matrix = self._item_matrix(data) if hybrid is not None else None
        if hybrid is not None and item_matrix is None:
            raise ConfigError(
                f"{where}.hybrid.content: the columns {hybrid.content} hold no words for any "
                "item: name the columns that describe the items (e.g. title, genres)"
            )
        validation = np.zeros_like(held)
        if item_matrix is not None:  # carved from the training ratings, as the test part was
            train = np.flatnonzero(~held)
            inner = split_ratings(
                data.users[train],
                fraction=split.fraction,
                by=split.by,
                timestamps=None if stamps is None else stamps[train],
                seed=split.seed + 1,
            )
            validation[train[inner]] = True
        result = evaluate_split(
            self.model,
            data.users,
            data.items,
            data.ratings,
            held,
            k=self.k,
            relevant=self.relevant,
            content=None if item_matrix is None else (item_matrix, data.item_ids),
            weights=hybrid.weights() if hybrid is not None else (),
            validation=validation,
        )
        self.weight_ = result.weight or 0.0
        self._fit_final(data, item_matrix)
        self._write_outputs(staging, data, held, result)
        metrics = {
            "ratings": int(data.users.size),
            "users": int(np.unique(data.users).size),
            "items": int(data.item_ids.size),
            "skipped": dict(data.skipped),
            "split": {
                **split.model_dump(),
                "train": int((~held).sum()),
                "test": int(held.sum()),
                "validation": int(validation.sum()),
            },
            "solver": self.solver,
            "relevant": self.relevant,
            "k": self.k,
            "protocol": PROTOCOL.format(k=self.k, relevant=self.relevant),
            "models": result.models,
            "catalogue": result.catalogue,
            "catalogue_protocol": CATALOGUE.format(k=self.k, relevant=self.relevant),
            "hybrid": None
            if hybrid is None
            else {
                "weight": result.weight,
                "chosen_on": "validation" if len(hybrid.weights()) > 1 else "configured",
                "content": hybrid.content,
                "curve": result.weight_curve,
            },
            "history": result.history,
            "seconds": round(time.perf_counter() - t0, 3),
        }
        write_json(staging / "metrics.json", metrics)
        images = [
            rmse_png(result.history, result.models, staging / "rmse_by_epoch.png", self.solver)
        ]
        if len(result.weight_curve) > 1:
            images.append(
                weight_png(
                    result.weight_curve, result.weight, self.k, staging / "precision_by_weight.png"
                )
            )
        report_blocks(staging, metrics, images, self._examples(3))

    def _item_matrix(self, data: Ratings) -> Any:
        """The l2-normalized sublinear TF-IDF rows of the items' content text, in the order
        of `data.item_ids` (the tokens: lowercase words, English stop words left out)."""
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        from ..represent.tfidf import TfIdf

        tokens = [
            [
                w
                for w in WORD.findall(data.item_text.get(item, "").lower())
                if w not in ENGLISH_STOP_WORDS
            ]
            for item in data.item_ids.tolist()
        ]
        if not any(tokens):
            return None
        return TfIdf(sublinear_tf=True, norm="l2").fit_transform(tokens).tocsr()

    def _fit_final(self, data: Ratings, item_matrix: Any) -> None:
        """The model behind `recommend`/`predict`: refitted on all ratings, with the content
        rows and profiles in its own item and user order."""
        from ..ml.recommend_content import user_profiles

        self.model_ = self.model().fit(data.users, data.items, data.ratings)
        self.titles_ = {str(i): data.item_label.get(i, "") for i in self.model_.item_ids_.tolist()}
        self.item_matrix_ = self.profiles_ = None
        if item_matrix is not None:
            order = np.searchsorted(data.item_ids, self.model_.item_ids_)
            self.item_matrix_ = item_matrix[order]
            self.profiles_ = user_profiles(self.item_matrix_, self.model_.seen_, self.relevant)

    # -- using ---------------------------------------------------------------------------

    def recommend(self, user: Any, k: int | None = None) -> dict[str, Any]:
        """`{"user", "known", "items": [{"item", "score", "rating", "title"}]}`: the user's
        top `k` unseen items by the hybrid score (MF alone without `hybrid`); an unknown
        user gets the items with the highest item bias."""
        from ..ml.recommend import top_k
        from ..ml.recommend_content import blend, standardized

        model = self.model_
        user = _as_id(user, model.user_ids_)
        position = int(model.user_positions([user])[0])
        rating = model.score_items(user)
        scores = rating.copy()
        weight = self.weight_ if self.hybrid is not None else 0.0
        if weight > 0 and position >= 0 and self.profiles_ is not None:
            content = np.asarray((self.item_matrix_ @ self.profiles_[position].T).todense()).ravel()
            mf_mean, mf_std = standardized(rating[None, :])
            c_mean, c_std = standardized(content[None, :])
            scores = blend((rating - mf_mean) / mf_std, (content - c_mean) / c_std, weight)
        scores[model.seen_items(user)] = -np.inf
        items = []
        for j in top_k(scores, k or self.k):
            item = model.item_ids_[j].item()
            shown = float(np.clip(rating[j], *model.rating_range_))
            entry = {"item": item, "score": round(float(scores[j]), 4), "rating": round(shown, 3)}
            if self.titles_.get(str(item)):
                entry["title"] = self.titles_[str(item)]
            items.append(entry)
        return {"user": user, "known": position >= 0, "items": items}

    def predict(self, texts_or_docs: Iterable[Any]) -> Iterator[dict[str, Any]]:
        """The top-k recommendations of each user id given (or of each document's user)."""
        for value in texts_or_docs:
            if isinstance(value, Document):
                value = (value.meta.get("row") or {}).get(self.user, value.text)
            yield self.recommend(value)

    def predict_document(self, doc: Document) -> dict[str, Any]:
        """The recommendations of the document's user (see `predict`)."""
        return next(self.predict([doc]))

    def _examples(self, count: int) -> list[dict[str, Any]]:
        users = self.model_.user_ids_[:count].tolist()
        return [self.recommend(u, 5) for u in users]

    def _write_outputs(self, staging: Path, data: Ratings, held: np.ndarray, result: Any) -> None:
        rows = iter(range(data.users.size))
        with JsonLines(staging / "predictions.jsonl") as out:
            for doc_id, reason in data.documents:
                if reason is not None:
                    out.write({"id": doc_id, "skipped": reason})
                    continue
                r = next(rows)
                out.write(
                    {
                        "id": doc_id,
                        "user": data.users[r].item(),
                        "item": data.items[r].item(),
                        "rating": float(data.ratings[r]),
                        "predicted": round(float(result.predicted[r]), 4),
                        "split": "test" if held[r] else "train",
                    }
                )
        with JsonLines(staging / "recommendations.jsonl") as out:
            for user in self.model_.user_ids_.tolist():
                out.write(self.recommend(user))

    # -- files ---------------------------------------------------------------------------

    def _save_state(self, folder: Path) -> None:
        import scipy.sparse as sp

        self.model_.save(folder / "model")
        write_json(folder / "items.json", {"titles": self.titles_, "weight": self.weight_})
        if self.item_matrix_ is not None:
            sp.save_npz(folder / "content.npz", sp.csr_matrix(self.item_matrix_))
            sp.save_npz(folder / "profiles.npz", sp.csr_matrix(self.profiles_))

    def _load_state(self, folder: Path) -> None:
        import json

        import scipy.sparse as sp

        from ..ml.recommend import BiasedMF

        self.model_ = BiasedMF.load(folder / "model")
        record = json.loads((folder / "items.json").read_text(encoding="utf-8"))
        self.titles_, self.weight_ = record["titles"], record["weight"]
        self.item_matrix_ = self.profiles_ = None
        if (folder / "content.npz").is_file():
            self.item_matrix_ = sp.load_npz(folder / "content.npz").tocsr()
            self.profiles_ = sp.load_npz(folder / "profiles.npz").tocsr()


def _as_id(value: Any, known: np.ndarray) -> Any:
    """A user id as the model stores it: text of digits becomes an int for integer ids."""
    if known.dtype.kind in "iu":
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    return str(value)
