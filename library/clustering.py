"""Grouping by similarity, with numpy: album proposals from embeddings, and connected components
for near-duplicate groups."""

from collections.abc import Iterable

import numpy as np


def neighbours(vectors: np.ndarray, threshold: float, block: int = 1024) -> list[np.ndarray]:
    """For each row, the other rows at least `threshold` similar (cosine: the rows are unit vectors)."""
    found = []
    for start in range(0, len(vectors), block):
        similar = vectors[start : start + block] @ vectors.T >= threshold
        for offset, row in enumerate(similar):
            row[start + offset] = False
            found.append(np.flatnonzero(row))
    return found


def album_clusters(*, ids: list[int], vectors: np.ndarray, threshold: float, min_items: int) -> list[list[int]]:
    """Groups of item ids, the same for the same input.

    Greedy: the item with the most unclaimed neighbours (the lowest id on a tie) seeds a cluster
    of itself and those neighbours; repeat until no seed has enough. Every member is at least
    `threshold` similar to its seed, so clusters do not chain across unrelated items.
    """
    if len(ids) < max(min_items, 2):
        return []
    order = np.argsort(np.asarray(ids), kind="stable")
    ids = [ids[position] for position in order]
    found = neighbours(np.asarray(vectors, dtype=np.float32)[order], threshold)
    degree = np.array([len(row) for row in found])
    free = np.ones(len(ids), dtype=bool)
    clusters: list[list[int]] = []
    while True:
        candidates = np.where(free, degree, -1)
        seed = int(np.argmax(candidates))  # the first, so the lowest id, of the best connected
        if candidates[seed] + 1 < min_items:
            return clusters
        members = [seed, *(int(other) for other in found[seed] if free[other])]
        for member in members:
            free[member] = False
            degree[found[member]] -= 1
        clusters.append(sorted(ids[member] for member in members))


def connected_components(count: int, pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    """The nodes 0..count-1 grouped by the pairs that link them (directly or through others).

    Each group is in ascending order, and the groups in the order of their smallest node.
    """
    linked: list[list[int]] = [[] for _ in range(count)]
    for first, second in pairs:
        linked[first].append(second)
        linked[second].append(first)
    seen = [False] * count
    components = []
    for start in range(count):
        if seen[start]:
            continue
        seen[start] = True
        component, waiting = [], [start]
        while waiting:
            node = waiting.pop()
            component.append(node)
            for other in linked[node]:
                if not seen[other]:
                    seen[other] = True
                    waiting.append(other)
        components.append(sorted(component))
    return components
