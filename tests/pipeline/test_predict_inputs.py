"""How `nlp predict` / `nlp evaluate` read new input with a model's training reader settings."""

from __future__ import annotations

from pathlib import Path

from sklearn.datasets import load_digits

from pipeline.document import Document
from pipeline.predict import ModelFolder


def _model(corpus: dict) -> ModelFolder:
    return ModelFolder(
        path=Path("."), name="digits", component="image-cnn", params={}, stages=[],
        corpus=corpus, task=None,
    )  # fmt: skip


def _pixel_rows(tmp_path: Path, with_target: bool) -> Path:
    frame = load_digits(as_frame=True).frame.iloc[:6]
    path = tmp_path / "rows.csv"
    (frame if with_target else frame.drop(columns=["target"])).to_csv(path, index=False)
    return path


def test_predict_reads_unlabelled_rows_of_a_model_trained_on_a_bundled_dataset(tmp_path):
    model = _model({"reader": "table", "dataset": "sklearn:digits", "label_column": "target"})
    spec = model.corpus_spec(str(_pixel_rows(tmp_path, with_target=False)), labelled=False)
    docs = [d for d in spec.build_reader() if isinstance(d, Document)]
    assert len(docs) == 6  # the training run's dataset is not read, the file is
    assert all(len(d.meta["row"]) == 64 and "label" not in d.meta for d in docs)


def test_evaluate_keeps_the_label_column(tmp_path):
    model = _model({"reader": "table", "dataset": "sklearn:digits", "label_column": "target"})
    spec = model.corpus_spec(str(_pixel_rows(tmp_path, with_target=True)), labelled=True)
    docs = [d for d in spec.build_reader() if isinstance(d, Document)]
    expected = [str(v) for v in load_digits().target[:6]]
    assert [d.meta["label"] for d in docs] == expected
