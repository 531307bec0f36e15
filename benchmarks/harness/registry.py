"""Every benchmark by its name on the command line, in the order a full run takes them."""
from . import drift, experiments, explain, oip, stream, gbdt_accuracy, gbdt_scaling, gbdt_train, lr_train, model_load, scoring, scoring_trees, server, tune

BENCHMARKS = {
    "lr-train": lr_train,
    "gbdt-train": gbdt_train,
    "gbdt-accuracy": gbdt_accuracy,
    "gbdt-scaling": gbdt_scaling,
    "tune": tune,
    "scoring": scoring,
    "scoring-trees": scoring_trees,
    "model-load": model_load,
    "explain": explain,
    "server": server,
    "drift": drift,
    "experiments": experiments,
    "stream": stream,
    "oip": oip,
}
