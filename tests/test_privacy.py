"""vaeface_utils.privacy: membership inference against the Mann-Whitney statistic and on real faces."""

import numpy as np
import pytest
from scipy import stats

from vaeface_utils import privacy


# --------------------------------------------------------------------------
# membership_roc


def test_membership_auc_is_the_mann_whitney_statistic():
    rng = np.random.default_rng(6)
    members = np.round(rng.normal(1.0, 1.0, 60), 1)        # rounded: ties happen and count half
    nonmembers = np.round(rng.normal(0.0, 1.0, 80), 1)
    fpr, tpr, auc = privacy.membership_roc(members, nonmembers)
    u = stats.mannwhitneyu(members, nonmembers).statistic
    assert np.isclose(auc, u / (len(members) * len(nonmembers)))
    pairs = np.mean((members[:, None] > nonmembers[None, :]) + 0.5 * (members[:, None] == nonmembers[None, :]))
    assert np.isclose(auc, pairs)
    assert fpr[0] == 0 and tpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1 and np.all(np.diff(fpr) >= 0)


def test_membership_extremes():
    assert privacy.membership_roc([2.0, 3.0], [0.0, 1.0])[2] == 1.0
    assert privacy.membership_roc([0.0, 1.0], [2.0, 3.0])[2] == 0.0
    assert privacy.membership_roc([1.0, 1.0], [1.0, 1.0])[2] == 0.5


@pytest.mark.parametrize("members, nonmembers, error, match", [
    ([], [1.0], ValueError, "`scores_members` must be a non-empty 1-D"),
    ([1.0], [[1.0]], ValueError, "`scores_nonmembers` must be a non-empty 1-D"),
    ([np.nan], [1.0], ValueError, "NaN"),
    (["a"], [1.0], TypeError, "`scores_members` must be an array of numbers"),
])
def test_membership_bad_input(members, nonmembers, error, match):
    with pytest.raises(error, match=match):
        privacy.membership_roc(members, nonmembers)


@pytest.mark.claims
def test_an_overtrained_vae_leaks_membership_of_real_faces(orl_path):
    """Notebook 05's privacy claim at a small scale that CI can afford (about 15 s).

    The notebook's fast mode trains too briefly to memorise anything, so its
    membership assertion runs only in the full mode. Here a small VAE is
    trained for 200 epochs on 80 faces (32 x 32, two per person): its ELBO
    then tells those faces from 80 other faces of the same people, while
    two sets of unseen faces stay indistinguishable.
    """
    from vaeface_utils import config
    from vaeface_utils.data import load_faces, split_per_identity
    from vaeface_utils.model import VAE

    keras = config.import_keras()
    faces = load_faces(orl_path, size=(32, 32))
    split = split_per_identity(faces.identity, n_train=4, n_val=2, seed=0)
    members, nonmembers, unseen = faces.images[split.train], faces.images[split.val], faces.images[split.test]
    keras.utils.set_random_seed(0)
    vae = VAE((32, 32, 1), 16, likelihood="gaussian", filters=(16, 32), seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    vae.fit(members, epochs=200, batch_size=16, verbose=0)
    elbo_of = {name: vae.elbo_terms(images, seed=0)["elbo"]
               for name, images in [("members", members), ("nonmembers", nonmembers), ("unseen", unseen[:80])]}
    assert privacy.membership_roc(elbo_of["members"], elbo_of["nonmembers"])[2] > 0.9
    assert abs(privacy.membership_roc(elbo_of["nonmembers"], elbo_of["unseen"])[2] - 0.5) < 0.1
    assert elbo_of["members"].mean() > elbo_of["nonmembers"].mean() + 100  # the generalisation gap, in nats
