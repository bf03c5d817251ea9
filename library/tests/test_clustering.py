"""library.clustering: album proposals from embeddings, the same whatever the input order, and the
connected components that make near-duplicate groups."""

import numpy as np

from library import clustering


def test_clustering_is_deterministic_whatever_the_input_order():
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(4, 384))
    vectors = np.concatenate([centre + rng.normal(scale=0.35, size=(6, 384)) for centre in centres])
    vectors = np.concatenate([vectors, rng.normal(size=(10, 384))])  # loners
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    ids = list(range(100, 100 + len(vectors)))
    clusters = clustering.album_clusters(ids=ids, vectors=vectors, threshold=0.6, min_items=3)
    assert sorted(clusters) == [list(range(100 + 6 * group, 106 + 6 * group)) for group in range(4)]
    order = rng.permutation(len(ids))
    shuffled = clustering.album_clusters(
        ids=[ids[i] for i in order], vectors=vectors[order], threshold=0.6, min_items=3
    )
    assert shuffled == clusters
    assert clustering.album_clusters(ids=ids, vectors=vectors, threshold=0.6, min_items=7) == []


def test_connected_components_join_what_links_through_others_and_keep_loners_apart():
    # 0-3 and 3-5 make one group through 3; 1-4 another; 2 and 6 are alone.
    groups = clustering.connected_components(7, [(3, 5), (0, 3), (4, 1)])
    assert groups == [[0, 3, 5], [1, 4], [2], [6]]
    assert clustering.connected_components(0, []) == []
