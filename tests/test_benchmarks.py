"""Tests of what benchmarks/train_throughput.py compares: its FLOP count and its reference model.

The benchmark's numbers are only meaningful if the FLOPs it divides by are the
model's and if its keras-io style reference is the same network with the same
loss. Both are checked here against the real Keras models; the timings
themselves are not tests.
"""

import importlib.util

import keras
import numpy as np
import pytest

from vaeface_utils import config
from vaeface_utils.model import VAE


def load_benchmark(name):
    """The script ``benchmarks/<name>.py`` as a module (its main() is not run)."""
    path = config.repo_root() / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("train_throughput")


def multiply_adds(model):
    """Multiply-adds of one image's forward pass, read off the built Keras layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2DTranspose):  # every input pixel meets the whole kernel
            h, w = layer.input.shape[1:3]
            total += h * w * int(np.prod(layer.kernel.shape))
        elif isinstance(layer, keras.layers.Conv2D):  # every output pixel does
            h, w = layer.output.shape[1:3]
            total += h * w * int(np.prod(layer.kernel.shape))
        elif isinstance(layer, keras.layers.Dense):
            total += int(np.prod(layer.kernel.shape))
    return total


def test_flop_count_is_the_models(bench):
    vae = VAE(bench.IMAGE_SHAPE, bench.LATENT_DIM, filters=bench.FILTERS, kernel_size=bench.KERNEL)
    counted = sum(flops for _, flops in bench.forward_flops())
    assert counted == 2 * (multiply_adds(vae.encoder) + multiply_adds(vae.decoder))
    assert counted == pytest.approx(40.5e6, rel=1e-3)


def test_reference_is_the_same_network_with_the_same_loss(bench):
    reference = bench.build_reference(seed=0)
    vaeface = bench.build_vaeface(seed=0)
    assert reference.encoder.count_params() + reference.decoder.count_params() == vaeface.count_params()
    for part in ("encoder", "decoder"):
        for layer in getattr(vaeface, part).layers:
            if layer.weights:
                getattr(reference, part).get_layer(layer.name).set_weights(layer.get_weights())
    x = np.random.default_rng(0).random((8,) + bench.IMAGE_SHAPE, dtype=np.float32)
    # The same seed gives both sampling layers the same first noise draw.
    a = reference.train_step(x)["loss"].numpy()
    b = vaeface.train_step(x)["loss"].numpy()
    assert np.isfinite(a) and a == pytest.approx(b, rel=1e-4)


def test_bfloat16_detection_reads_the_cpu_flags(bench, monkeypatch):
    import subprocess

    # This machine, read independently: the kernel's flag list for the first processor (lscpu's source).
    try:
        flags = subprocess.run(["grep", "-m1", "^flags", "/proc/cpuinfo"], capture_output=True, text=True).stdout.split()
    except OSError:
        flags = None
    if flags:
        assert bench.cpu_has_bfloat16() is ("avx512_bf16" in flags or "amx_bf16" in flags)
    monkeypatch.setattr(bench.Path, "read_text", lambda self: (_ for _ in ()).throw(OSError("no /proc")))
    assert bench.cpu_has_bfloat16() is None
    monkeypatch.setattr(bench.Path, "read_text", lambda self: "flags : fpu avx512f avx512_bf16")
    assert bench.cpu_has_bfloat16() is True
    monkeypatch.setattr(bench.Path, "read_text", lambda self: "flags : fpu avx2")
    assert bench.cpu_has_bfloat16() is False


@pytest.fixture(scope="module")
def grouped():
    return load_benchmark("grouped_training")


def test_grouped_step_trains_each_vae_as_its_own_step_would(grouped):
    """The benchmark's "K VAEs in one graph" is K ordinary trainings, not some other computation."""
    import tensorflow as tf

    batches = tf.constant(np.stack([grouped.faces(32)[:16], grouped.faces(32)[16:]]))
    together, apart = grouped.build_vaes(2), grouped.build_vaes(2)
    assert together[0].likelihood == "gaussian"  # notebook 04's decoder
    step = grouped.grouped_step(together)
    steps_apart = [tf.function(vae.train_step) for vae in apart]
    for _ in range(3):  # Adam's first step hardly depends on the gradient's scale; later ones do
        losses_together = [float(loss) for loss in step(batches)]
        losses_apart = [float(one(batch)["loss"]) for one, batch in zip(steps_apart, batches)]
        assert np.allclose(losses_together, losses_apart, rtol=1e-5)
    for a, b in zip(together, apart):
        assert all(np.allclose(u, v, rtol=1e-5, atol=1e-6) for u, v in zip(a.get_weights(), b.get_weights()))
    assert not all(np.allclose(u, v) for u, v in zip(together[0].get_weights(), together[1].get_weights()))  # two models
