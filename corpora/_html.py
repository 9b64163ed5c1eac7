"""Plain text from HTML: what the feed and HTML readers keep of markup.

Block elements become paragraph breaks (a blank line), `<br>` and list items line
breaks; scripts, styles and comments are dropped; runs of spaces collapse. lxml's
HTML parser never loads external resources.
"""

from __future__ import annotations

import html
import re

__all__ = ["html_to_text", "element_text"]

_BLOCKS = frozenset(
    "address article aside blockquote body caption center dd details div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hr main nav ol p pre section summary table tbody "
    "thead tfoot ul".split()
)
_LINES = frozenset("br li tr option".split())
_CELLS = frozenset("td th".split())
_DROPPED = ("script", "style", "noscript", "template", "head", "title", "iframe", "object", "svg")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_TAG = re.compile(r"<[^>]*>")
_PARAGRAPH = "\n\n"


def html_to_text(markup: str) -> str:
    """Return the readable text of an HTML fragment or page, paragraphs separated by blank lines."""
    if "<" not in markup and "&" not in markup:
        return _tidy(markup)
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        # lxml refuses some inputs (e.g. only a comment); plain tag stripping is good enough there.
        return _tidy(html.unescape(_TAG.sub(" ", markup)))
    return element_text(root)


def element_text(root: object) -> str:
    """Return the readable text of an lxml HTML element (see the module docstring)."""
    from lxml import etree

    for element in list(root.iter(etree.Comment, etree.ProcessingInstruction, *_DROPPED)):  # type: ignore[attr-defined]
        if element is not root:
            _drop(element)
    parts: list[str] = []
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        tag = tag.rsplit("}", 1)[-1].lower()
        if event == "start":
            if tag in _BLOCKS:
                parts.append(_PARAGRAPH)
            elif tag in _CELLS:
                parts.append(" ")
            if element.text:
                parts.append(element.text)
        else:
            if tag in _BLOCKS:
                parts.append(_PARAGRAPH)
            elif tag in _LINES:
                parts.append("\n")
            if element.tail and element is not root:
                parts.append(element.tail)
    return _tidy("".join(parts))


def _drop(element: object) -> None:
    """Remove an element and its content, keeping the text that follows it."""
    parent = element.getparent()  # type: ignore[attr-defined]
    if parent is None:
        return
    tail = element.tail  # type: ignore[attr-defined]
    if tail:
        previous = element.getprevious()  # type: ignore[attr-defined]
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _tidy(text: str) -> str:
    lines = (
        _SPACES.sub(" ", line).strip()
        for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    )
    return _BLANK_LINES.sub(_PARAGRAPH, "\n".join(lines)).strip()
