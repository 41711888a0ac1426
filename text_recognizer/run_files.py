"""Names of the files a fit keeps in its run directory, importable without TensorFlow or Keras (the tools that
compare and stage runs read them)."""

CHECKPOINT = "checkpoint.npz"  # The last finished epoch: weights, optimizer state, epoch, dropout state.
BEST = "best.npz"  # The weights of the best epoch so far by the model's monitored metric.
