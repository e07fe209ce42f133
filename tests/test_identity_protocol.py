"""Notebook 06's protocols (person splits, new-people scores, classifier choice) and its exercise self-checks."""

import numpy as np
import pytest

from vaeface_utils.checks import identity as check


def test_person_splits_are_seeded_disjoint_and_cover_everyone():
    from vaeface_utils import identity_protocol as idp

    identity = np.repeat(np.arange(10, 50), 10)
    splits = idp.person_splits(identity, n_known=20, n_splits=3, seed=0)
    assert len(splits) == 3
    for known, new in splits:
        assert len(known) == len(new) == 20 and not set(known) & set(new)
        assert sorted(np.concatenate([known, new])) == list(range(10, 50))
    assert not np.array_equal(splits[0][0], splits[1][0])
    again = idp.person_splits(identity, n_known=20, n_splits=3, seed=0)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(splits, again))
    with pytest.raises(ValueError, match="at least two new people"):
        idp.person_splits(identity, n_known=39)


def test_new_people_scores_of_a_perfect_and_a_useless_code():
    from vaeface_utils import identity_protocol as idp

    identity = np.repeat(np.arange(4), 6)
    perfect = np.eye(4)[identity] + 0.01 * np.random.default_rng(0).normal(size=(24, 4))
    scores = idp.new_people_scores(perfect, identity, shots=(1, 5))
    assert scores == {"auc": 1.0, "eer": 0.0, "shot_1": 1.0, "shot_5": 1.0}
    constant_direction = np.ones((24, 3)) + 1e-9 * np.random.default_rng(1).normal(size=(24, 3))
    useless = idp.new_people_scores(constant_direction, identity, shots=(1,))
    assert 0.3 < useless["auc"] < 0.7
    with pytest.raises(ValueError, match="more than 6 images"):
        idp.new_people_scores(perfect, identity, shots=(6,))


def test_choose_classifier_prefers_the_own_rule_on_ties():
    from vaeface_utils import identity_protocol as idp

    rng = np.random.default_rng(0)
    people = np.repeat(np.arange(3), 4)
    codes = np.eye(3)[people] + 0.01 * rng.normal(size=(12, 3))

    class Model:
        identity_features = staticmethod(lambda x: codes[x])

        def predict_people(self, x):
            return people[x]

    index = np.arange(12)
    chosen = idp.choose_classifier(Model(), index, people, index, people)
    assert (chosen.classifier, chosen.normalise, chosen.lda, chosen.accuracy) == (idp.OWN_RULE, None, False, 1.0)
    assert str(chosen) == idp.OWN_RULE
    assert chosen.accuracy_on(Model(), index, people, index, people) == 1.0

    class Wrong(Model):
        def predict_people(self, x):
            return (people[x] + 1) % 3

    chosen = idp.choose_classifier(Wrong(), index, people, index, people)
    assert (chosen.classifier, chosen.lda, str(chosen)) == ("1nn-euclidean", False, "1nn-euclidean")
    assert chosen.accuracy_on(Wrong(), index, people, index, people) == 1.0
    with_lda = idp.choose_classifier(Wrong(), index, people, index, people, lda=(True,))
    assert with_lda.lda and str(with_lda).startswith("LDA, then ")
    assert with_lda.features(Wrong(), index, people).transform(index).shape == (12, 2)  # LDA: classes - 1


# --------------------------------------------------------------------------- self-checks

MEANS = np.array([[0.5, -1.0], [0.1, 0.3], [-0.4, 0.8]])
LOG_VARS = np.array([[-0.5, 0.2], [0.0, -1.0], [0.3, 0.1]])


def test_pooled_identity_check():
    precision = 1 / np.exp(LOG_VARS)
    right = ((precision * MEANS).sum(0) / precision.sum(0), np.log(1 / precision.sum(0)))
    assert check.pooled_identity(right, MEANS, LOG_VARS).passed
    assert check.pooled_identity(None, MEANS, LOG_VARS).status == "not done"
    added = check.pooled_identity((right[0], np.log(np.exp(LOG_VARS).sum(0))), MEANS, LOG_VARS)
    assert not added.passed and "added the variances" in repr(added)
    average = check.pooled_identity((MEANS.mean(0), right[1]), MEANS, LOG_VARS)
    assert not average.passed and "plain average" in repr(average)
    assert "pair" in repr(check.pooled_identity(3.0, MEANS, LOG_VARS))


def test_person_posterior_check():
    kl = np.array([[1000.0, 1002.0, 1010.5], [800.0, 0.5, 900.0]])
    right = -kl - np.log(np.exp(-kl + kl.min(1, keepdims=True)).sum(1, keepdims=True)) + kl.min(1, keepdims=True)
    assert check.person_posterior(right, kl).passed
    with np.errstate(divide="ignore"):
        assert not np.all(np.isfinite(-kl - np.log(np.exp(-kl).sum(1, keepdims=True))))  # the naive formula fails
    flipped = check.person_posterior(kl - np.log(np.exp(kl - kl.max(1, keepdims=True)).sum(1, keepdims=True))
                                     - kl.max(1, keepdims=True), kl)
    assert not flipped.passed and "sign" in repr(flipped)
    assert check.person_posterior(None, kl).status == "not done"


def test_multiple_choice_check():
    assert check.what_the_identity_part_holds("c").passed and check.what_the_identity_part_holds(" C").passed
    assert check.what_the_identity_part_holds(None).status == "not done"
    for wrong in "abd":
        result = check.what_the_identity_part_holds(wrong)
        assert not result.passed and "'c'" not in repr(result)
    assert "one letter" in repr(check.what_the_identity_part_holds("e"))
