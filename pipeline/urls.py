"""fsspec URLs in a config: telling a local path from a remote one, and naming a remote file.

`corpus.path` and `output.dir` may be fsspec URLs. Local paths and `file://` URLs become
`pathlib.Path`s and keep their local behaviour; any other protocol (`s3://`, `gs://`,
`memory://`, ...) goes through fsspec, whose backends (s3fs, gcsfs, adlfs) are packages of
their own: a missing one is a `ConfigError` saying what to `pip install`.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["RemotePath", "is_url", "join_url", "local_path", "remote_filesystem"]

_EXAMPLES = "s3://bucket/prefix (pip install s3fs) or gs://bucket/prefix (pip install gcsfs)"


def is_url(text: str) -> bool:
    """Whether `text` is written as an fsspec URL (`protocol://...`, or a `::` chain)."""
    return "://" in text or "::" in text


def remote_filesystem(url: str, key: str) -> tuple[Any, str] | None:
    """The fsspec filesystem and path of `url` when it is not local; None for local paths and `file://`.

    `key` is the config key shown in errors. Raises `ConfigError` for an unknown protocol
    or a backend that is not installed, naming the package to install.
    """
    if not is_url(url):
        return None
    from fsspec.core import url_to_fs
    from fsspec.implementations.local import LocalFileSystem

    from .config import ConfigError  # here: readers import this module, and need no config

    try:
        filesystem, path = url_to_fs(url)
    except ImportError as exc:  # fsspec knows the protocol, its backend is not installed
        raise ConfigError(_missing_backend_message(url, key, exc)) from None
    except ValueError as exc:  # "Protocol not known: ..."
        raise ConfigError(
            f"{key}: {url!r} has an unknown protocol ({exc}); use a local path or an fsspec URL "
            f"such as {_EXAMPLES}"
        ) from None
    if isinstance(filesystem, LocalFileSystem):
        return None
    return filesystem, path


def local_path(url: str | Path) -> Path:
    """The local path named by a path, `~/...`, or a `file://` URL (callers check `remote_filesystem` first)."""
    text = str(url)
    if not is_url(text):
        return Path(text).expanduser()
    from fsspec.core import url_to_fs

    _, path = url_to_fs(text)
    return Path(path)


def _missing_backend_message(url: str, key: str, exc: ImportError) -> str:
    from fsspec.registry import known_implementations

    for part in url.split("::"):
        protocol = part.split("://", 1)[0]
        implementation = known_implementations.get(protocol)
        if implementation is None:
            continue
        package = implementation["class"].split(".", 1)[0]
        if importlib.util.find_spec(package) is None:
            return (
                f"{key}: {url!r} needs the {package} package for {protocol}:// URLs, which is not "
                f"installed: pip install {package}"
            )
    return f"{key}: {url!r} needs an fsspec backend that is not installed: {exc}"


@dataclass(frozen=True, slots=True)
class RemotePath:
    """A file on a remote fsspec filesystem, named by its full URL (what `meta["source"]` shows).

    Offers the few `Path` members readers use (`name`, `suffix`, `as_posix`, `/`) and
    `open()`, which streams the file's bytes through fsspec.
    """

    url: str

    @property
    def name(self) -> str:
        """The last part of the URL: `s3://bucket/feeds/a.xml` -> `a.xml`."""
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        """The file name's extension, dot included, as `Path.suffix`."""
        return Path(self.name).suffix

    def as_posix(self) -> str:
        """The full URL."""
        return self.url

    def __str__(self) -> str:
        return self.url

    def __truediv__(self, relative: str) -> RemotePath:
        return RemotePath(join_url(self.url, relative))

    def open(self) -> BinaryIO:
        """Open the file for reading bytes (streamed: fsspec fetches blocks as they are read)."""
        from fsspec.core import url_to_fs

        filesystem, path = url_to_fs(self.url)
        return filesystem.open(path, "rb")  # type: ignore[no-any-return]


def join_url(base: str, relative: str) -> str:
    """`base` and a relative `a/b` joined by exactly one `/` (`memory://` + `a` -> `memory://a`)."""
    return base + relative if base.endswith("/") else f"{base}/{relative}"
