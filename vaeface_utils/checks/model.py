"""Self-checks for the exercises of notebook 02 (the article's Keras code, fixed).

The expected values are computed here from the exercise's own arguments and
never shown. Exercise 4's check runs the student's layer (with Keras).
"""

from __future__ import annotations

import math

import numpy as np

from ._core import CheckResult, check_close, is_placeholder

__all__ = ["expected_encoder_parameters", "encoder_parameters", "mse_factor", "uniform_decoder_nats", "sampling_layer"]


def expected_encoder_parameters(image_shape=(64, 64, 1), latent_dim=32, filters=(32, 64, 128), kernel_size=3):
    """Trainable parameters of :func:`vaeface_utils.model.build_encoder`, counted by hand.

    Each stride-2 'same' convolution has ``k * k * c_in * c_out`` weights and
    ``c_out`` biases and halves both sides; the two dense heads (``z_mean``
    and ``z_log_var``) each map the flattened features to ``latent_dim``.
    """
    height, width, channels = image_shape
    total = 0
    for f in filters:
        total += kernel_size * kernel_size * channels * f + f
        channels = f
        height, width = -(-height // 2), -(-width // 2)
    flat = height * width * channels
    return total + 2 * (flat * latent_dim + latent_dim)


def encoder_parameters(answer, latent_dim=32, filters=(32, 64, 128), image_shape=(64, 64, 1), kernel_size=3):
    """Exercise 1: the number of trainable parameters of the fixed encoder."""
    name = "Exercise 1 (trainable parameters of the encoder)"
    expected = expected_encoder_parameters(image_shape, latent_dim, filters, kernel_size)
    no_bias = expected - sum(filters) - 2 * latent_dim
    one_head = expected - (expected - expected_encoder_parameters(image_shape, 0, filters, kernel_size)) // 2
    result = check_close(name, answer, expected, rtol=0, atol=0.5,
                         hint="Add up, layer by layer, weights (kernel) and biases; the flattened size after "
                              f"{len(filters)} stride-2 convolutions is (H/{2 ** len(filters)}) x "
                              f"(W/{2 ** len(filters)}) x {filters[-1]}.",
                         mistakes=[
                             (no_bias, "Close: every layer also has one bias per output channel or unit."),
                             (one_head, "Close: the encoder has two dense heads, one for z_mean and one for "
                                        "z_log_var."),
                         ])
    if result.passed or is_placeholder(answer) or np.size(answer) != 1:
        return result
    if float(np.asarray(answer, dtype=np.float64)) < 100:
        return CheckResult(name, "wrong", "That looks like a count of weight tensors (len(trainable_weights)); "
                                          "count the numbers in them (their sizes).")
    return result


def mse_factor(answer, n_pixels=4096, sigma=0.1):
    """Exercise 2: ``a`` in ``-log N(x; x_hat, sigma^2 I) = a * mse + c``, with ``mse`` a mean over pixels."""
    name = "Exercise 2 (from mean squared error to nats)"
    expected = n_pixels / (2.0 * sigma ** 2)
    return check_close(name, answer, expected, rtol=1e-6,
                       hint="Write the Gaussian log-density of one pixel, sum it over all pixels, and express "
                            "the sum of squared errors through the mean.",
                       mistakes=[
                           (n_pixels, "That is the factor from a mean to a sum; the variance scales it too."),
                           (1.0 / (2.0 * sigma ** 2), "That is right for one pixel; the log-likelihood is summed "
                                                      "over all of them, the mean squared error is averaged."),
                           (n_pixels / sigma ** 2, "Close: remember the 1/2 in front of the squared error."),
                       ])


def uniform_decoder_nats(answer, n_pixels=4096):
    """Exercise 3: the Bernoulli loss, in nats per image, of a decoder that outputs logit 0 everywhere.

    The Bernoulli loss is minus ``x log p + (1 - x) log(1 - p)`` summed over the pixels: the binary
    cross-entropy summed, not averaged. On grey values it is not a normalised negative log-likelihood.
    """
    name = "Exercise 3 (the loss of a decoder that knows nothing)"
    expected = n_pixels * math.log(2.0)
    one_pixel = "That is one pixel's share; the loss is summed over every pixel."
    result = check_close(name, answer, expected, rtol=1e-6,
                         hint="With logit 0 every pixel's probability is sigmoid(0); compute x log p + (1 - x) "
                              "log(1 - p) and sum over the pixels.",
                         mistakes=[
                             (n_pixels, "That is in bits (log base 2); nats use the natural logarithm."),
                             (math.log(2.0), one_pixel),
                             (-math.log(2.0), one_pixel),
                         ])
    if result.passed or is_placeholder(answer) or np.size(answer) != 1:
        return result
    if float(np.asarray(answer, dtype=np.float64)) < 0:
        return CheckResult(name, "wrong", "The Bernoulli loss is minus the Bernoulli expression, summed over the "
                                          "pixels: it is positive here.")
    return result


def sampling_layer(answer, seed=0, n=5000, n_samples=4):
    """Exercise 4: a Keras layer that draws ``n_samples`` codes ``z = z_mean + exp(z_log_var / 2) * epsilon`` per face.

    ``answer`` is the layer class, made as ``answer(n_samples=..., seed=...)``.
    It is run here: on ``n`` copies of one posterior its codes must have shape
    ``(n_samples, n, 2)`` and that posterior's mean and standard deviation;
    two layers made with the same seed must draw the same codes, one layer
    must draw new codes on each call, and gradients must reach ``z_mean`` and
    ``z_log_var`` (the reparameterisation trick).
    """
    name = "Exercise 4 (a seeded Sampling layer with several codes per face)"
    if is_placeholder(answer):
        return CheckResult(name, "not done", "Replace the placeholder with your layer class and run the cell again.")
    import keras
    import tensorflow as tf

    if not (isinstance(answer, type) and issubclass(answer, keras.layers.Layer)):
        return CheckResult(name, "wrong", f"Expected a class that subclasses keras.layers.Layer, got {answer!r}.")
    try:
        first, twin = answer(n_samples=n_samples, seed=seed), answer(n_samples=n_samples, seed=seed)
    except TypeError:
        return CheckResult(name, "wrong", "The layer must take `n_samples` and `seed` arguments: `def __init__(self, "
                                          "n_samples=1, seed=None, **kwargs)`, passing **kwargs on to "
                                          "super().__init__.")
    except Exception as error:  # noqa: BLE001 - any error in the student's __init__ is shown as a hint
        return CheckResult(name, "wrong", f"Making the layer raised {type(error).__name__}: "
                                          f"{str(error).splitlines()[0][:200] if str(error) else ''}")
    mean = np.array([1.0, -2.0], dtype="float32")
    std = np.array([2.0, 0.5], dtype="float32")
    z_mean = tf.Variable(np.tile(mean, (n, 1)))
    z_log_var = tf.Variable(np.tile(2.0 * np.log(std), (n, 1)).astype("float32"))
    try:
        with tf.GradientTape() as tape:
            z = first([z_mean, z_log_var])
            total = tf.reduce_sum(tf.square(z))
        gradients = tape.gradient(total, [z_mean, z_log_var])
        again = first([z_mean, z_log_var])
        twin_z = twin([z_mean, z_log_var])
    except Exception as error:  # noqa: BLE001 - any error in the student's code is shown as a hint
        return CheckResult(name, "wrong", f"Calling the layer on [z_mean, z_log_var] raised "
                                          f"{type(error).__name__}: {str(error).splitlines()[0][:200]}")
    z = np.asarray(z)
    if z.shape != (n_samples, n, 2):
        return CheckResult(name, "wrong", f"From z_mean and z_log_var of shape {(n, 2)} and n_samples={n_samples} the "
                                          f"layer returned shape {z.shape}; put the samples first: (n_samples, "
                                          "batch, latent_dim).")
    if np.allclose(z, z[:1]):
        return CheckResult(name, "wrong", "All the codes of a face are the same: each sample needs noise of its own.")
    flat = z.reshape(-1, 2)
    got_mean, got_std = flat.mean(axis=0), flat.std(axis=0)
    if not np.allclose(got_mean, mean, atol=0.06):
        return CheckResult(name, "wrong", "The codes are not centred on z_mean: z = z_mean + (scale) * epsilon.")
    if np.allclose(got_std, std ** 2, rtol=0.05):
        return CheckResult(name, "wrong", "The spread is exp(z_log_var), the variance; scale epsilon by the "
                                          "standard deviation.")
    if np.allclose(got_std, np.sqrt(std), rtol=0.05) or np.allclose(got_std, 1.0, rtol=0.05):
        return CheckResult(name, "wrong", "The spread is wrong: the standard deviation is the square root of "
                                          "exp(z_log_var).")
    if not np.allclose(got_std, std, rtol=0.05):
        return CheckResult(name, "wrong", "The codes do not have the posterior's standard deviation.")
    if any(g is None or not np.any(np.asarray(g)) for g in gradients):
        return CheckResult(name, "wrong", "No gradient reaches z_mean or z_log_var: compute z from them with "
                                          "keras.ops, and draw only epsilon at random.")
    if not np.array_equal(np.asarray(twin_z), z):
        return CheckResult(name, "wrong", "Two layers made with the same seed drew different codes: their noise "
                                          "must come from the seed they were given.")
    if np.array_equal(np.asarray(again), z):
        return CheckResult(name, "wrong", "The layer drew the same codes on two calls: its generator must keep "
                                          "its state from one call to the next.")
    return CheckResult(name, "correct")
