"""The run report in a real browser: headless Chromium (Debian's `chromium`, which `.ci/run`
installs) loads `report.html` from real runs over Lee news articles.

Three checks, for a report with every optional section (a classifier, a task section
written with `pipeline.report_sections`, a task folder without `report.json`, a broken
one, quarantined documents) and for reports without them (no task, no quarantine, no
manifest): the sections are in the DOM Chromium renders (`--dump-dom`); the console
has no error and no resource failed to load, and every image decoded (the DevTools
protocol over `--remote-debugging-pipe`); a screenshot (`--screenshot`) is a real page.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from pipeline.config import resolve_config
from pipeline.report import render_report
from pipeline.report_sections import (
    image_block,
    metrics_block,
    table_block,
    text_block,
    write_section,
)
from pipeline.runner import run
from pipeline.store import read_documents

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"]
BROWSER_SECONDS = 90

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (`.ci/run` installs Debian's chromium; locally: "
    "apt-get install chromium)",
)


# -- driving Chromium --------------------------------------------------------------------------


def chromium_cli(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once with `args` (a fresh profile folder, so tests can run in
    parallel)."""
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=BROWSER_SECONDS,
        check=True,
    )


class DevTools:
    """A headless Chromium driven through the DevTools protocol on a pipe (fds 3 and 4):
    JSON messages separated by NUL bytes; events are kept as they arrive."""

    def __init__(self, profile: Path):
        to_browser_read, to_browser = os.pipe()
        from_browser, from_browser_write = os.pipe()
        self.process = subprocess.Popen(
            # the shell puts our pipe ends on the fds Chromium reads (3) and writes (4)
            ["bash", "-c", 'exec "$0" "$@" 3<&"$CDP_IN" 4>&"$CDP_OUT"', str(CHROMIUM), *FLAGS]
            + ["--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"],
            env={**os.environ, "CDP_IN": str(to_browser_read), "CDP_OUT": str(from_browser_write)},
            pass_fds=(to_browser_read, from_browser_write),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self.commands = os.fdopen(to_browser, "wb", buffering=0)
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.events: list[dict[str, Any]] = []
        self.next_id = 0
        self.deadline = time.monotonic() + BROWSER_SECONDS
        threading.Thread(target=self._read, args=(from_browser,), daemon=True).start()

    def _read(self, fd: int) -> None:
        pending = b""
        with os.fdopen(fd, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                *complete, pending = (pending + chunk).split(b"\0")
                for message in complete:
                    self.messages.put(json.loads(message))
        self.messages.put(None)

    def _next(self) -> dict[str, Any]:
        message = self.messages.get(timeout=max(0.1, self.deadline - time.monotonic()))
        if message is None:
            raise RuntimeError("chromium closed the DevTools pipe")
        return message

    def send(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> Any:
        """Send a command and return its result (events that come first are kept)."""
        self.next_id += 1
        command: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            command["sessionId"] = session
        self.commands.write(json.dumps(command).encode() + b"\0")
        while True:
            message = self._next()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str) -> None:
        while not any(e.get("method") == event for e in self.events):
            self.events.append(self._next())

    def close(self) -> None:
        try:
            self.commands.write(json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.commands.close()
            self.process.wait(timeout=15)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


def load_in_browser(path: Path, expression: str, profile: Path) -> tuple[Any, list[str]]:
    """Open `path`, wait for its load event, evaluate `expression` (JSON-able result) and
    return it with every problem the page reported: console errors, uncaught exceptions,
    error log entries (failed loads among them) and failed requests."""
    browser = DevTools(profile)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Runtime", "Log", "Network", "Page"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired")
        value = browser.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session
        )["result"].get("value")
        time.sleep(0.3)  # messages of late work (a timer, a lazy image) arrive before this
        browser.send("Runtime.evaluate", {"expression": "0"}, session=session)
    finally:
        browser.close()
    return value, page_problems(browser.events)


def page_problems(events: list[dict[str, Any]]) -> list[str]:
    problems = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            problems.append(
                f"exception: {details.get('exception', {}).get('description') or details['text']}"
            )
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            problems.append(f"console.{params['type']}: {[a.get('value') for a in params['args']]}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            problems.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}")
        elif method == "Network.loadingFailed":
            problems.append(f"failed load: {params.get('errorText')} ({params.get('type')})")
    return problems


class Sections(HTMLParser):
    """The ids and `h2` headings of a document's `<section>`s, and its contents' links."""

    def __init__(self, html: str):
        super().__init__()
        self.found: dict[str, str] = {}
        self.links: list[str] = []
        self._section: str | None = None
        self._heading: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "section":
            self._section = values.get("id")
        elif tag == "h2" and self._section:
            self._heading = []
        elif tag == "a" and (values.get("href") or "").startswith("#"):
            self.links.append(str(values["href"])[1:])

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self._heading is not None and self._section:
            self.found[self._section] = "".join(self._heading)
            self._heading = None


# -- the run folders ---------------------------------------------------------------------------

BAD_LINES = [
    {"id": "blank", "text": "  ", "label": "other"},
    {"id": "huge", "text": "x" * 30_000, "label": "other"},
    {"id": "numeric", "text": 7},
]


def lee_run(folder: Path, texts: list[str], *, tasks: bool, bad_lines: bool) -> Path:
    corpus = folder / "corpus.jsonl"
    with corpus.open("wb") as fh:
        for i, text in enumerate(texts):
            label = "australia" if "Australia" in text else "other"
            fh.write(orjson.dumps({"id": f"lee-{i}", "text": text, "label": label}) + b"\n")
        for record in BAD_LINES if bad_lines else []:
            fh.write(orjson.dumps(record) + b"\n")
    config: dict[str, Any] = {
        "name": "lee-browser",
        "corpus": {"reader": "jsonl", "path": str(corpus), "max_chars": 20_000},
        "stages": [{"tokenize": {"backend": "regex"}}, {"stopwords": {"lists": ["sklearn"]}}],
        "output": {"dir": str(folder / "run")},
    }
    if tasks:
        config["tasks"] = {
            "category": {"model": "naive-bayes", "label": "label", "cv": {"folds": 3}}
        }
    return run(resolve_config(config)).run_dir


def add_task_folders(run_dir: Path) -> None:
    """A task section with every block kind (terms counted from the run's documents, a
    histogram of their lengths), a task folder without report.json, and a broken one."""
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
    terms = run_dir / "tasks" / "terms"
    terms.mkdir(parents=True)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist([len(d.tokens.text) for d in docs], bins=20)
    ax.set_xlabel("tokens per document")
    fig.tight_layout()
    fig.savefig(terms / "lengths.png", dpi=90)
    plt.close(fig)
    write_section(
        terms,
        "Frequent terms",
        [
            text_block("Content words by frequency, with <markup> that must stay text."),
            metrics_block("Vocabulary", {"distinct words": len(counts), "documents": len(docs)}),
            table_block("Top words", ["word", "count"], [list(p) for p in counts.most_common(30)]),
            image_block("Document lengths", "lengths.png"),
            image_block("A plot the task did not write", "missing.png"),
        ],
        order=10,
    )
    plain = run_dir / "tasks" / "plain"
    plain.mkdir()
    (plain / "metrics.json").write_bytes(
        orjson.dumps({"documents": len(docs), "distinct": len(counts)})
    )
    shutil.copy(terms / "lengths.png", plain / "length_histogram.png")
    broken = run_dir / "tasks" / "broken"
    broken.mkdir()
    (broken / "report.json").write_text('{"title": "cut short", "blocks": [', encoding="utf-8")


BASE = {
    "overview": "Overview",
    "corpus": "Corpus",
    "timings": "Stage timings",
    "quarantine": "Quarantine",
}
FULL = {
    **BASE,
    "task-terms": "Frequent terms",
    "task-broken": "broken",
    "task-plain": "plain",
    "task-category": "Classification: label (naive-bayes)",
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory, lee_texts) -> dict[str, tuple[Path, dict[str, str], str]]:
    """name -> (report.html, expected section headings, a text only that report shows)."""
    root = tmp_path_factory.mktemp("browser-reports")
    (root / "full").mkdir()
    full = lee_run(root / "full", lee_texts[:90], tasks=True, bad_lines=True)
    add_task_folders(full)
    render_report(full)
    (root / "plain").mkdir()
    plain = lee_run(root / "plain", lee_texts[:30], tasks=False, bad_lines=False)
    render_report(plain)
    bare = Path(shutil.copytree(full, root / "bare"))
    (bare / "manifest.json").unlink()
    (bare / "config.yaml").unlink()
    shutil.rmtree(bare / "tasks" / "terms")
    render_report(bare)
    bare_sections = {k: v for k, v in FULL.items() if k != "task-terms"}
    return {
        "full": (full / "report.html", FULL, "empty document"),
        "no-tasks-no-quarantine": (plain / "report.html", BASE, "No document was quarantined."),
        "no-manifest": (bare / "report.html", bare_sections, "manifest.json is missing"),
    }


RENDERED = """JSON.stringify({
  sections: Array.from(document.querySelectorAll('section')).map(s => s.id),
  images: Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth]),
  text: document.body.innerText,
  width: document.documentElement.scrollWidth,
})"""


# -- the tests ---------------------------------------------------------------------------------


def test_the_console_check_catches_errors_and_failed_loads(tmp_path):
    page = tmp_path / "faulty.html"
    page.write_text(
        '<html><body><img src="missing.png" alt="x">'
        '<script>console.error("boom"); notDefined();</script></body></html>',
        encoding="utf-8",
    )
    _, problems = load_in_browser(page, "1", tmp_path / "profile")
    assert any("boom" in p for p in problems)
    assert any(p.startswith("exception:") and "notDefined" in p for p in problems)
    assert any("ERR_FILE_NOT_FOUND" in p for p in problems)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["full", "no-tasks-no-quarantine", "no-manifest"])
def test_each_section_renders_and_the_console_stays_clean(reports, name, tmp_path):
    path, expected, distinctive = reports[name]
    dom = chromium_cli("--dump-dom", path.resolve().as_uri(), profile=tmp_path / "dump").stdout
    parsed = Sections(dom)
    assert parsed.found == expected  # every section, in the order the report gives
    assert list(parsed.found) == list(expected)
    assert [link for link in parsed.links if link in expected] == list(expected)  # contents

    rendered, problems = load_in_browser(path, RENDERED, tmp_path / "devtools")
    assert problems == []
    state = json.loads(rendered)
    assert state["sections"] == list(expected)
    assert state["images"] and all(done and width > 0 for _, done, width in state["images"])
    assert distinctive in state["text"]
    assert state["width"] <= 1280 + 1  # nothing overflows the window sideways


@pytest.mark.slow
def test_a_screenshot_of_the_report_is_a_real_page(reports, tmp_path):
    from PIL import Image

    path = reports["full"][0]
    shot = path.parent / "report.png"
    chromium_cli(
        f"--screenshot={shot}", "--window-size=1280,3000", path.resolve().as_uri(), profile=tmp_path
    )
    with Image.open(shot) as image:
        assert image.format == "PNG" and image.size == (1280, 3000)
        pixels = image.convert("RGB")
        small = np.asarray(pixels.resize((128, 300))).reshape(-1, 3)
        colours = np.unique(small, axis=0)
        assert len(colours) > 100  # text, tables, charts: not a blank or one-colour page
        masthead = pixels.getpixel((20, 20))
        page_background = pixels.getpixel((20, 1500))
        assert sum(masthead) < 200 < sum(page_background)  # the dark band, then the light page
