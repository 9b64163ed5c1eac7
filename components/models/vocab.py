"""A word vocabulary for token-id models: id 0 is padding, id 1 the unknown word."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["PAD", "UNK", "Vocabulary"]

PAD = "<pad>"
UNK = "<unk>"


class Vocabulary:
    """Words and their ids: `PAD` = 0, `UNK` = 1, then words by descending count (ties in
    first-seen order). Build one with `Vocabulary.build(token_lists, min_count, max_size)`."""

    def __init__(self, words: Sequence[str]):
        self.words = [PAD, UNK, *(w for w in words if w not in (PAD, UNK))]
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Sequence[str]],
        *,
        min_count: int = 1,
        max_size: int | None = None,
    ) -> Vocabulary:
        """The words seen at least `min_count` times, at most `max_size` of them (most frequent
        first; `max_size` counts the two special ids)."""
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        words = [w for w, c in counts.most_common() if c >= min_count]
        if max_size is not None:
            words = words[: max(0, max_size - 2)]
        return cls(words)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Each token's id; unknown words get 1."""
        get = self.index.get
        return [get(t, 1) for t in tokens]

    def save(self, path: Path) -> Path:
        """Write `{"words": [...]}` as UTF-8 JSON (ids are positions)."""
        Path(path).write_text(json.dumps({"words": self.words}, ensure_ascii=False), "utf-8")
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        """Read what `save` wrote."""
        return cls(json.loads(Path(path).read_text("utf-8"))["words"])
