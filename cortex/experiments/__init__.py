"""Scripted experiments: the same work run sequentially, layer-split and concurrently.

from cortex import experiments

results = experiments.run("experiments/pipeline_vs_concurrent.toml", out="runs/pvc")
print(results.table())
print(results.modes["concurrent"]["tokens_per_s"], results.speedup)
"""

from cortex.experiments.runner import Results, run
from cortex.experiments.spec import ExperimentSpec, load_experiment

__all__ = ["ExperimentSpec", "Results", "load_experiment", "run"]
