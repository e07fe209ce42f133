"""Would training the per-split VAEs together, in one graph, be faster on a CPU?

Notebook 04 trains about thirty small VAEs (one per split, per k, per latent
size) and notebook 06 about seventy small networks, one after another. A
GPU trains many small models faster together than one by one, because one
small model leaves most of it idle. This benchmark measures whether a CPU
does the same, on notebook 04's per-split VAE (the course's Gaussian
decoder, encoder filters 16, 32, 64, latent size 64, batches of 16 faces of
64 x 64, from ``TrainingSettings``):

1. **one graph**: K VAEs, each taking its own training step on its own
   batch, in one compiled function (``tf.function`` over the K models'
   ``train_step``): the same maths as K separate trainings, with one call
   into TensorFlow per step instead of K, and independent operations that
   TensorFlow may run side by side. K = 1 is one model at a time, timed the
   same way (a bare compiled ``train_step``, without ``fit``'s per-epoch
   work, which is the same either way);
2. **one model, a K times larger batch**, for comparison: a rough ceiling
   for grouping, since the K models' work then comes in operations K times
   larger (it is not the same training).

Run from the repository root::

    .venv/bin/python benchmarks/grouped_training.py            # about 2 minutes on 2 cores
    .venv/bin/python benchmarks/grouped_training.py --quick    # about 40 s

The faces come from ``VAEFACE_DATA`` when it finds them, else uniform noise
of the same shape (the speed does not depend on the pixel values). Each
variant is timed in several rounds and its best round is reported, with the
median beside it: on a shared machine noise only ever slows a round down.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_throughput import IMAGE_SHAPE, load_data  # noqa: E402  (the same faces, or the same noise)
from vaeface_utils import config  # noqa: E402

#: Notebook 04's per-split VAE.
SETTINGS = dict(filters=(16, 32, 64), latent_dim=64, batch_size=16, learning_rate=2e-3)
BATCH = SETTINGS["batch_size"]


def faces(n=160):
    """``n`` training images: the faces when ``VAEFACE_DATA`` finds them, else noise of the same shape."""
    return load_data(n)[0]


def build_vaes(k, seed=0):
    """K compiled course VAEs (notebook 04's size), each with its own Adam and its own noise."""
    keras = config.import_keras()
    from vaeface_utils.model import VAE
    from vaeface_utils.training_settings import TrainingSettings

    vaes = []
    for i in range(k):
        settings = TrainingSettings(seed=seed + i, **SETTINGS)
        keras.utils.set_random_seed(settings.seed)
        vae = VAE(image_shape=IMAGE_SHAPE, **settings.vae_kwargs())
        vae.compile(optimizer=keras.optimizers.Adam(settings.learning_rate))
        vaes.append(vae)
    return vaes


def grouped_step(vaes):
    """One compiled function: every VAE takes one training step on its own batch (``batches[i]``)."""
    import tensorflow as tf

    @tf.function
    def step(batches):
        return [vae.train_step(batches[i])["loss"] for i, vae in enumerate(vaes)]

    return step


def images_per_second(step, batches, rounds, steps=10):
    """Best and median training images/s of ``step(batches)`` over ``rounds`` rounds of ``steps`` calls."""
    n_images = int(np.prod(batches.shape[:2]))
    step(batches)  # trace and build
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            step(batches)
        rates.append(steps * n_images / (time.perf_counter() - start))
    return max(rates), statistics.median(rates)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and group sizes")
    args = parser.parse_args(argv)
    config.import_keras()
    import tensorflow as tf

    rounds = 3 if args.quick else 7
    sizes = (1, 4) if args.quick else (1, 4, 10)
    x = faces()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"notebook 04's per-split VAE, batches of {BATCH}, {cpus} CPU(s), best (median) of {rounds} rounds")
    print(f"{'K':>3}  {'K VAEs in one graph':>24}  {'one VAE, batch ' + 'K x 16':>24}")
    rows = []
    for k in sizes:
        batches = tf.constant(np.stack([x[(i * BATCH) % len(x):][:BATCH] for i in range(k)]))
        grouped = images_per_second(grouped_step(build_vaes(k)), batches, rounds)
        (single,) = build_vaes(1)
        big = tf.reshape(batches, (1, k * BATCH) + IMAGE_SHAPE)
        larger = images_per_second(grouped_step([single]), big, rounds)
        rows.append((k, grouped, larger))
        print(f"{k:>3}  {grouped[0]:>12.0f} ({grouped[1]:>5.0f}) img/s  {larger[0]:>12.0f} ({larger[1]:>5.0f}) img/s",
              flush=True)
    one = rows[0][1][0]
    k, grouped, larger = rows[-1]
    print(f"\nK = {k} VAEs in one graph train {grouped[0] / one:.2f}x as fast as one at a time; "
          f"one VAE on batches {k} times larger, {larger[0] / one:.2f}x.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
