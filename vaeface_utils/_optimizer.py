"""Training one model after another without keeping each one's graph alive.

Keras's TensorFlow optimizer sums the gradients over the replicas of the
distribution strategy before every update, even when there is one replica
(no strategy). TensorFlow's ``all_reduce`` does that through a custom
gradient, and in a compiled training step a custom gradient is registered in
TensorFlow's global gradient registry, which is never emptied: the entry keeps
the whole traced training step alive after its model is gone. A notebook that
trains dozens of small models grows by about 17 MB per model
(``tests/test_model.py`` counts the graphs left behind).

:func:`sum_gradients_only_across_replicas` makes one optimizer skip that sum
when there is a single replica, where it is the identity; with several
replicas it sums as before. :func:`prepare_optimizer` does that and creates
the optimizer's slot variables at once: created inside the first compiled
step instead, each is a lazily initialised variable whose ``tf.cond``
branches TensorFlow also keeps after the model is gone.
"""

from __future__ import annotations

__all__ = ["prepare_optimizer", "sum_gradients_only_across_replicas"]


def prepare_optimizer(optimizer, variables=None):
    """``optimizer`` skipping the one-replica all-reduce, with its slots built now for ``variables``; returns it.

    Parameters
    ----------
    optimizer : keras.optimizers.Optimizer
        Changed in place (see :func:`sum_gradients_only_across_replicas`).
    variables : list of variables, optional
        What the optimizer will update; ``None`` leaves the slots to be
        built later (by the first update).
    """
    sum_gradients_only_across_replicas(optimizer)
    if variables is not None:
        optimizer.build(variables)
    return optimizer


def sum_gradients_only_across_replicas(optimizer):
    """Make ``optimizer`` skip the gradient all-reduce when there is one replica; returns it.

    Parameters
    ----------
    optimizer : keras.optimizers.Optimizer
        Changed in place; a ``LossScaleOptimizer`` (mixed precision) is
        changed together with the optimizer inside it, which does the update.
        An optimizer of another backend or version, without Keras's
        TensorFlow all-reduce step, is returned unchanged.
    """
    inner = getattr(optimizer, "inner_optimizer", None)
    if inner is not None:
        sum_gradients_only_across_replicas(inner)
    original = getattr(optimizer, "_all_reduce_sum_gradients", None)
    if original is None or getattr(original, "_single_replica_skips", False):
        return optimizer
    import tensorflow as tf

    def all_reduce_sum_gradients(grads_and_vars, *args, **kwargs):
        if tf.distribute.get_strategy().num_replicas_in_sync == 1:
            return list(grads_and_vars)  # the sum over one replica
        return original(grads_and_vars, *args, **kwargs)

    all_reduce_sum_gradients._single_replica_skips = True
    optimizer._all_reduce_sum_gradients = all_reduce_sum_gradients
    return optimizer
