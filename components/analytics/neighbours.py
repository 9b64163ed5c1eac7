"""Neighbour search over l2-normalized rows: exact top-k, approximate top-k, near-duplicates.

Exact search compares a block of rows at a time (memory bounded by the block, never an
n x n matrix); approximate search uses `pynndescent`'s NN-descent graph. Near-duplicate
pairs come from MinHash over word shingles (`datasketch`) and are grouped as connected
components by `connected_groups`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np

from pipeline.config import ConfigError

__all__ = ["NearDuplicates", "approximate_neighbours", "connected_groups", "exact_neighbours"]


BLOCK_CELLS = 4_000_000  # similarity cells computed at once (16 MB of float32)
ANN_INSTALL = 'pip install "nlp-pipeline[ann]"'


def exact_neighbours(
    matrix: Any, k: int, *, threshold: float | None = None
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """The `k` most similar other rows of each row of an l2-normalized `matrix` (scipy
    sparse or dense): `(indices, scores)`, both `(n, k)`, most similar first, -1 / 0.0
    where a row has fewer than `k` others with a positive score; and the pairs `(i, j)`,
    i < j, with a score >= `threshold` when one is given. Rows are compared a block at a time."""
    import scipy.sparse as sp

    n = matrix.shape[0]
    indices = np.full((n, k), -1, dtype=np.int64)
    scores = np.zeros((n, k), dtype=np.float32)
    pairs: list[tuple[int, int]] = []
    kk = min(k, n - 1)
    if kk < 1:
        return indices, scores, pairs
    sparse = sp.issparse(matrix)
    transposed = matrix.T.tocsr() if sparse else matrix.T
    rows = max(1, min(n, BLOCK_CELLS // n))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        block = matrix[start:stop] @ transposed
        sim = np.asarray(block.toarray() if sparse else block, dtype=np.float32)
        local = np.arange(stop - start)
        sim[local, start + local] = -np.inf  # never a document's own neighbour
        if threshold is not None:
            i, j = np.nonzero(sim >= threshold)
            pairs.extend(
                (int(a) + start, int(b)) for a, b in zip(i, j, strict=True) if b > a + start
            )
        top = np.argpartition(-sim, kk - 1, axis=1)[:, :kk]
        top_scores = np.take_along_axis(sim, top, axis=1)
        order = np.lexsort((top, -top_scores), axis=1)  # score descending, then row
        top = np.take_along_axis(top, order, axis=1)
        top_scores = np.take_along_axis(top_scores, order, axis=1)
        positive = top_scores > 0
        indices[start:stop, :kk] = np.where(positive, top, -1)
        scores[start:stop, :kk] = np.where(positive, top_scores, 0.0)
    return indices, scores, pairs


def approximate_neighbours(
    matrix: Any, k: int, *, seed: int, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """`exact_neighbours` without the pairs, approximated by pynndescent's NN-descent
    graph (cosine), for corpora over `exact_limit`."""
    try:
        from pynndescent import NNDescent
    except ImportError:
        raise ConfigError(
            f"{where}.exact_limit: {matrix.shape[0]} documents are over exact_limit, and the "
            f"approximate search needs the pynndescent package: {ANN_INSTALL} "
            "(or raise exact_limit to compare every pair exactly)"
        ) from None
    import scipy.sparse as sp

    n = matrix.shape[0]
    # rows without any feature (all zero) have no cosine: they take no part
    valid = matrix.getnnz(axis=1) > 0 if sp.issparse(matrix) else np.any(matrix != 0, axis=1)
    neighbours = min(n - 1, max(k + 1, 15))
    index = NNDescent(matrix, metric="cosine", n_neighbors=neighbours, random_state=seed)
    graph, distances = index.neighbor_graph
    indices = np.full((n, k), -1, dtype=np.int64)
    scores = np.zeros((n, k), dtype=np.float32)
    for row in np.flatnonzero(valid):
        found = sorted(
            (float(d), int(j))
            for j, d in zip(graph[row], distances[row], strict=True)
            if j >= 0 and j != row and valid[j] and d < 1.0
        )[:k]
        for col, (distance, j) in enumerate(found):
            indices[row, col], scores[row, col] = j, 1.0 - distance
    return indices, scores


class NearDuplicates:
    """Near-duplicate pairs found one item at a time: a seeded MinHash of each item's
    distinct word `shingle`-grams, candidates from `MinHashLSH`, kept when the estimated
    Jaccard similarity is at least `threshold`. `pairs` holds `(earlier key, later key)`.

    A shingle's 32-bit hash combines its words' hashes (BLAKE2b, each word hashed once
    per corpus), a few array operations per document instead of a SHA-1 per shingle."""

    def __init__(self, *, threshold: float, num_perm: int, shingle: int, seed: int):
        from datasketch import MinHash, MinHashLSH

        self.threshold = threshold
        self.shingle = shingle
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._seeded = MinHash(num_perm=num_perm, seed=seed, hashfunc=_as_is)
        multipliers = np.random.default_rng(seed).integers(1, 2**32, size=shingle)
        self._multipliers = multipliers.astype(np.uint64) | np.uint64(1)
        self._word_hashes: dict[str, int] = {}
        self._signatures: dict[int, np.ndarray] = {}
        self.pairs: list[tuple[int, int]] = []

    def shingle_hashes(self, words: list[str]) -> np.ndarray:
        """The distinct 32-bit hashes of the word `shingle`-grams of `words` (one shingle,
        all of them, when there are fewer words)."""
        known = self._word_hashes
        for word in set(words).difference(known):
            digest = hashlib.blake2b(word.encode("utf-8"), digest_size=4).digest()
            known[word] = int.from_bytes(digest, "little")
        hashes = np.fromiter(map(known.__getitem__, words), dtype=np.uint64, count=len(words))
        size = min(self.shingle, len(words))
        windows = len(words) - size + 1
        combined = np.zeros(max(windows, 0), dtype=np.uint64)
        for j in range(size):  # position-dependent multipliers: "a b" and "b a" differ
            combined ^= (hashes[j : j + windows] * self._multipliers[j]) & np.uint64(0xFFFFFFFF)
        return np.unique(combined)

    def add(self, key: int, words: list[str]) -> None:
        """Index one item by its words and record its pairs with the items added before."""
        from datasketch import MinHash

        seeded = self._seeded
        sketch = MinHash(
            num_perm=len(seeded.hashvalues),
            hashfunc=_as_is,
            permutations=seeded.permutations,
            scheme=seeded.scheme,
        )
        sketch.update_batch(self.shingle_hashes(words).tolist())
        values = sketch.hashvalues
        for other in self.lsh.query(sketch):  # LSH candidates, kept when the estimate agrees
            if float(np.mean(self._signatures[other] == values)) >= self.threshold:
                self.pairs.append((other, key))
        self.lsh.insert(key, sketch)
        self._signatures[key] = values.copy()


def _as_is(value: int) -> int:
    """The hash function given to datasketch: the values are hashes already."""
    return value


def connected_groups(pairs: Iterable[tuple[int, int]], n: int) -> list[list[int]]:
    """The connected components of two or more of `n` items linked by `pairs`, largest
    first (then by first member), each sorted."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(find(i), []).append(i)
    groups = [m for m in members.values() if len(m) > 1]
    return sorted(groups, key=lambda m: (-len(m), m[0]))
