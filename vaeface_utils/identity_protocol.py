"""Notebook 06's protocols: choosing each model's budget and classifier on validation, and new people.

:func:`validation_curve`
    Trains one labelled model (or the CNN) on training images and, every few
    epochs, identifies the validation images from its identity code with
    each classifier (and with the model's own rule, if it has one), keeping
    the weights of each checkpoint: the budget is chosen from the curve, and
    the model at that budget is the checkpoint itself.
:func:`choose_classifier`
    :func:`vaeface_utils.protocol.choose_on_validation` on a model's identity
    code, with and without LDA on top, plus the model's own rule (posterior
    over people, softmax head) as one more candidate; ties go to the own
    rule, which fits nothing more.
:func:`person_splits` and :func:`new_people_scores`
    Recognition of people no model saw: the 40 people split into known and
    new halves; on the new people, verification (ROC AUC, equal error rate,
    all pairs, cosine similarity) and k-shot identification (1-NN, cosine).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import protocol as _protocol
from .features import EncoderFeatures
from .identification import CLASSIFIERS, identification_accuracy, make_classifier
from .labelled import _positive_int, train_labelled
from .model import keras
from .verification import verification_roc

__all__ = ["OWN_RULE", "QUOTED_FACENET_LFW", "ValidationCurve", "validation_curve", "Choice", "choose_classifier",
           "person_splits", "new_people_scores"]

#: FaceNet's verification accuracy on LFW (Schroff et al. 2015, with face alignment), quoted for scale only.
QUOTED_FACENET_LFW = 0.9963
#: The name of a model's own classifier (its posterior over people, or its softmax head).
OWN_RULE = "own rule"


@dataclass
class ValidationCurve:
    """What :func:`validation_curve` returns.

    Attributes
    ----------
    epochs : list of int
        The checkpoints.
    scores : dict of str to list of float
        Validation accuracy per classifier (on the identity code), per checkpoint.
    own : list of float or None
        Validation accuracy of the model's own rule per checkpoint, if it has one.
    model : keras.Model
        The trained model; :meth:`at` sets it to a checkpoint's weights.
    seconds : float
        Training time, checkpoints' evaluation excluded.
    """

    epochs: list
    scores: dict
    own: list | None
    model: object
    seconds: float
    weights: list = field(repr=False, default_factory=list)

    def mean_score(self):
        """Mean validation accuracy over the classifiers, per checkpoint (ndarray)."""
        return np.mean([self.scores[c] for c in self.scores], axis=0)

    def best_epochs(self):
        """The checkpoint with the highest mean score; ties go to the shorter training."""
        return self.epochs[int(np.argmax(self.mean_score()))]

    def at(self, epochs):
        """The model with the weights it had after ``epochs`` epochs (a checkpoint)."""
        if epochs not in self.epochs:
            raise ValueError(f"`epochs` must be one of the checkpoints {self.epochs}; got {epochs!r}.")
        self.model.set_weights(self.weights[self.epochs.index(epochs)])
        return self.model


def validation_curve(make_model, config_, x_train, p_train, x_val, p_val, *, epochs, every, learning_rate=2e-3,
                     people_per_batch=8, seed=0, classifiers=CLASSIFIERS):
    """Train ``make_model(**config_)`` for ``epochs`` epochs; score the validation images every ``every``.

    Seeded by ``keras.utils.set_random_seed(seed)`` before the model is
    built. The model's identity code is ``model.identity_features``; its own
    rule, if any, ``model.predict_people``. Returns a :class:`ValidationCurve`.
    """
    import time

    epochs = _positive_int(epochs, "epochs", "Train for at least one epoch.")
    every = _positive_int(every, "every", "Score every few epochs, e.g. 10.")
    if every > epochs:
        raise ValueError(f"`every` ({every}) must be at most `epochs` ({epochs}).")
    keras.utils.set_random_seed(seed)
    model = make_model(**config_)
    curve = ValidationCurve([], {c: [] for c in classifiers}, [] if hasattr(model, "predict_people") else None,
                            model, 0.0)
    scoring = [0.0]

    class Checkpoint(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if (epoch + 1) % every:
                return
            start = time.perf_counter()
            f_train, f_val = model.identity_features(x_train), model.identity_features(x_val)
            for c in classifiers:
                curve.scores[c].append(identification_accuracy(f_train, p_train, f_val, p_val, c))
            if curve.own is not None:
                curve.own.append(float(np.mean(model.predict_people(x_val) == np.asarray(p_val))))
            curve.epochs.append(epoch + 1)
            curve.weights.append(model.get_weights())
            scoring[0] += time.perf_counter() - start

    start = time.perf_counter()
    train_labelled(model, x_train, p_train, epochs=epochs, learning_rate=learning_rate,
                   people_per_batch=people_per_batch, seed=seed, callbacks=[Checkpoint()])
    curve.seconds = time.perf_counter() - start - scoring[0]
    return curve


@dataclass(frozen=True)
class Choice:
    """A classifier chosen on validation for one model: see :func:`choose_classifier`."""

    classifier: str
    normalise: str | None
    lda: bool
    accuracy: float

    def __str__(self):
        if self.classifier == OWN_RULE:
            return OWN_RULE
        norm = "" if self.normalise in (None, "none") else f", {self.normalise}"
        return ("LDA, then " if self.lda else "") + self.classifier + norm

    def features(self, model, x_gallery, p_gallery):
        """The fitted transformer this choice reads codes with: the identity code, then LDA if chosen."""
        return _features(model, self.lda).fit(x_gallery, p_gallery)

    def accuracy_on(self, model, x_gallery, p_gallery, x_query, p_query):
        """The fraction of queries this choice names correctly, the gallery fitted first."""
        if self.classifier == OWN_RULE:
            return float(np.mean(model.predict_people(x_query) == np.asarray(p_query)))
        f = self.features(model, x_gallery, p_gallery)
        return identification_accuracy(f.transform(x_gallery), p_gallery, f.transform(x_query), p_query,
                                       make_classifier(self.classifier, normalise=self.normalise))


def _features(model, lda):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import Pipeline

    codes = EncoderFeatures(model.identity_features)
    return Pipeline([("code", codes), ("lda", LinearDiscriminantAnalysis())]) if lda else codes


def choose_classifier(model, x_train, p_train, x_val, p_val, *, lda=(False, True), own_rule=True):
    """The classifier for a trained model, chosen on validation.

    Candidates: the model's identity code, or that code followed by LDA
    fitted on the training codes (``lda``), each with every classifier and
    normalisation of :func:`vaeface_utils.protocol.choose_on_validation`;
    and, if ``own_rule`` and the model has ``predict_people``, its own rule.
    Ties go to the own rule (it fits nothing more), then to the code without
    LDA, then to the simpler classifier.

    Returns
    -------
    Choice
    """
    best = None
    for with_lda in lda:
        c = _protocol.choose_on_validation(lambda _, w=with_lda: _features(model, w), x_train, p_train, x_val, p_val)
        if best is None or c.accuracy > best.accuracy:
            best = Choice(c.classifier, c.normalise, with_lda, c.accuracy)
    if own_rule and hasattr(model, "predict_people"):
        own = float(np.mean(model.predict_people(x_val) == np.asarray(p_val)))
        if own >= best.accuracy:
            return Choice(OWN_RULE, None, False, own)
    return best


def person_splits(identity, *, n_known=20, n_splits=3, seed=0):
    """Seeded splits of the people into ``n_known`` known and the rest new.

    Returns
    -------
    list of (known, new) : each a sorted ndarray of person labels
    """
    people = np.unique(np.asarray(identity))
    n_known = _positive_int(n_known, "n_known", "Use e.g. half the people.")
    n_splits = _positive_int(n_splits, "n_splits", "Use e.g. 3.")
    if n_known > len(people) - 2:
        raise ValueError(f"`n_known` must leave at least two new people; got {n_known} of {len(people)} people.")
    out = []
    for s in range(n_splits):
        order = np.random.default_rng([seed, s]).permutation(people)
        out.append((np.sort(order[:n_known]), np.sort(order[n_known:])))
    return out


def new_people_scores(features, identity, *, shots=(1, 5), n_draws=5, seed=0):
    """Verification and k-shot identification among people the features were not fitted on.

    Parameters
    ----------
    features : array_like, shape (n, d)
        Codes of the new people's images.
    identity : array_like, shape (n,)
    shots : sequence of int, default (1, 5)
        Gallery images per person; the others are queries (1-NN, cosine).
    n_draws : int, default 5
        Seeded random galleries per k, averaged.

    Returns
    -------
    dict
        ``auc``, ``eer`` (all pairs, cosine similarity) and ``shot_<k>``
        (mean accuracy over the draws).
    """
    features = np.asarray(features, dtype=np.float64)
    identity = np.asarray(identity)
    roc = verification_roc(features, identity, metric="cosine")
    out = {"auc": float(roc.auc), "eer": float(roc.eer)}
    people = np.unique(identity)
    rows = [np.flatnonzero(identity == p) for p in people]
    for k in shots:
        k = _positive_int(k, "shots", "Use e.g. (1, 5).")
        if k >= min(len(r) for r in rows):
            raise ValueError(f"{k}-shot identification needs more than {k} images of every new person.")
        accuracies = []
        for draw in range(_positive_int(n_draws, "n_draws", "Use e.g. 5.")):
            rng = np.random.default_rng([seed, k, draw])
            gallery = np.zeros(len(identity), bool)
            for r in rows:
                gallery[rng.choice(r, k, replace=False)] = True
            accuracies.append(identification_accuracy(features[gallery], identity[gallery], features[~gallery],
                                                      identity[~gallery], "1nn-cosine"))
        out[f"shot_{k}"] = float(np.mean(accuracies))
    return out
