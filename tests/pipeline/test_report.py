"""The run report (`pipeline.report`): rendered from real runs over Lee news articles.

The run is a real `nlp run` (jsonl reader, regex tokens, a naive Bayes classifier on a
label derived from the text, four bad input lines that are quarantined); further task
folders are written with the `pipeline.report_sections` helpers, as the analytics tasks
do, plus folders without or with a broken `report.json`.
"""

from __future__ import annotations

import base64
import logging
import re
import shutil
from collections import Counter
from html import unescape
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from pipeline.config import resolve_config
from pipeline.report import NotARunFolder, render_report
from pipeline.report_sections import (
    image_block,
    metrics_block,
    table_block,
    text_block,
    write_section,
)
from pipeline.runner import RunResult, run
from pipeline.store import read_documents

PNG = b"\x89PNG\r\n\x1a\n"
BAD_LINES = [  # each is quarantined by the reader or the shard checks
    {"id": "blank-1", "text": "   ", "label": "other"},
    {"id": "blank-2", "text": "", "label": "other"},
    {"id": "huge-1", "text": "x" * 30_000, "label": "other"},
    {"id": "numeric", "text": 12},
]


def write_corpus(path: Path, texts: list[str]) -> Path:
    """Lee articles labelled by whether they mention Australia, then the bad lines."""
    with path.open("wb") as fh:
        for i, text in enumerate(texts):
            label = "australia" if "Australia" in text else "other"
            fh.write(orjson.dumps({"id": f"lee-{i}", "text": text, "label": label}) + b"\n")
        for record in BAD_LINES:
            fh.write(orjson.dumps(record) + b"\n")
    return path


def lee_config(folder: Path, *, tasks: bool = True) -> dict[str, Any]:
    """The run's config: `folder/corpus.jsonl` into `folder/run`; with `tasks`, a naive
    Bayes classifier with 3-fold cross-validation."""
    corpus = folder / "corpus.jsonl"
    config: dict[str, Any] = {
        "name": "lee-report",
        "corpus": {"reader": "jsonl", "path": str(corpus), "max_chars": 20_000},
        "stages": [{"tokenize": {"backend": "regex"}}, {"stopwords": {"lists": ["sklearn"]}}],
        "execution": {"shard_size": 50},
        "output": {"dir": str(folder / "run")},
    }
    if tasks:
        config["tasks"] = {
            "category": {"model": "naive-bayes", "label": "label", "cv": {"folds": 3}}
        }
    return resolve_config(config)


def lee_run(folder: Path, texts: list[str], *, tasks: bool = True) -> RunResult:
    """A real run over `texts` (see `lee_config`)."""
    write_corpus(folder / "corpus.jsonl", texts)
    return run(lee_config(folder, tasks=tasks))


@pytest.fixture(scope="module")
def finished(tmp_path_factory, lee_texts) -> RunResult:
    return lee_run(tmp_path_factory.mktemp("report-run"), lee_texts[:120])


@pytest.fixture
def run_copy(finished, tmp_path) -> Path:
    """A copy of the finished run folder that a test may change."""
    return Path(shutil.copytree(finished.run_dir, tmp_path / "run"))


def page(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def section_ids(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', html)


def section_html(html: str, section_id: str) -> str:
    match = re.search(rf'<section id="{re.escape(section_id)}">(.*?)</section>', html, re.S)
    assert match, f"no section {section_id!r}"
    return match.group(1)


def text_of(fragment: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)))


def write_terms_section(run_dir: Path, *, order: int, name: str = "terms") -> dict[str, Any]:
    """A task folder whose report.json has every block kind, computed from the run's
    documents (the most frequent content words, a histogram of document lengths)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    docs = list(read_documents(run_dir))
    counts = Counter(
        t.lower()
        for d in docs
        for t, stop in zip(d.tokens.text, d.tokens.is_stop, strict=True)
        if t.isalpha() and not stop
    )
    folder = run_dir / "tasks" / name
    folder.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist([len(d.tokens.text) for d in docs], bins=20)
    ax.set_xlabel("tokens per document")
    fig.savefig(folder / "lengths.png", dpi=80)
    plt.close(fig)
    top = counts.most_common(60)
    write_section(
        folder,
        "Frequent terms <b>& lengths</b>",
        [
            text_block("Content words by frequency. <script>alert('x')</script>"),
            metrics_block("Vocabulary", {"distinct words": len(counts), "documents": len(docs)}),
            table_block("Top words", ["word", "count"], [[w, c] for w, c in top]),
            image_block("Document lengths", "lengths.png"),
        ],
        order=order,
    )
    return {"folder": folder, "top": top, "distinct": len(counts)}


def test_a_run_with_tasks_writes_a_self_contained_report_and_records_it(finished):
    entry = finished.manifest["report"]
    assert entry["path"] == "report.html" and entry["seconds"] > 0
    on_disk = orjson.loads((finished.run_dir / "manifest.json").read_bytes())
    assert on_disk["report"] == entry and on_disk["status"] == "complete"
    html = page(finished.run_dir / "report.html")
    assert section_ids(html) == ["overview", "corpus", "timings", "quarantine", "task-category"]
    for section_id in section_ids(html):  # the contents link every section
        assert f'href="#{section_id}"' in html
    # nothing is fetched: no script, stylesheet link, web font, or URL other than data URIs
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "url(" not in html and "@font-face" not in html
    sources = re.findall(r'src="([^"]*)"', html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    for source in sources:
        assert base64.b64decode(source.split(",", 1)[1]).startswith(PNG)


def test_the_classification_section_shows_the_tasks_own_scores(finished):
    folder = finished.run_dir / "tasks" / "category"
    metrics = orjson.loads((folder / "metrics.json").read_bytes())
    section = orjson.loads((folder / "report.json").read_bytes())
    assert section["order"] == 60 and section["title"] == "Classification: label (naive-bayes)"
    html = section_html(page(finished.run_dir / "report.html"), "task-category")
    text = text_of(html)
    assert f"{metrics['test']['accuracy']:.4g}" in text
    assert f"{metrics['test']['f1_macro']:.4g}" in text
    cv = metrics["cv"]["summary"]["accuracy"]
    assert f"{cv['mean']:.4f} ± {cv['std']:.4f}" in text
    assert "Cross-validation (3 folds, mean ± std)" in text
    embedded = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(embedded) == (folder / "confusion_matrix.png").read_bytes()
    assert "naive-bayes" in text and "fitted in" in text


def test_corpus_counts_languages_and_quarantine_reasons_come_from_the_run(finished):
    html = page(finished.run_dir / "report.html")
    counts = finished.manifest["documents"]
    corpus = text_of(section_html(html, "corpus"))
    assert counts == {"in": 124, "out": 120, "quarantined": 4}
    assert "in 124 = out 120 + quarantined 4 ✓ every input document is accounted for" in corpus
    words = sum(shard["words"] for shard in finished.manifest["shards"])
    assert f"tokens {words:,}" in corpus
    languages = Counter(d.meta["language"] for d in read_documents(finished.run_dir))
    for code, n in languages.items():
        assert f"{code} {n:,} " in corpus

    quarantine = text_of(section_html(html, "quarantine"))
    records = [orjson.loads(line) for line in (finished.run_dir / "quarantine.jsonl").open("rb")]
    assert len(records) == 4
    assert "empty document 2 50.0%" in quarantine  # the two blank texts, grouped
    assert "oversized document 1 25.0%" in quarantine  # its numbers are not part of the group
    for record in records:
        assert record["id"] in quarantine
    assert "read 4 124" in quarantine  # quarantined by the read step, of 124 in


def test_stage_timings_list_every_stage_and_task_with_a_chart(finished):
    html = section_html(page(finished.run_dir / "report.html"), "timings")
    text = text_of(html)
    for stage in finished.manifest["stages"]:
        assert f" {stage['name']} {stage['in']:,} {stage['out']:,} " in text
    assert "category naive-bayes" in text
    assert 'alt="bar chart of seconds per stage and task"' in html


def test_task_sections_follow_order_then_name_and_render_every_block_kind(run_copy):
    terms = write_terms_section(run_copy, order=10)
    write_terms_section(run_copy, order=60, name="alpha")  # same order as the classifier
    html = page(render_report(run_copy))
    assert section_ids(html)[4:] == ["task-terms", "task-alpha", "task-category"]

    section = section_html(html, "task-terms")
    assert "<h2>Frequent terms &lt;b&gt;&amp; lengths&lt;/b&gt;</h2>" in section
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in section and "<script" not in html
    text = text_of(section)
    assert f"distinct words {terms['distinct']:,}" in text
    rows = re.findall(r"<tr(?: class=extra)?><td>([^<]*)</td>", section)
    assert rows == [word for word, _ in terms["top"][:50]]  # at most 50 rows of 60
    assert "10 more rows are not in the report (first 50 of 60)" in text
    assert "Show all 50 rows" in text  # rows past the first 12 fold behind a CSS toggle
    embedded = re.search(r'src="data:image/png;base64,([^"]+)"', section).group(1)
    assert base64.b64decode(embedded) == (terms["folder"] / "lengths.png").read_bytes()


def test_a_task_without_report_json_shows_its_metrics_and_images(run_copy):
    folder = run_copy / "tasks" / "category"
    (folder / "report.json").unlink()
    html = section_html(page(render_report(run_copy)), "task-category")
    metrics = orjson.loads((folder / "metrics.json").read_bytes())
    text = text_of(html)
    assert "<h2>category</h2>" in html
    assert f"test.accuracy {metrics['test']['accuracy']:.4g}" in text
    assert f"model {metrics['model']} " in text
    assert "confusion_matrix" not in text.split("Files in the folder")[0].split("Metrics")[1]
    assert html.count("data:image/png;base64,") == 1  # confusion_matrix.png
    assert "Confusion matrix" in text


def test_broken_and_odd_sections_become_notes_not_failures(run_copy):
    broken = run_copy / "tasks" / "broken"
    broken.mkdir()
    (broken / "report.json").write_text('{"title": "Broken", "blocks": [', encoding="utf-8")
    (broken / "metrics.json").write_text('{"accuracy": 0.5}', encoding="utf-8")
    odd = run_copy / "tasks" / "odd"
    odd.mkdir()
    (odd / "not-a-png.png").write_text("text", encoding="utf-8")
    blocks = [
        image_block("Gone", "missing.png"),
        image_block("Escape", "../../manifest.json"),
        image_block("Fake", "not-a-png.png"),
        {"kind": "chart", "title": "x"},
        {"kind": "table", "title": "No rows", "columns": ["a"]},
        "just a string",
    ]
    (odd / "report.json").write_bytes(orjson.dumps({"title": "Odd", "blocks": blocks}))
    empty = run_copy / "tasks" / "empty"
    empty.mkdir()
    html = page(render_report(run_copy))
    text = text_of(section_html(html, "task-broken"))
    assert "report.json could not be read (JSONDecodeError)" in text and "accuracy 0.5" in text
    text = text_of(section_html(html, "task-odd"))
    assert 'Image "Gone": missing.png is missing from the task folder' in text
    assert "'../../manifest.json' is not inside the task folder" in text
    assert "not-a-png.png is not a PNG file" in text
    assert "unknown kind 'chart'" in text and 'a table needs "columns" and "rows"' in text
    assert "Block 6 of report.json is not an object" in text
    assert "holds no metrics or images" in text_of(section_html(html, "task-empty"))


def test_a_folder_without_manifest_or_config_still_gets_a_report(run_copy):
    (run_copy / "manifest.json").unlink()
    (run_copy / "config.yaml").write_text("stages: [unclosed", encoding="utf-8")
    html = page(render_report(run_copy))
    assert section_ids(html) == ["overview", "corpus", "timings", "quarantine", "task-category"]
    text = text_of(html)
    assert "manifest.json is missing" in text and "config.yaml is not valid YAML" in text
    assert "No document counts" in text and "No timings" in text
    assert "en 120 " in text  # the languages still come from the document files


def test_a_malformed_manifest_costs_only_its_own_sections(run_copy):
    manifest = orjson.loads((run_copy / "manifest.json").read_bytes())
    manifest["stages"] = "not a list"
    manifest["documents"] = {"in": 10, "out": 7, "quarantined": 2}
    manifest["status"], manifest["reason"] = "failed", "OSError: No space left on device"
    (run_copy / "manifest.json").write_bytes(orjson.dumps(manifest))
    html = page(render_report(run_copy))
    assert "✗ the counts do not add up (9 ≠ 10)" in html
    assert "The manifest counts 2 quarantined documents; quarantine.jsonl lists 4" in text_of(html)
    assert section_ids(html)[-1] == "task-category"
    assert "The run failed: OSError: No space left on device." in text_of(html)
    assert '<span class="badge badge-failed">failed</span>' in html


def test_an_incremental_run_accounts_for_documents_seen_before(tmp_path, lee_texts):
    corpus = tmp_path / "corpus.jsonl"
    config = resolve_config(
        {
            "corpus": {"reader": "jsonl", "path": str(corpus)},
            "stages": [{"tokenize": {"backend": "regex"}}],
            "output": {"dir": str(tmp_path / "run"), "incremental": True},
        }
    )
    write_corpus(corpus, lee_texts[:20])
    run(config)
    write_corpus(corpus, lee_texts[:30])  # 10 new articles; the bad lines come again
    counts = run(config).manifest["documents"]
    assert counts["out"] == 10 and counts["skipped_seen"] >= 20  # and bad lines seen before
    text = text_of(section_html(page(render_report(tmp_path / "run")), "corpus"))
    formula = " + ".join(
        f"{'skipped as seen' if k == 'skipped_seen' else k} {v:,}"
        for k, v in counts.items()
        if k != "in"
    )
    assert f"in {counts['in']:,} = {formula} ✓ every input document is accounted for" in text
    assert "en 30 " in text  # the languages of every document the folder holds


def test_a_run_without_tasks_writes_no_report_but_one_can_be_rendered(tmp_path, lee_texts):
    result = lee_run(tmp_path, lee_texts[:30], tasks=False)
    assert "report" not in result.manifest and not (result.run_dir / "report.html").exists()
    out = render_report(result.run_dir, tmp_path / "elsewhere" / "r.html")
    html = page(out)
    assert section_ids(html) == ["overview", "corpus", "timings", "quarantine"]


def test_a_report_that_cannot_be_written_is_a_warning_and_the_run_completes(
    finished, tmp_path, caplog
):
    folder = Path(shutil.copytree(finished.run_dir.parent, tmp_path / "again"))
    (folder / "run" / "report.html").unlink()
    (folder / "run" / "report.html").mkdir()  # a folder where the file goes
    with caplog.at_level(logging.WARNING, logger="pipeline.runner"):
        result = run(lee_config(folder))
    assert result.manifest["status"] == "complete"
    assert result.manifest["report"]["error"].startswith("IsADirectoryError")
    assert "could not write the run report" in caplog.text


def test_not_a_run_folder_is_refused(tmp_path):
    with pytest.raises(NotARunFolder, match="is not a run folder"):
        render_report(tmp_path)
    with pytest.raises(NotARunFolder, match="is not a folder"):
        render_report(tmp_path / "missing")


def test_nlp_report_prints_the_path_and_refuses_a_non_run_folder_in_one_line(run_copy, tmp_path):
    from cli import app

    runner = CliRunner()
    (run_copy / "report.html").unlink()
    result = runner.invoke(app, ["report", str(run_copy)])
    assert result.exit_code == 0 and result.stdout.strip() == str(run_copy / "report.html")
    assert section_ids(page(run_copy / "report.html"))[0] == "overview"

    out = tmp_path / "out" / "page.html"
    result = runner.invoke(app, ["report", str(run_copy), "--out", str(out)])
    assert result.exit_code == 0 and out.is_file()

    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["report", str(empty)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {empty} is not a run folder (no manifest.json, config.yaml, documents/ or "
        "tasks/ in it); give the output.dir of a run"
    ]
    assert "Traceback" not in result.output
