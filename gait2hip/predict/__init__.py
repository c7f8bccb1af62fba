"""On-premise prediction: joint angles in, hip muscle forces and hip moments out.

``predict`` imports neither ``gait2hip.sim`` nor ``gait2hip.train`` nor OpenSim, so a clinic
can install gait2hip without OpenSim and still predict.

>>> from gait2hip.predict import Predictor
>>> curves = Predictor.from_bundle("default").predict(angles, mass_kg=72.6)
"""

from gait2hip.predict.predictor import CycleWindow, Prediction, Predictor, find_cycles, mirror_angles

__all__ = ["CycleWindow", "Prediction", "Predictor", "find_cycles", "mirror_angles"]
