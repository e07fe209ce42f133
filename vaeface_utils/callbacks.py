"""Keras callbacks used in training the course's VAEs.

- :class:`StopOnNaN` stops training with a clear message when the loss stops
  being finite (:meth:`vaeface_utils.model.VAE.fit` adds it by default) and
  :class:`NaNLossError` is what it raises;
- :class:`EpochLog` adds the learning rate and the epoch's wall-clock seconds
  to Keras's logs, so to the history;
- :class:`ProgressLine` reports training in one short line every few epochs,
  for stored notebook outputs.

They are plain ``keras.callbacks.Callback`` subclasses, so importing this
module imports Keras (and TensorFlow).
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from . import config
from ._validate import int_in

keras = config.import_keras()

__all__ = ["NaNLossError", "StopOnNaN", "EpochLog", "ProgressLine"]


class NaNLossError(FloatingPointError):
    """Training produced a loss that is NaN or infinite (raised by :class:`StopOnNaN`)."""


class StopOnNaN(keras.callbacks.TerminateOnNaN):
    """Stop training as soon as the loss is NaN or infinite, and say why.

    :meth:`vaeface_utils.model.VAE.fit` adds one (``raise_error=True``) unless ``callbacks``
    already holds a ``TerminateOnNaN``.

    Parameters
    ----------
    raise_error : bool, default True
        Raise :class:`NaNLossError` (a ``FloatingPointError``) out of ``fit``.
        With False, training stops quietly, a ``RuntimeWarning`` is issued and
        the text is kept in :attr:`message` (``None`` while all is well).
    """

    def __init__(self, raise_error=True):
        super().__init__()
        self.raise_error = raise_error
        self.message = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(np.asarray(loss))
        if np.isfinite(loss):
            return
        every = int(getattr(self.model, "steps_per_execution", 1) or 1)
        where = f"epoch {self._epoch + 1}, by step {batch + 1}" + (f" (checked every {every} steps)" if every > 1 else "")
        self.message = (
            f"Training stopped: the loss became {loss} at {where}. "
            "The weights are no longer usable; rebuild or reload the model. Usual causes: a learning rate "
            "that is too high (try 1e-3 or lower), inputs with NaN or outside [0, 1], or a Gaussian decoder "
            "whose variance collapsed (fix it with gaussian_log_var=<a float>)."
        )
        self.model.stop_training = True
        if self.raise_error:
            raise NaNLossError(self.message)
        warnings.warn(self.message, RuntimeWarning, stacklevel=2)



class EpochLog(keras.callbacks.Callback):
    """Add the learning rate and the epoch's wall-clock seconds to Keras's logs (so to the history)."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(np.asarray(self.model.optimizer.learning_rate))
            logs["seconds"] = time.perf_counter() - self._start


class ProgressLine(keras.callbacks.Callback):
    """Report training in one line every ``every`` epochs.

    A short alternative to Keras's progress bar for stored notebook outputs::

        epoch  25: loss -3571.2, val_loss -3325.1 nats per image (val kl 68.7), 0.6 s/epoch

    Parameters
    ----------
    every : int, default 25
        Report after epochs ``every, 2 * every, ...`` and after the last epoch.
    print_fn : callable, optional
        Called with each line; pass ``print`` in a notebook. None collects
        the lines in :attr:`lines` only (library code does not print).

    Attributes
    ----------
    lines : list of str
        Every line reported so far.
    """

    def __init__(self, every=25, *, print_fn=None):
        super().__init__()
        self.every = int_in(every, "every", 1, None, "Use e.g. 25.")
        self.print_fn = print_fn
        self.lines = []
        self._seconds = []
        self._last = None

    def _emit(self, epoch, logs):
        logs = logs or {}
        seconds = np.mean(self._seconds[-self.every:]) if self._seconds else float("nan")
        line = f"epoch {epoch + 1:3d}: loss {logs.get('loss', float('nan')):9.1f}"
        if "val_loss" in logs:
            line += f", val_loss {logs['val_loss']:9.1f}"
        line += f" nats per image (val kl {logs.get('val_kl', logs.get('kl', float('nan'))):.1f})"
        line += f", {seconds:.2f} s/epoch"
        self.lines.append(line)
        if self.print_fn is not None:
            self.print_fn(line)

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self._seconds.append(time.perf_counter() - self._start)
        self._last = (epoch, dict(logs or {}))
        if (epoch + 1) % self.every == 0:
            self._emit(epoch, logs)
            self._last = None

    def on_train_end(self, logs=None):
        if self._last is not None:
            self._emit(*self._last)
