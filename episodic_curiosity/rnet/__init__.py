"""The reachability network: model, training pairs, offline and online training."""
