"""Training: one loop for every architecture, normalisation, the paper's / gait2hip's recipes, and
:class:`~gait2hip.train.protocols.Trainer`, the estimator that runs a protocol (CV epoch
selection, retraining) under a :class:`~gait2hip.train.protocols.Budget`.

>>> from gait2hip.train import TrainConfig, train_model, Standardizer, GAIT2HIP_RECIPE
"""

from gait2hip.train.loop import TrainConfig, TrainResult, predict, seed_everything, train_model
from gait2hip.train.normalize import Standardizer
from gait2hip.train.recipes import GAIT2HIP_RECIPE, PAPER_RECIPE, Recipe, input_features, training_set

__all__ = [
    "GAIT2HIP_RECIPE",
    "PAPER_RECIPE",
    "Recipe",
    "Standardizer",
    "TrainConfig",
    "TrainResult",
    "input_features",
    "predict",
    "seed_everything",
    "train_model",
    "training_set",
]
