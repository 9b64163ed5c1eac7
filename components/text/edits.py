"""Alignment edits: build them while rewriting text, and compose them across rewrites.

An edit `(norm_start, norm_end, orig_start, orig_end)` says that the characters
`[norm_start, norm_end)` of a rewritten text replaced `[orig_start, orig_end)` of
its source (see `pipeline.document.Alignment`). Outside edits, positions correspond
one to one, so a one-character-for-one-character substitution (a case change, a tab
turned into a space) needs no edit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["Edit", "Rewrite", "compose", "rewrite_spans"]

Edit = tuple[int, int, int, int]

#: A replacement for one span of text: pieces `(orig_length, new_text)` covering the
#: span from left to right. Each changed piece becomes its own edit, so "don't" ->
#: [(2, "do"), (3, " not")] maps "not" back to "n't" and "do" to "do".
Rewrite = Sequence[tuple[int, str]]


def rewrite_spans(text: str, spans: Iterable[tuple[int, int, Rewrite | str | None]]):
    """Rewrite `text` at ordered, non-overlapping `(start, end, replacement)` spans.

    A replacement is a string (the whole span maps to it), a `Rewrite` (piecewise
    mapping) or `None` (keep the span as it is). Returns the new text and its edits.
    """
    parts: list[str] = []
    edits: list[Edit] = []
    src = 0  # position in `text` copied up to
    shift = 0  # len(new text so far) - src
    for start, end, result in spans:
        if result is None:
            continue
        parts.append(text[src:start])
        pieces = [(end - start, result)] if isinstance(result, str) else result
        pos = start
        for length, new in pieces:
            old_end = pos + length
            if new != text[pos:old_end]:
                if not (length == 1 and len(new) == 1):
                    edits.append((pos + shift, pos + shift + len(new), pos, old_end))
                shift += len(new) - length
            parts.append(new)
            pos = old_end
        src = pos
    if not parts:
        return text, edits
    parts.append(text[src:])
    return "".join(parts), edits


def compose(outer: Sequence[Edit], inner: Sequence[Edit]) -> list[Edit]:
    """Compose two edit lists: `outer` maps text1 -> text0, `inner` maps text2 -> text1.

    Returns the edits mapping text2 straight to text0. Edits of the two lists that
    overlap in text1 (or touch at an empty edit, an insertion or deletion) merge into
    one, so a replacement never maps to part of an earlier replacement. Linear in the
    number of edits.
    """
    if not inner:
        return list(outer)
    if not outer:
        return list(inner)
    # Intervals in text1 coordinates, each with its length change (text0/text1 side
    # for outer, text1/text2 side for inner).
    out: list[Edit] = []
    i = j = 0
    n_outer, n_inner = len(outer), len(inner)
    d_outer = 0  # text0 position = text1 position + d_outer (left of the cursor)
    d_inner = 0  # text2 position = text1 position - d_inner (left of the cursor)
    while i < n_outer or j < n_inner:
        take_outer = j >= n_inner or (i < n_outer and outer[i][0] <= inner[j][2])
        if take_outer:
            ns, ne, os_, oe = outer[i]
            start, end = ns, ne
            c_outer, c_inner = (oe - os_) - (ne - ns), 0
            i += 1
        else:
            ns, ne, os_, oe = inner[j]
            start, end = os_, oe
            c_outer, c_inner = 0, (oe - os_) - (ne - ns)
            j += 1
        end_is_empty = start == end
        while True:
            if i < n_outer and (j >= n_inner or outer[i][0] <= inner[j][2]):
                ns, ne, os_, oe = outer[i]
                s, e = ns, ne
                is_outer = True
            elif j < n_inner:
                ns, ne, os_, oe = inner[j]
                s, e = os_, oe
                is_outer = False
            else:
                break
            if not (s < end or (s == end and (s == e or end_is_empty))):
                break
            if is_outer:
                c_outer += (oe - os_) - (ne - ns)
                i += 1
            else:
                c_inner += (oe - os_) - (ne - ns)
                j += 1
            if e > end:
                end, end_is_empty = e, s == e
            elif e == end:
                end_is_empty = end_is_empty or s == e
        out.append(
            (start - d_inner, end - d_inner - c_inner, start + d_outer, end + d_outer + c_outer)
        )
        d_outer += c_outer
        d_inner += c_inner
    return out
