"""On-premise prediction: joint angles in, hip muscle forces and hip moments out.

``predict`` imports neither ``gait2hip.sim`` nor ``gait2hip.train`` nor OpenSim, so a clinic
can install gait2hip without OpenSim and still predict.

Examples
--------
OpenSim's gait2392 example trial (in the shared inputs, see :mod:`gait2hip.paths`):

>>> from gait2hip.data.angles import read_angles
>>> from gait2hip.paths import shared_file
>>> from gait2hip.predict import Predictor
>>> angles = read_angles(shared_file("opensim-examples/gait2392-subject01/subject01_walk1_ik.mot"))
>>> curves = Predictor.from_bundle("default").predict(angles, mass_kg=72.6)
>>> curves.groupby("cycle").size().tolist()    # two right-leg cycles, 101 points each
[101, 101]
"""

from gait2hip.data.columns import mirror_angles
from gait2hip.predict.cycles import CycleWindow, find_cycles
from gait2hip.predict.predictor import Prediction, Predictor

__all__ = ["CycleWindow", "Prediction", "Predictor", "find_cycles", "mirror_angles"]
