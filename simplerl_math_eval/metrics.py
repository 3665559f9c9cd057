"""pass@k, majority@k and average accuracy from per-sample correctness.

``correct`` arrays have shape (problems, samples): entry [i, j] says whether run j solved problem i.
"""

import math
import random
from collections.abc import Callable, Sequence
from itertools import combinations

import numpy as np

EXACT_SUBSETS_LIMIT = 5000
SAMPLED_SUBSETS = 2000


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of Chen et al. (2021): 1 - C(n-c, k) / C(n, k), in stable product form."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def pass_at_k_curve(correct: np.ndarray) -> dict[int, float]:
    """Mean unbiased pass@k over problems for every k = 1..n."""
    n = correct.shape[1]
    counts = correct.sum(axis=1)
    return {k: float(np.mean([pass_at_k(n, int(c), k) for c in counts])) for k in range(1, n + 1)}


def legacy_pass_at_k(correct: np.ndarray, k: int, seed: int) -> float:
    """The original project's estimate: draw k of the n runs at random (seeded), any-correct rate."""
    runs = random.Random(seed).sample(range(correct.shape[1]), k)
    return float(correct[:, runs].any(axis=1).mean())


def average_accuracy(correct: np.ndarray) -> tuple[float, float]:
    """Mean accuracy over all samples, and the standard deviation (ddof=1) of per-run accuracy."""
    per_run = correct.mean(axis=0)
    std = float(np.std(per_run, ddof=1)) if len(per_run) > 1 else 0.0
    return float(correct.mean()), std


def cluster_answers(answers: Sequence[str], equal: Callable[[str, str], bool]) -> list[int]:
    """Greedy equivalence clusters: each answer joins the first earlier cluster whose first member
    it equals, else starts a new one. Returns a cluster id per answer (ids in order of creation)."""
    representatives: list[str] = []
    labels = []
    for answer in answers:
        label = next((i for i, rep in enumerate(representatives) if equal(answer, rep)), None)
        if label is None:
            label = len(representatives)
            representatives.append(answer)
        labels.append(label)
    return labels


def _subsets(n: int, k: int, seed: int) -> np.ndarray:
    if math.comb(n, k) <= EXACT_SUBSETS_LIMIT:
        return np.array(list(combinations(range(n), k)), dtype=np.int64).reshape(-1, k)
    rng = np.random.default_rng(seed)
    return np.sort(np.argsort(rng.random((SAMPLED_SUBSETS, n)), axis=1)[:, :k], axis=1)


def majority_at_k(labels: Sequence[int], correct: Sequence[bool], k: int, seed: int = 0) -> float:
    """Probability that the majority answer of k of the n samples is correct.

    The winning cluster is the one with most members in the subset; a tie goes to the cluster
    whose earliest member (lowest run index) comes first. For k = n this is one vote. For k < n
    it is the exact mean over all k-subsets when there are at most EXACT_SUBSETS_LIMIT of them,
    otherwise the mean over SAMPLED_SUBSETS random subsets drawn with ``seed``.
    """
    labels_arr = np.asarray(labels)
    correct_arr = np.asarray(correct, dtype=bool)
    n = len(labels_arr)
    if correct_arr.all() or not correct_arr.any():
        return float(correct_arr.all())
    subsets = _subsets(n, k, seed)
    chosen = labels_arr[subsets]  # (m, k) cluster ids, subsets sorted by run index
    onehot = chosen[:, :, None] == np.arange(labels_arr.max() + 1)[None, None, :]
    counts = onehot.sum(axis=1)
    first = np.where(onehot.any(axis=1), onehot.argmax(axis=1), k)
    winner = np.argmax(counts * (k + 1) - first, axis=1)
    cluster_correct = np.zeros(labels_arr.max() + 1, dtype=bool)
    cluster_correct[labels_arr[correct_arr]] = True
    return float(cluster_correct[winner].mean())


def recovery_rate(rast: float, base: float, rl: float) -> float | None:
    """The paper's recovery rate (RAST - base) / (RL-tuned - base): the share of RL training's gain that RAST
    recovers; None (undefined) when the RL-tuned model scores the same as the base."""
    return None if rl == base else (rast - base) / (rl - base)
