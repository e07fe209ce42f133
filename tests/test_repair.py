"""Repairing covered faces: the masks, the three repairs, and the score inside the hole."""

import numpy as np
import pytest

from vaeface_utils import ppca
from vaeface_utils.perturbations import occlude
from vaeface_utils.repair import hidden_squares, hole_rmse, repair_with_mean_face, repair_with_ppca, repair_with_vae


def _faces(n=30, side=8, seed=0):
    return np.random.default_rng(seed).uniform(0.2, 0.8, size=(n, side, side, 1))


def test_hidden_squares_are_where_occlude_covers():
    x = _faces()
    hidden = hidden_squares(x, 3, seed=4)
    assert hidden.dtype == bool and hidden.shape == x.shape and np.all(hidden.sum(axis=(1, 2, 3)) == 9)
    assert np.array_equal(occlude(x, 3, seed=4) == 0.0, hidden)
    with pytest.raises(ValueError, match="`size` must be an int from 1 to 8"):
        hidden_squares(x, 9)


def test_mean_face_fills_the_hole_and_keeps_the_rest():
    x = _faces()
    hidden = hidden_squares(x, 3)
    mean_face = x.mean(axis=0)
    repaired = repair_with_mean_face(x, hidden, mean_face)
    assert np.array_equal(repaired[~hidden], x[~hidden])
    assert np.allclose(repaired[hidden], np.broadcast_to(mean_face, x.shape)[hidden])


def test_ppca_recovers_a_face_that_lies_in_its_subspace():
    rng = np.random.default_rng(1)
    train = _faces(60)
    params = ppca.ppca_fit(train.reshape(60, -1), 5)
    codes = rng.normal(size=(4, 5))
    x = (params.mean + codes @ params.W.T).reshape(4, 8, 8, 1)
    hidden = hidden_squares(x, 3, seed=2)
    repaired = repair_with_ppca(x, hidden, params._replace(sigma2=1e-10))
    assert np.allclose(repaired, x, atol=1e-6)  # without noise the visible pixels pin the code down
    assert np.array_equal(repair_with_ppca(x, hidden, params)[~hidden], x[~hidden])


def test_hole_rmse_scores_only_the_hole():
    x = _faces()
    hidden = hidden_squares(x, 2)
    wrong = np.where(hidden, x + 0.1, x)  # off by 0.1 inside the hole only
    assert np.allclose(hole_rmse(wrong, x, hidden), 0.1)
    with pytest.raises(ValueError, match="boolean array"):
        hole_rmse(x, x, hidden.astype(int))


def test_vae_repair_finds_the_code_of_a_face_the_decoder_made():
    from vaeface_utils.model import VAE

    vae = VAE(image_shape=(8, 8, 1), latent_dim=2, likelihood="gaussian", gaussian_log_var=np.log(1e-3),
              filters=(4,), seed=0)
    z_true = np.random.default_rng(0).normal(size=(6, 2)).astype("float32")
    x = vae.decode(z_true).astype(np.float64)  # faces the model can make exactly
    hidden = hidden_squares(x, 3)
    encoder_only = repair_with_vae(vae, x, hidden, steps=0)
    fitted = repair_with_vae(vae, x, hidden, steps=300)
    assert np.array_equal(fitted[~hidden], x[~hidden])
    assert hole_rmse(fitted, x, hidden).mean() < 0.5 * hole_rmse(encoder_only, x, hidden).mean()
    with pytest.raises(ValueError, match="likelihood='gaussian'"):
        repair_with_vae(VAE(image_shape=(8, 8, 1), latent_dim=3, filters=(4,)), x, hidden)
    with pytest.raises(ValueError, match="`steps` must be an int"):
        repair_with_vae(vae, x, hidden, steps=-1)
    with pytest.raises(ValueError, match="`mean_face` must have the shape"):
        repair_with_mean_face(x, hidden, x.mean(axis=0)[..., 0])


def test_repairing_again_and_again_leaves_no_traced_step_behind(live_objects):
    """Each call compiles its own step; its optimiser is built eagerly and skips the one-replica all-reduce,
    so nothing of the step outlives the call."""
    from vaeface_utils.model import VAE

    vae = VAE(image_shape=(8, 8, 1), latent_dim=2, likelihood="gaussian", filters=(4,), seed=0)
    x = vae.decode(np.zeros((3, 2), dtype="float32")).astype(np.float64)
    hidden = hidden_squares(x, 3)

    counts = []
    for _ in range(4):
        repair_with_vae(vae, x, hidden, steps=2)
        counts.append(live_objects("FuncGraph"))
    assert counts[3] <= counts[1], f"traced graphs alive after each call: {counts}"
