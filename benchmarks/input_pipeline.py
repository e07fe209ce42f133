"""How fast the course VAE trains from in-memory arrays and from a tf.data pipeline.

Run from the repository root with the faces available (see data/README.md):

    .venv/bin/python benchmarks/input_pipeline.py [--epochs 10] [--batch-size 32]

Trains the course VAE (vaeface_utils.training_settings.course_settings(fast=False):
Gaussian decoder, latent_dim 32) on the 160 training faces of the course
split, validating on the 40 validation faces, once per way of feeding it:

- "arrays": NumPy arrays passed to fit (Keras slices and shuffles them);
- "tf.data": vaeface_utils.training.make_dataset, i.e. from_tensor_slices,
  cache, shuffle, batch, prefetch(AUTOTUNE).

The first epoch traces and compiles the graph and is reported apart; the
median of the others is the steady epoch time. Images/s counts training
images only (the validation pass is part of the epoch time).
"""

import argparse
import statistics
import time

import numpy as np

from vaeface_utils import config

keras = config.import_keras()

from vaeface_utils.data import load_faces, split_per_identity  # noqa: E402
from vaeface_utils.model import VAE  # noqa: E402
from vaeface_utils.training import make_dataset  # noqa: E402
from vaeface_utils.training_settings import course_settings  # noqa: E402


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def run(pipeline, x_train, x_val, settings, epochs):
    keras.utils.set_random_seed(settings.seed)
    vae = VAE(image_shape=x_train.shape[1:], **settings.vae_kwargs())
    vae.compile(optimizer=keras.optimizers.Adam(settings.learning_rate))
    timer = EpochTimer()
    start = time.perf_counter()
    if pipeline == "arrays":
        vae.fit(x_train, validation_data=x_val, epochs=epochs, batch_size=settings.batch_size,
                callbacks=[timer], verbose=0)
    else:
        train = make_dataset(x_train, settings.batch_size, seed=settings.seed)
        val = make_dataset(x_val, len(x_val), shuffle=False)
        vae.fit(train, validation_data=val, epochs=epochs, callbacks=[timer], verbose=0, shuffle=False)
    total = time.perf_counter() - start
    return timer.seconds, total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2, help="runs of each pipeline, interleaved")
    args = parser.parse_args()

    faces = load_faces()
    split = split_per_identity(faces.identity, n_train=5, n_val=1, seed=0)
    x_train, x_val = faces.images[split.train], faces.images[split.val]
    settings = course_settings(fast=False).replace(batch_size=args.batch_size)
    print(f"data: {len(x_train)} training and {len(x_val)} validation faces, {x_train.shape[1:]}")
    print(f"model: latent_dim {settings.latent_dim}, filters {settings.filters}, {settings.likelihood} decoder, "
          f"batch size {settings.batch_size}, {args.epochs} epochs per run, {args.repeats} runs each")
    results = {"arrays": [], "tf.data": []}
    first = {"arrays": [], "tf.data": []}
    for _ in range(args.repeats):
        for pipeline in results:
            seconds, _ = run(pipeline, x_train, x_val, settings, args.epochs)
            first[pipeline].append(seconds[0])
            results[pipeline].extend(seconds[1:])
    for pipeline, seconds in results.items():
        median = statistics.median(seconds)
        print(f"{pipeline:>8}: first epoch (tracing) {statistics.median(first[pipeline]):5.2f} s; "
              f"then median {median:5.3f} s/epoch (min {min(seconds):5.3f}, max {max(seconds):5.3f}), "
              f"{len(x_train) / median:6.0f} training images/s")
    ratio = statistics.median(results["arrays"]) / statistics.median(results["tf.data"])
    print(f"tf.data with prefetch is {ratio:.2f}x the speed of in-memory arrays (median epoch times)")
    print(f"machine: {config.environment()['cpus']} logical CPUs, numpy {np.__version__}")


if __name__ == "__main__":
    main()
