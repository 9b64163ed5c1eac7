"""The `nlp` command: a thin typer front over `pipeline` (argument handling and printing only)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="nlp",
    help="Composable, streaming, resumable NLP pipelines. Start with `nlp run` (bundled news corpus) or `nlp init`.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

EXIT_CONFIG = 2
EXIT_RUN = 1
EXIT_QUARANTINE = 3  # the run completed, but quarantined more than execution.max_quarantined
EXIT_EMPTY = 4  # the corpus gave no item (corpus.allow_empty: true accepts it)
EXIT_INTERRUPTED = 130  # Ctrl-C; SIGTERM exits 143 (128 + the signal's number)

logger = logging.getLogger("nlp")


def _err(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _fail(message: str, code: int) -> typer.Exit:
    """`_err` for `nlp run`: the same line also goes to --log-file, with its time."""
    logger.error(message, extra={"terminal": False})
    return _err(message, code)


def _load_code(paths: list[Path] | None) -> None:
    """Import `--code` files of components (and have worker processes import them too)."""
    if not paths:
        return
    from pipeline.registry import CodeError, load_code

    try:
        load_code(paths)
    except CodeError as exc:
        raise _err(str(exc), EXIT_CONFIG) from None


def _resolve(config: Path | None, overrides: list[str]) -> dict[str, Any]:
    from pipeline.config import DEFAULT_CONFIG, apply_overrides, load_config, resolve_config

    raw = load_config(config if config is not None else DEFAULT_CONFIG)
    apply_overrides(raw, overrides)
    return resolve_config(raw)


@app.command()
def run(
    config: Annotated[
        Path | None, typer.Argument(help="YAML config; omit to run the bundled news job.")
    ] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Run folder (overrides output.dir).")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a key: KEY.PATH=VALUE (repeatable).")
    ] = None,
    executor: Annotated[str | None, typer.Option(help="serial | processes | dask")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes for processes/dask.")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar or table; for batch jobs.")
    ] = False,
    log_file: Annotated[
        Path | None,
        typer.Option(
            help="Also write every error, warning and the run summary to this file, with times."
        ),
    ] = None,
    code: Annotated[
        list[Path] | None,
        typer.Option(
            "--code", help="A Python file of @register'ed components to import (repeatable)."
        ),
    ] = None,
) -> None:
    """Run a pipeline over a corpus and write the run folder (documents, manifest, quarantine).

    Exit codes: 0 done; 1 the run failed (its manifest says `failed` and why); 2 a config
    error; 3 done, but the quarantined share of the input is above execution.max_quarantined
    (default 0.5; everything is written); 4 the corpus has no item (corpus.allow_empty: true
    accepts it); 130 interrupted by Ctrl-C, 143 by SIGTERM (the manifest says `interrupted`;
    run again to resume).
    """
    from pipeline.config import ConfigError
    from pipeline.executors import ExecutorError
    from pipeline.runner import EmptyCorpusError, RunError, RunInterrupted
    from pipeline.runner import run as run_pipeline
    from pipeline.stage import StageError

    _setup_logging(quiet, log_file)
    _load_code(code)
    overrides = list(set_ or [])
    if executor is not None:
        overrides.append(f"execution.executor={executor}")
    if workers is not None:
        overrides.append(f"execution.workers={workers}")
    if output is not None:
        overrides.append(f"output.dir={output}")
    try:
        resolved = _resolve(config, overrides)
        progress = None
        if not quiet:
            from pipeline.progress import RichProgress

            progress = RichProgress()
        result = run_pipeline(resolved, progress=progress)
    except ConfigError as exc:
        raise _fail(str(exc), EXIT_CONFIG) from None
    except EmptyCorpusError as exc:
        raise _fail(str(exc), EXIT_EMPTY) from None
    except (RunError, StageError, ExecutorError) as exc:
        raise _fail(str(exc), EXIT_RUN) from None
    except RunInterrupted as exc:
        raise _fail(
            f"interrupted by {exc.signal_name}; finished shards are kept: run the same command again to resume",
            128 + exc.signal_number,
        ) from None
    except KeyboardInterrupt:
        raise _fail(
            "interrupted; finished shards are kept: run the same command again to resume",
            EXIT_INTERRUPTED,
        ) from None
    except Exception as exc:  # a bug: its traceback goes to the log file too, then on as before
        logger.exception(
            "the run failed: %s: %s", type(exc).__name__, exc, extra={"terminal": False}
        )
        raise

    manifest = result.manifest
    counts = manifest["documents"]
    if not quiet:
        _print_summary(manifest)
    skipped = f" + skipped_seen {counts['skipped_seen']}" if "skipped_seen" in counts else ""
    if "updated" in counts:
        skipped = f" + updated {counts['updated']}" + skipped
    url = manifest.get("output_url")
    where = f"{url} (staged in {result.run_dir})" if url else str(result.run_dir)
    summary = (
        f"documents: in {counts['in']} = out {counts['out']} + quarantined {counts['quarantined']}{skipped}"
        f"  ->  {where}"
    )
    typer.echo(summary)
    logger.info(summary)
    logger.info(_timings_line(manifest["timings"]))
    report = manifest.get("report") or {}
    if report.get("path"):
        typer.echo(f"report: {result.run_dir / report['path']}")
    elif report.get("error"):
        typer.echo(f"report: not written ({report['error']})", err=True)
    if result.quarantine_exceeded:
        check = manifest["quarantine_check"]
        raise _fail(
            f"quarantined {counts['quarantined']} of {counts['in']} inputs ({check['share']:.0%}), "
            f"above execution.max_quarantined {check['max_quarantined']}; everything is written: "
            f"see {result.run_dir / 'quarantine.jsonl'} for the reasons",
            EXIT_QUARANTINE,
        )


def _setup_logging(quiet: bool, log_file: Path | None) -> None:
    """Warnings and errors to the terminal (unless --quiet), and the tasks' training progress
    (one line per epoch, one per fitted task); with --log-file, every message
    from INFO up (Python warnings included) to the file, one timestamped line each.

    Records logged with `extra={"terminal": False}` (errors the CLI already printed) skip
    the terminal."""
    handlers: list[logging.Handler] = []
    if log_file is not None:
        file_handler = logging.FileHandler(log_file, encoding="utf-8")
        file_handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        handlers.append(file_handler)
    if not quiet:
        from rich.console import Console
        from rich.logging import RichHandler

        terminal = RichHandler(console=Console(stderr=True), show_path=False, level=logging.INFO)
        terminal.setFormatter(logging.Formatter("%(message)s"))  # rich shows time and level
        terminal.addFilter(_for_terminal)
        handlers.append(terminal)
    logging.basicConfig(
        level=logging.INFO, handlers=handlers or [logging.NullHandler()], force=True
    )
    logging.captureWarnings(True)


# below WARNING, the terminal shows only training progress: each task's epochs and scores
PROGRESS_LOGGERS = ("components.models", "pipeline.tasks")


def _for_terminal(record: logging.LogRecord) -> bool:
    if record.levelno < logging.WARNING and not record.name.startswith(PROGRESS_LOGGERS):
        return False
    return getattr(record, "terminal", True)


def _timings_line(timings: dict[str, Any]) -> str:
    return (
        f"{timings['total_seconds']:.2f} s, {timings['documents_per_second'] or 0:,.0f} docs/s, "
        f"{timings['words_per_second'] or 0:,.0f} words/s; shards computed {timings['shards_computed']}, "
        f"reused {timings['shards_reused']}"
    )


def _print_summary(manifest: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    timings = manifest["timings"]
    table = Table(title=f"run {manifest['name']!r}", title_justify="left")
    for column in ("stage", "in", "out", "quarantined", "seconds"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for row in manifest["stages"]:
        seconds = row.get("seconds")
        fused = row.get("fused") or [row["name"]]
        if fused[0] != row["name"]:
            shown = f"(in {fused[0]})"  # one fused spaCy pass: its time is shown once
        else:
            shown = "" if seconds is None else f"{seconds:.2f}"
        table.add_row(row["name"], str(row["in"]), str(row["out"]), str(row["quarantined"]), shown)
    console = Console(stderr=True)
    console.print(table)
    if manifest.get("tasks"):
        tasks = Table(title="tasks", title_justify="left")
        for column in ("task", "component", "seconds"):
            tasks.add_column(column, justify="right" if column == "seconds" else "left")
        for name, row in manifest["tasks"].items():
            shown = "reused" if row.get("reused") else f"{row.get('seconds', 0):.2f}"
            tasks.add_row(name, str(row.get("component", "")), shown)
        console.print(tasks)
    console.print(_timings_line(timings))


@app.command()
def validate(
    config: Annotated[Path, typer.Argument(help="YAML config to check.")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a key: KEY.PATH=VALUE.")
    ] = None,
    show: Annotated[bool, typer.Option(help="Print the fully resolved config.")] = False,
    code: Annotated[
        list[Path] | None,
        typer.Option(
            "--code", help="A Python file of @register'ed components to import (repeatable)."
        ),
    ] = None,
) -> None:
    """Check a config without running it; with --show, print it fully resolved.

    Reports every problem a run would refuse before reading data, one line each.
    """
    from pipeline.config import (
        ConfigError,
        apply_overrides,
        dump_config,
        load_config,
        resolve_config,
    )
    from pipeline.runner import check_corpus_path
    from pipeline.settings import RunSettings

    _load_code(code)

    try:
        raw = apply_overrides(load_config(config), list(set_ or []))
    except ConfigError as exc:  # the file cannot be read, or a --set is malformed
        raise _err(str(exc), EXIT_CONFIG) from None
    problems: list[str] = []
    resolved: dict[str, Any] | None = None
    try:
        resolved = resolve_config(raw)
    except ConfigError as exc:
        problems.extend(exc.problems)
    corpus = raw.get("corpus")
    path = corpus.get("path") if isinstance(corpus, dict) else None
    try:
        check_corpus_path(path if isinstance(path, str) else None)
        if resolved is not None:
            RunSettings.from_config(resolved)  # output.dir: an unknown protocol, a missing s3fs
    except ConfigError as exc:
        problems.extend(exc.problems)
    if problems or resolved is None:
        for problem in problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(EXIT_CONFIG)
    if show:
        typer.echo(dump_config(resolved), nl=False)
    else:
        names = ", ".join(next(iter(s)) for s in resolved["stages"]) or "none"
        typer.echo(f"{config}: valid (reader {resolved['corpus']['reader']}; stages: {names})")


@app.command()
def components(
    name: Annotated[
        str | None, typer.Argument(help="Show one component's parameters and documentation.")
    ] = None,
) -> None:
    """List registered stages, readers, learners and tasks with their parameters."""
    from rich.console import Console
    from rich.table import Table

    from pipeline import registry

    console = Console()
    if name is not None:
        found = []
        for kind in registry.KINDS:
            if name in registry.names(kind):
                found.append(registry.describe(registry.lookup(kind, name)))
        if not found:
            from pipeline.hints import did_you_mean

            every = sorted({n for kind in registry.KINDS for n in registry.names(kind)})
            hint = did_you_mean(name, every)
            raise _err(f"no component named {name!r}{hint} (see `nlp components`)", EXIT_CONFIG)
        for info in found:
            console.print(
                f"[bold]{info['name']}[/bold] ({info['kind']}, version {info['version']})"
            )
            console.print(info["doc"], markup=False)
            table = Table("parameter", "type", "default")
            for pname, p in info["parameters"].items():
                table.add_row(
                    pname, p["type"], "(required)" if p["required"] else repr(p["default"])
                )
            console.print(table)
        return
    table = Table("kind", "name", "parameters (defaults)", "summary")
    for kind in registry.KINDS:
        for comp in registry.names(kind):
            info = registry.describe(registry.lookup(kind, comp))
            params = ", ".join(
                f"{p}" if spec["required"] else f"{p}={spec['default']!r}"
                for p, spec in info["parameters"].items()
            )
            table.add_row(kind, comp, params, info["summary"])
    console.print(table)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def evaluate(
    ctx: typer.Context,
    name: Annotated[
        str,
        typer.Argument(
            help="A trained task folder, or an evaluator: coref | embeddings | ... (see `nlp components`)."
        ),
    ],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the metrics as JSON here.")
    ] = None,
) -> None:
    """Measure quality: a trained task on labelled data (`nlp evaluate RUN/tasks/NAME
    test.csv`, read like its training corpus), or a component on real benchmarks
    (`nlp evaluate coref --gold gap-development.tsv`, `nlp evaluate embeddings vectors.txt`). A bare PATH fills the evaluator's first parameter;
    `--param VALUE` sets any other."""
    import json

    from pipeline import registry
    from pipeline.config import ConfigError, component_model, validate_params

    if Path(name).is_dir():
        return _evaluate_model(Path(name), list(ctx.args), json_out)
    params: dict[str, Any] = {}
    path: str | None = None
    extra = list(ctx.args)
    while extra:
        key = extra.pop(0)
        if not key.startswith("--"):
            if path is not None:
                raise _err(
                    f"unexpected argument {key!r}; options look like --gold PATH", EXIT_CONFIG
                )
            path = key
            continue
        key = key[2:].replace("-", "_")
        if "=" in key:
            key, value = key.split("=", 1)
        elif extra and not extra[0].startswith("--"):
            value = extra.pop(0)
        else:
            value = "true"
        import yaml

        params[key] = yaml.safe_load(value)
    try:
        cls = registry.lookup("evaluator", name)
    except registry.RegistryError as exc:
        raise _err(str(exc), EXIT_CONFIG) from None
    if path is not None:
        first = next(iter(registry.parameters(cls)), None)
        if first is None:
            raise _err(f"evaluator {name!r} takes no path", EXIT_CONFIG)
        params.setdefault(first, path)
    try:
        resolved = validate_params(component_model("evaluator", name), params, f"evaluate {name}")
    except ConfigError as exc:
        raise _err(str(exc), EXIT_CONFIG) from None
    from pipeline.stage import StageError

    try:
        metrics = cls(**resolved).evaluate()
    except (StageError, FileNotFoundError, ValueError) as exc:
        raise _err(str(exc), EXIT_RUN) from None
    _print_metrics(name, metrics)
    if json_out is not None:
        json_out.write_text(json.dumps(metrics, indent=2, default=str), encoding="utf-8")


def _print_metrics(name: str, metrics: dict[str, Any], prefix: str = "") -> None:
    for key, value in metrics.items():
        label = f"{prefix}{key}"
        if isinstance(value, dict):
            _print_metrics(name, value, prefix=f"{label}.")
        elif isinstance(value, float):
            typer.echo(f"{label:40s} {value:.4f}")
        else:
            typer.echo(f"{label:40s} {value}")


def _open_model(model_dir: Path) -> Any:
    from pipeline.predict import ModelFolder, ModelFolderError

    try:
        return ModelFolder.open(model_dir)
    except ModelFolderError as exc:
        raise _err(str(exc), EXIT_CONFIG) from None


def _model_inputs(
    model: Any,
    inputs: list[str],
    texts: list[str],
    reader: str | None,
    set_: list[str],
    *,
    labelled: bool = False,
) -> Any:
    """The reader items of `nlp predict`/`nlp evaluate`: each INPUT read with the model's
    reader settings (or --reader/--set), `-` as one text per line of stdin, then --text.
    Only `labelled` inputs (evaluate) keep the training reader's `label_column`."""
    from pipeline.config import ConfigError
    from pipeline.predict import check_overrides, text_documents

    try:
        overrides = check_overrides(set_)
        specs = [
            model.corpus_spec(path, reader=reader, overrides=overrides, labelled=labelled)
            for path in inputs
            if path != "-"
        ]
    except ConfigError as exc:
        raise _err(str(exc), EXIT_CONFIG) from None

    def items() -> Any:
        files = iter(specs)
        for path in inputs:
            if path == "-":
                yield from text_documents((line.rstrip("\n") for line in sys.stdin), prefix="stdin")
            else:
                yield from next(files).build_reader()
        yield from text_documents(texts)

    return items()


def _predict_options(options: dict[str, Any], task: Any) -> dict[str, Any]:
    """`nlp predict`'s generation options, checked (values in range; with `task`, also
    that its model takes each one): one `error:` line and exit 2 otherwise."""
    from pipeline.predict import PredictOptionError, check_predict_options, predict_option_problem

    for name, value in options.items():
        problem = predict_option_problem(name, value, as_flags=True)
        if problem is not None:
            raise _err(problem, EXIT_CONFIG)
    if task is None:
        return options
    try:
        return check_predict_options(task, options, as_flags=True)
    except PredictOptionError as exc:
        raise _err(str(exc), EXIT_CONFIG) from None


@app.command()
def predict(
    model_dir: Annotated[Path, typer.Argument(help="A trained task folder: RUN/tasks/NAME.")],
    inputs: Annotated[
        list[str] | None,
        typer.Argument(help="Files read like the training corpus; `-` reads one text per line."),
    ] = None,
    text: Annotated[
        list[str] | None, typer.Option("--text", help="A raw text to predict on (repeatable).")
    ] = None,
    reader: Annotated[
        str | None, typer.Option(help="Read INPUT with this reader instead of the model's.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="A reader parameter: KEY=VALUE, e.g. text_column=body."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the JSONL here (default: stdout).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Documents per prediction batch.")] = 256,
    strategy: Annotated[
        str | None,
        typer.Option(
            help="Generation: greedy | beam | sample | top-k | top-p (as the model takes)."
        ),
    ] = None,
    beam: Annotated[int | None, typer.Option(help="Generation: beam size (at least 1).")] = None,
    max_length: Annotated[
        int | None, typer.Option(help="Generation: most tokens generated (at least 1).")
    ] = None,
    min_length: Annotated[
        int | None, typer.Option(help="Generation: fewest tokens before the end token.")
    ] = None,
    temperature: Annotated[
        float | None, typer.Option(help="Generation: sampling temperature (above 0).")
    ] = None,
    top_k: Annotated[
        int | None, typer.Option(help="Generation: sample among the k likeliest (0: no cut).")
    ] = None,
    top_p: Annotated[
        float | None, typer.Option(help="Generation: nucleus sampling mass, in (0, 1].")
    ] = None,
    repetition_penalty: Annotated[
        float | None, typer.Option(help="Generation: divide repeated tokens' scores (above 0).")
    ] = None,
    length_penalty: Annotated[
        float | None,
        typer.Option(help="Generation: beam length penalty alpha (GNMT; 0: none, larger: longer)."),
    ] = None,
    no_repeat_ngram: Annotated[
        int | None, typer.Option(help="Generation: never repeat an n-gram of this size (0: off).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Generation: seed of the sampling.")] = None,
    score: Annotated[
        bool,
        typer.Option(
            "--score", help='Language model: write {"id", "tokens", "log_likelihood"} per input.'
        ),
    ] = False,
) -> None:
    """Predict with a trained task on raw files or text: one JSON line per input document,
    in input order (`{"id", "label", "probabilities"}` for a classifier, `{"id", "text"}` for
    a generator). A document the reader or the model's stages reject gets `{"id",
    "quarantined": reason}` instead. The generation options go only to a model that takes
    them; `nlp serve` takes none of them."""
    import orjson

    from pipeline.predict import predict_items

    given = {
        "strategy": strategy,
        "beam": beam,
        "max_length": max_length,
        "min_length": min_length,
        "temperature": temperature,
        "top_k": top_k,
        "top_p": top_p,
        "repetition_penalty": repetition_penalty,
        "length_penalty": length_penalty,
        "no_repeat_ngram": no_repeat_ngram,
        "seed": seed,
        "score": True if score else None,
    }
    options = _predict_options({k: v for k, v in given.items() if v is not None}, None)
    if not inputs and not text:
        raise _err("nothing to predict on: give INPUT files, `-` for stdin, or --text", EXIT_CONFIG)
    model = _open_model(model_dir)
    options = _predict_options(options, model.task)
    items = _model_inputs(model, list(inputs or []), list(text or []), reader, list(set_ or []))
    sink = output.open("wb") if output is not None else sys.stdout.buffer
    counts = {"documents": 0, "quarantined": 0}
    try:
        for line in predict_items(model, items, batch_size=batch_size, options=options):
            counts["documents"] += 1
            counts["quarantined"] += "quarantined" in line
            sink.write(orjson.dumps(line) + b"\n")
    except ValueError as exc:
        if not options:
            raise
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _err(f"{model_dir}: {first}", EXIT_CONFIG) from None
    finally:
        if output is not None:
            sink.close()
        else:
            sink.flush()
    typer.echo(
        f"{counts['documents']} documents, {counts['quarantined']} quarantined"
        + (f"; wrote {output}" if output is not None else ""),
        err=True,
    )


def _evaluate_model(model_dir: Path, args: list[str], json_out: Path | None) -> None:
    """`nlp evaluate MODEL_DIR INPUT...`: the saved task's metrics on labelled input."""
    import json

    from pipeline.predict import annotated_documents

    inputs: list[str] = []
    options: dict[str, list[str]] = {"--reader": [], "--set": []}
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        key, eq, value = arg.partition("=")
        if key in options:
            if not eq:
                if not rest:
                    raise _err(f"{key} needs a value", EXIT_CONFIG)
                value = rest.pop(0)
            options[key].append(value)
        elif arg.startswith("--"):
            raise _err(f"unknown option {arg!r}; use --reader, --set or --json", EXIT_CONFIG)
        else:
            inputs.append(arg)
    if not inputs:
        raise _err(
            "nlp evaluate MODEL_DIR INPUT: give the labelled file(s) to evaluate on", EXIT_CONFIG
        )
    model = _open_model(model_dir)
    reader = options["--reader"][-1] if options["--reader"] else None
    items = _model_inputs(model, inputs, [], reader, options["--set"], labelled=True)
    try:
        metrics = model.task.evaluate(annotated_documents(model, items))
    except ValueError as exc:
        raise _err(str(exc), EXIT_CONFIG) from None
    _print_metrics(model.name, metrics)
    target = json_out or model_dir / "evaluations" / f"{Path(inputs[0]).stem}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(metrics, indent=2, default=str), encoding="utf-8")
    typer.echo(f"wrote {target}", err=True)


@app.command()
def serve(
    model_dir: Annotated[Path, typer.Argument(help="A trained task folder: RUN/tasks/NAME.")],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server worker processes.")] = 1,
    max_batch: Annotated[int, typer.Option(help="Most texts in one request (413 beyond).")] = 256,
    max_bytes: Annotated[
        int, typer.Option(help="Largest request body in bytes (413 beyond).")
    ] = 1_000_000,
) -> None:
    """Serve a trained task over HTTP: POST /predict {"texts": [...]}, GET /health, GET /model."""
    _open_model(model_dir)  # a bad folder is one line here, not a traceback in each worker
    from components.models.serving import serve as serve_model

    serve_model(
        model_dir, host=host, port=port, workers=workers, max_batch=max_batch, max_bytes=max_bytes
    )


STARTER_CONFIG = """\
# nlp-pipeline config. Run it with: nlp run {path}
# Every key below shows its default; `nlp validate {path} --show` prints the fully resolved config,
# `nlp components NAME` documents a component's parameters.
name: my-corpus

corpus:
  reader: lee-news          # the 300 ABC news articles bundled with gensim: this config runs as written
  # For your own files, replace the reader line with (`nlp components` lists every reader):
  # reader: text            # text | jsonl | csv | feeds | html
  # path: data/*.txt        # a file, a folder or a glob (or s3://bucket/data/*.txt); .gz/.bz2 read transparently
  # max_chars: 1000000      # longer documents are quarantined
  # limit: 1000             # read only the first N items

stages:                     # applied to every document, in order
  - normalize: {unicode: NFKC, whitespace: true, lowercase: false}
  - tokenize: {backend: spacy}          # spacy | regex | nltk-treebank | nltk-tweet | whitespace
  - sentences: {backend: rules}         # rules | punkt
  - stopwords: {lists: [spacy], remove: false}

execution:
  executor: serial          # serial | processes | dask
  workers: 2
  shard_size: 1000          # documents per shard: memory depends on this, not on the corpus size
  cache: true               # re-runs skip finished shards; a changed stage recomputes from there

output:
  dir: runs/my-corpus       # or s3://bucket/runs/my-corpus: staged locally, published at the end
  formats: [parquet]        # parquet and/or jsonl
"""


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter config.")] = Path(
        "nlp.yaml"
    ),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter config."""
    if path.exists() and not force:
        raise _err(f"{path} already exists; use --force to overwrite", EXIT_CONFIG)
    path.write_text(STARTER_CONFIG.replace("{path}", str(path)), encoding="utf-8")
    typer.echo(
        f"wrote {path}; run it with: nlp run {path} (it reads the bundled Lee news articles; "
        "point corpus: at your own files when you are ready)"
    )


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder (the output.dir of a run).")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the HTML (default: RUN_DIR/report.html)."),
    ] = None,
) -> None:
    """Render a run folder's report: one self-contained report.html; prints its path."""
    from pipeline.report import NotARunFolder, render_report

    try:
        path = render_report(run_dir, out)
    except NotARunFolder as exc:
        raise _err(str(exc), EXIT_CONFIG) from None
    except OSError as exc:
        target = exc.filename or out or run_dir / "report.html"
        raise _err(f"cannot write the report {target}: {exc.strerror or exc}", EXIT_RUN) from None
    typer.echo(str(path))


cache_app = typer.Typer(help="Inspect and bound a run folder's stage cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


@cache_app.command("prune")
def cache_prune(
    run_dir: Annotated[Path, typer.Argument(help="A run folder (holding manifest.json).")],
) -> None:
    """Delete the cache entries the run folder's current manifest and config do not use."""
    from pipeline.config import ConfigError, load_config, resolve_config
    from pipeline.manifest import load_manifest
    from pipeline.settings import RunSettings
    from pipeline.stage_cache import current_fingerprints, prune_cache

    manifest = load_manifest(run_dir / "manifest.json")
    if manifest is None:
        raise _err(f"{run_dir}: no readable manifest.json; is it a run folder?", EXIT_CONFIG)
    try:
        settings = RunSettings.from_config(resolve_config(load_config(run_dir / "config.yaml")))
    except (OSError, ConfigError) as exc:
        raise _err(f"{run_dir}/config.yaml: {exc}", EXIT_CONFIG) from None
    keep = current_fingerprints(manifest.get("shards", []), settings.stages)
    pruned = prune_cache(run_dir, keep)
    typer.echo(
        f"removed {pruned.removed} cache entries ({pruned.freed_bytes / 1e6:.1f} MB); "
        f"kept {pruned.kept} ({pruned.kept_bytes / 1e6:.1f} MB)"
    )


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except BrokenPipeError:
        sys.stderr.close()


if __name__ == "__main__":
    main()
