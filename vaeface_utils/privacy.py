"""Privacy: what a trained model gives away about the images it was trained on.

:func:`membership_roc` measures **membership inference**: how well a score
that anyone holding the model can compute (an ELBO, minus a reconstruction
error) tells the training images (members) from held-out ones. It is the
ROC analysis that :mod:`vaeface_utils.verification` applies to pairs of
faces, applied to single images and the question "was this one in the
training set?".

Nothing here imports TensorFlow.
"""

from __future__ import annotations

import numpy as np

from . import _validate as _v

__all__ = ["membership_roc"]


def membership_roc(scores_members, scores_nonmembers):
    """How well a score tells training images (members) from held-out ones: ROC and AUC.

    The attacker guesses "was in the training set" when the score is above a
    threshold; a higher score must mean "more likely a member" (use the ELBO,
    or minus the reconstruction error). The AUC is the probability that a
    random member scores higher than a random non-member (ties count half):
    0.5 is no leak, 1 a complete one.

    Parameters
    ----------
    scores_members : array_like of float, shape (n_members,)
    scores_nonmembers : array_like of float, shape (n_nonmembers,)

    Returns
    -------
    fpr, tpr : ndarray of float64
        ``sklearn.metrics.roc_curve``'s false and true positive rates.
    auc : float
        ``sklearn.metrics.roc_auc_score``.

    Raises
    ------
    ValueError
        An empty or non-1-D score array, or scores that are not finite.

    Examples
    --------
    >>> fpr, tpr, auc = membership_roc([3.0, 2.0], [1.0, 2.0])
    >>> auc
    0.875
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    arrays = [_v.scores(scores, name, what="an array of numbers", per="image",
                      fix="a diverged model? Check the ELBO first.")
              for name, scores in (("scores_members", scores_members), ("scores_nonmembers", scores_nonmembers))]
    labels = np.r_[np.ones(len(arrays[0])), np.zeros(len(arrays[1]))]
    scores = np.concatenate(arrays)
    fpr, tpr, _ = roc_curve(labels, scores)
    return fpr, tpr, float(roc_auc_score(labels, scores))