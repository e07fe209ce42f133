"""Training throughput of vaeface's VAE against the keras-io example's style, on a CPU.

Run from the repository root::

    .venv/bin/python benchmarks/train_throughput.py            # about 4 minutes on 2 cores
    .venv/bin/python benchmarks/train_throughput.py --quick    # about 1.5 minutes, noisier

What it measures, in one run, on the same 64 x 64 x 1 data (the 400 faces,
repeated to 640 images per epoch, when ``VAEFACE_DATA`` finds them, else
uniform noise of the same shape) and the same architecture
(``vaeface_utils.model.build_encoder``/``build_decoder``: three 3x3 stride-2
convolutions of 32, 64, 128 filters, dense heads, latent size 32, and the
mirror-image decoder):

1. images per second of ``fit`` in graph mode, batch 32 and 64, for
   - **reference**: the keras-io generative VAE example's way
     (``examples/generative/vae.py``): a ``keras.Model`` subclass holding an
     encoder model (with the sampling layer inside it) and a decoder model
     ending in a sigmoid, a ``GradientTape`` ``train_step`` with
     ``reduce_mean(reduce_sum(binary_crossentropy(data, reconstruction)))``,
     compiled as the example compiles it (``compile(optimizer=Adam())``:
     ``jit_compile="auto"``, which Keras resolves to no XLA on a CPU-only
     machine, and one step per execution), in float32;
   - **vaeface**: ``vaeface_utils.model.VAE`` compiled with its defaults
     (float32, ``jit_compile="auto"``, ``steps_per_execution=8``, loss from
     logits);
   - ablations, to show where differences come from: vaeface with one step
     per execution, vaeface with XLA forced on, and the reference with 8
     steps per execution;
2. the time of one ``train_step`` on one batch in a ``tf.function``, outside
   ``fit``: the compute alone, with no per-step or per-epoch overhead, and
   from it the most that any float32 train step with these kernels could
   gain over the reference;
3. the model's floating-point operations per training image, counted
   analytically (a multiply-add is 2 FLOPs; a training step is counted as 3x
   the forward pass: forward, gradient with respect to activations, gradient
   with respect to weights; elementwise work is left out);
4. the machine's measured matmul rate (the best of 8 2048^3 matmuls in the
   same process and threads, once per round), in float32, and the fraction
   of it that training reaches. (The course's VAE computes in float32 only:
   the same numbers on every machine.)

The CPU may be shared with other processes or virtual machines. On a
2-core virtual machine a timing sometimes runs at half speed: its wall time
doubles while the process's CPU time stays the same, because one of the two
cores was taken away. That noise only ever slows a timing down, so every
variant is timed once per round, in a new random order each round, and its
best round is reported (the rate the code reaches when it has the cores),
with the median beside it; the number of timings that had less than three
quarters of the cores is printed. Speed-ups are best against best, with the
median of the ratios within a round beside them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from vaeface_utils.model import VAE, Sampling, build_decoder, build_encoder  # noqa: E402  (imports TF quietly)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers, ops  # noqa: E402

IMAGE_SHAPE = (64, 64, 1)
LATENT_DIM = 32
FILTERS = (32, 64, 128)
KERNEL = 3


# --------------------------------------------------------------------------
# The keras-io example's style, same architecture


class KerasIOStyleVAE(keras.Model):
    """The train_step of keras-io's examples/generative/vae.py (Keras 3 version), verbatim in spirit."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(
                ops.sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2))
            )
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {
            "loss": self.total_loss_tracker.result(),
            "reconstruction_loss": self.reconstruction_loss_tracker.result(),
            "kl_loss": self.kl_loss_tracker.result(),
        }


def build_reference(seed=0, **compile_kwargs):
    """Same layers as vaeface's model; the encoder outputs (z_mean, z_log_var, z), the decoder a sigmoid."""
    keras.utils.set_random_seed(seed)
    base_encoder = build_encoder(IMAGE_SHAPE, LATENT_DIM, FILTERS, KERNEL)
    z_mean, z_log_var = base_encoder.outputs
    z = Sampling(seed=seed)([z_mean, z_log_var])
    encoder = keras.Model(base_encoder.inputs[0], [z_mean, z_log_var, z], name="encoder")
    base_decoder = build_decoder(IMAGE_SHAPE, LATENT_DIM, FILTERS, KERNEL)
    decoder = keras.Model(base_decoder.inputs[0], layers.Activation("sigmoid")(base_decoder.outputs[0]),
                          name="decoder")
    model = KerasIOStyleVAE(encoder, decoder)
    model.compile(optimizer=keras.optimizers.Adam(), **compile_kwargs)
    return model


def build_vaeface(seed=0, **compile_kwargs):
    keras.utils.set_random_seed(seed)
    model = VAE(IMAGE_SHAPE, LATENT_DIM, filters=FILTERS, kernel_size=KERNEL, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(), **compile_kwargs)
    return model


# --------------------------------------------------------------------------
# FLOPs, peak, timing


def forward_flops(image_shape=IMAGE_SHAPE, latent_dim=LATENT_DIM, filters=FILTERS, k=KERNEL):
    """Multiply-add FLOPs (x2) of one image's forward pass through encoder and decoder, by layer."""
    h, w, c = image_shape
    rows = []
    for i, f in enumerate(filters):  # conv, stride 2, 'same': output (h/2, w/2, f)
        h, w = h // 2, w // 2
        rows.append((f"encoder conv{i + 1}", 2 * h * w * k * k * c * f))
        c = f
    flat = h * w * c
    rows.append(("encoder z_mean + z_log_var", 2 * 2 * flat * latent_dim))
    rows.append(("decoder dense", 2 * latent_dim * flat))
    for i, f in enumerate(list(reversed(filters[:-1])) + [1]):  # transposed conv: k*k*c_in*c_out per input pixel
        rows.append((f"decoder deconv{i + 1}", 2 * h * w * k * k * c * f))
        h, w, c = 2 * h, 2 * w, f
    return rows


def matmul_peak(dtype="float32", n=2048, repeats=8):
    """Best matmul rate in FLOP/s for ``dtype``, with TensorFlow's threads, in this process."""
    a = tf.cast(tf.random.uniform((n, n)), dtype)
    b = tf.cast(tf.random.uniform((n, n)), dtype)
    matmul = tf.function(lambda a, b: tf.reduce_sum(tf.cast(tf.linalg.matmul(a, b), "float32")))
    matmul(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best


def timed_fit(model, x, batch_size, epochs):
    """Training images/s of one ``fit`` call, and the CPU cores the process used meanwhile."""
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(x, batch_size=batch_size, epochs=epochs, verbose=0)
    wall = time.perf_counter() - start
    return epochs * len(x) / wall, (time.process_time() - cpu) / wall


def step_function(model, x):
    """One ``train_step`` on the batch ``x`` in a ``tf.function``: no ``fit``, no input pipeline; traced."""
    step = tf.function(model.train_step)
    x = tf.constant(x)
    tf.nest.map_structure(lambda t: t.numpy(), step(x))
    return lambda: tf.nest.map_structure(lambda t: t.numpy(), step(x))


def seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cpu_has_bfloat16():
    """True/False from /proc/cpuinfo (AVX512_BF16 or AMX-BF16), None where it cannot tell."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    return "avx512_bf16" in flags or "amx_bf16" in flags


def load_data(n):
    try:
        from vaeface_utils.data import load_faces

        images = load_faces(download_if_missing=False).images
        source = "the 400 ORL faces"
    except Exception:  # noqa: BLE001 - any failure: fall back to noise of the same shape
        images = np.random.default_rng(0).random((400,) + IMAGE_SHAPE, dtype=np.float32)
        source = "uniform noise (faces not found)"
    reps = -(-n // len(images))
    return np.concatenate([images] * reps)[:n], source


REFERENCE = "reference (keras-io style)"
VAEFACE = "vaeface VAE (defaults)"
VARIANTS = [
    (REFERENCE, build_reference),
    (VAEFACE, build_vaeface),
    ("vaeface, steps_per_execution=1", lambda: build_vaeface(steps_per_execution=1)),
    ("vaeface, jit_compile=True (XLA)", lambda: build_vaeface(jit_compile=True)),
    ("reference, steps_per_execution=8", lambda: build_reference(steps_per_execution=8)),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 1 epoch (about 1.5 minutes; noisier)")
    parser.add_argument("--images", type=int, default=640, help="training images per epoch (default 640)")
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds (default 8, or 3 with --quick)")
    args = parser.parse_args(argv)
    tf.get_logger().setLevel("ERROR")  # Keras's retracing notes for the many models built here
    rounds = args.rounds or (3 if args.quick else 8)
    epochs = 1 if args.quick else 2

    x, source = load_data(args.images)
    bf16 = cpu_has_bfloat16()
    cores = os.cpu_count() or 1
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {cores} CPUs "
          f"(bfloat16 instructions: {'unknown' if bf16 is None else 'yes' if bf16 else 'no'}); data: {len(x)} "
          f"images of {x.shape[1:]} from {source}; each timing is one fit of {epochs} epoch(s); {rounds} rounds")

    rows = forward_flops()
    forward = sum(f for _, f in rows)
    train_flops = 3 * forward
    print("\nFLOPs per image, forward pass (multiply-add = 2):")
    for name, flops in rows:
        print(f"  {name:<28} {flops / 1e6:8.2f} MFLOP")
    print(f"  {'forward total':<28} {forward / 1e6:8.2f} MFLOP;  training step (x3): {train_flops / 1e6:.1f} MFLOP")

    # Build and warm up (trace, compile) every model first. Then time them in
    # rounds, each round in a new random order, so that all variants see the
    # same load from other processes.
    models = {}
    for name, build in VARIANTS:
        for batch_size in (32, 64):
            model = build()
            model.fit(x, batch_size=batch_size, epochs=1, verbose=0)
            models[name, batch_size] = model
    steps = {name: step_function(models[name, 32], x[:32]) for name in (REFERENCE, VAEFACE)}
    rates = {key: [] for key in models}
    step_times = {name: [] for name in steps}
    used_cores = []
    peaks = {"float32": []}
    order = np.random.default_rng(0)
    keys = list(models)
    for _ in range(rounds):
        for dtype in peaks:
            peaks[dtype].append(matmul_peak(dtype))
        for i in order.permutation(len(keys)):
            name, batch_size = keys[i]
            rate, used = timed_fit(models[name, batch_size], x, batch_size, epochs)
            rates[name, batch_size].append(rate)
            used_cores.append(used)
        for name, step in steps.items():
            step_times[name].extend(seconds(step) for _ in range(5))
    peak = max(peaks["float32"])
    best = {key: max(values) for key, values in rates.items()}
    median = {key: statistics.median(values) for key, values in rates.items()}
    contended = sum(u < 0.75 * cores for u in used_cores)

    print(f"\nmatmul peak (TensorFlow, 2048^3, best of {8 * rounds}): float32 {peak / 1e9:.1f} GFLOP/s")
    print(f"\ntraining throughput in fit, graph mode: best of {rounds} rounds (median), images/s; "
          "best as % of the float32 matmul peak")
    print(f"  {'variant':<34} {'batch 32':>22} {'batch 64':>22}")
    for name, _ in VARIANTS:
        cells = [f"{best[name, b]:5.0f} ({median[name, b]:4.0f}) {100 * best[name, b] * train_flops / peak:3.0f}%"
                 for b in (32, 64)]
        print(f"  {name:<34} {cells[0]:>22} {cells[1]:>22}")
    print(f"  {contended} of {len(used_cores)} timings had less than {0.75 * cores:g} of the {cores} cores "
          "(the process's CPU time over the wall time). A core taken by another process or virtual machine "
          "shows up here; it slows a timing but never speeds one up, hence best of the rounds.")

    print("\nspeed-up over the keras-io style, best against best (median of the ratios within a round):")
    for name in (VAEFACE,):
        parts = []
        for b in (32, 64):
            within = statistics.median(v / r for v, r in zip(rates[name, b], rates[REFERENCE, b]))
            parts.append(f"batch {b}: {best[name, b] / best[REFERENCE, b]:.2f}x ({within:.2f}x)")
        print(f"  {name:<34} " + ";  ".join(parts))

    print(f"\none train_step on one batch of 32 in a tf.function, outside fit (best of {5 * rounds}):")
    step_best = {name: min(times) for name, times in step_times.items()}
    for name, t in step_best.items():
        print(f"  {name:<34} {1e3 * t:6.1f} ms = {32 / t:5.0f} images/s = "
              f"{100 * 32 * train_flops / t / peak:3.0f}% of the float32 peak")
    bound = (32 / step_best[VAEFACE]) / best[REFERENCE, 32]
    print(f"  A float32 VAE with these kernels and no overhead at all would train at most {bound:.2f}x "
          "as fast as the reference does in fit at batch 32: the same convolutions take nearly all of the time.")

    rate = max(best[VAEFACE, b] for b in (32, 64))
    print(f"\n{VAEFACE}: {rate:.0f} images/s = {rate * train_flops / 1e9:.1f} GFLOP/s = "
          f"{100 * rate * train_flops / peak:.0f}% of the float32 matmul peak")


if __name__ == "__main__":
    main()
