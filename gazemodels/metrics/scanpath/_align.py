"""Batched global alignment of integer sequences (Needleman-Wunsch and Levenshtein).

Both are dynamic programmes over an ``(n + 1) x (m + 1)`` grid, run here for many
pairs at once with :func:`gazemodels.metrics.scanpath._common.wavefront`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gazemodels.metrics.scanpath._common import chunk_by_size, gather_padded, wavefront

__all__ = ["levenshtein_batch", "needleman_wunsch_batch"]


def _flat(seqs: Sequence[np.ndarray]):
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(seqs) else lengths
    flat = np.concatenate([np.asarray(s, dtype=np.int64) for s in seqs]) if len(seqs) else np.empty(0, np.int64)
    return flat, offsets, lengths


def needleman_wunsch_batch(
    seqs: Sequence[np.ndarray],
    pairs: np.ndarray,
    substitution: np.ndarray | None,
    gap: float = 0.0,
    chunk_cells: int = 1 << 21,
) -> np.ndarray:
    """Needleman-Wunsch global alignment score of many pairs of integer sequences.

    ``F[i, j] = max(F[i-1, j-1] + S[a_i, b_j], F[i-1, j] + gap, F[i, j-1] + gap)``
    with ``F[i, 0] = i * gap`` and ``F[0, j] = j * gap`` (Needleman & Wunsch 1970);
    the score is ``F[n, m]``.

    Parameters
    ----------
    seqs : sequence of numpy.ndarray
        Integer sequences (symbols index ``substitution``).
    pairs : numpy.ndarray
        ``(n_pairs, 2)`` indices into ``seqs``.
    substitution : numpy.ndarray or None
        ``(K, K)`` substitution scores; ``None`` scores 1 for equal symbols and 0
        otherwise (no matrix is built, so symbols may be any integers).
    gap : float
        Score added per gap (usually <= 0).
    chunk_cells : int
        Memory budget of one batch.

    Returns
    -------
    numpy.ndarray
        ``(n_pairs,)`` alignment scores; pairs where a sequence is empty get
        ``gap * len(other)``.
    """
    flat, off, lens = _flat(seqs)
    sub = None if substitution is None else np.asarray(substitution, dtype=float)
    P = len(pairs)
    out = np.empty(P)
    if P == 0:
        return out
    a, b = pairs[:, 0], pairs[:, 1]
    la, lb = lens[a], lens[b]
    empty = (la == 0) | (lb == 0)
    out[empty] = gap * np.maximum(la[empty], lb[empty])
    ok = np.flatnonzero(~empty)
    for sel in chunk_by_size(la[ok], lb[ok], chunk_cells):
        p = ok[sel]
        R, C = int(la[p].max()), int(lb[p].max())
        sa, _ = gather_padded(flat, off[a[p]], la[p], R, fill=0)
        sb, _ = gather_padded(flat, off[b[p]], lb[p], C, fill=0)
        F = np.empty((R + 1, C + 1, len(p)))
        F[:, 0] = gap * np.arange(R + 1)[:, None]
        F[0, :] = gap * np.arange(C + 1)[:, None]
        extra = np.zeros((R + 1, C + 1, len(p)))
        if sub is None:
            extra[1:, 1:] = sa[:, None, :] == sb[None, :, :]
        else:
            extra[1:, 1:] = sub[sa[:, None, :], sb[None, :, :]]
        wavefront(F, extra, lambda u, l, d, e: np.maximum(np.maximum(u + gap, l + gap), d + e))
        out[p] = F.reshape(-1, len(p))[la[p] * (C + 1) + lb[p], np.arange(len(p))]
    return out


def levenshtein_batch(
    seqs: Sequence[np.ndarray],
    pairs: np.ndarray,
    substitution_cost: float = 1.0,
    chunk_cells: int = 1 << 21,
) -> np.ndarray:
    """Levenshtein edit distance of many pairs of integer sequences.

    ``D[i, j] = min(D[i-1, j] + 1, D[i, j-1] + 1, D[i-1, j-1] + c [a_i != b_j])`` with
    ``D[i, 0] = i``, ``D[0, j] = j`` (Levenshtein 1966); the distance is ``D[n, m]``.

    Parameters
    ----------
    seqs : sequence of numpy.ndarray
        Integer sequences.
    pairs : numpy.ndarray
        ``(n_pairs, 2)`` indices into ``seqs``.
    substitution_cost : float
        Cost ``c`` of a substitution (1 for the classic distance).
    chunk_cells : int
        Memory budget of one batch.

    Returns
    -------
    numpy.ndarray
        ``(n_pairs,)`` distances (number of edits).
    """
    flat, off, lens = _flat(seqs)
    P = len(pairs)
    out = np.empty(P)
    if P == 0:
        return out
    a, b = pairs[:, 0], pairs[:, 1]
    la, lb = lens[a], lens[b]
    empty = (la == 0) | (lb == 0)
    out[empty] = np.maximum(la[empty], lb[empty])
    ok = np.flatnonzero(~empty)
    for sel in chunk_by_size(la[ok], lb[ok], chunk_cells):
        p = ok[sel]
        R, C = int(la[p].max()), int(lb[p].max())
        sa, _ = gather_padded(flat, off[a[p]], la[p], R, fill=-1)
        sb, _ = gather_padded(flat, off[b[p]], lb[p], C, fill=-2)
        D = np.empty((R + 1, C + 1, len(p)))
        D[:, 0] = np.arange(R + 1)[:, None]
        D[0, :] = np.arange(C + 1)[:, None]
        extra = np.zeros((R + 1, C + 1, len(p)))
        extra[1:, 1:] = substitution_cost * (sa[:, None, :] != sb[None, :, :])
        wavefront(D, extra, lambda u, l, d, e: np.minimum(np.minimum(u + 1.0, l + 1.0), d + e))
        out[p] = D.reshape(-1, len(p))[la[p] * (C + 1) + lb[p], np.arange(len(p))]
    return out
