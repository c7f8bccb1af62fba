"""Per-subject scaling of the generic model without markers.

A virtual subject has no markers, so OpenSim's marker-based scale factors are replaced by
a manual, uniform factor ``height / generic height`` for every body (OpenSim's
``ScaleSet`` + ``Model.scale``, the same call the ScaleTool's ModelScaler makes), with the
body masses scaled to the subject's mass preserving the generic mass distribution
(``preserveMassDist``). Muscle fibre and tendon lengths follow the geometry (OpenSim
rescales them with the path lengths). Maximum isometric forces scale with mass^(2/3)
(geometric similarity: force ∝ cross-sectional area ∝ length²; e.g. van der Krogt et al.
2016, Gait Posture 48:138 use the same allometric rule), so heavy subjects are not
artificially weak in static optimisation.

The generic Rajagopal et al. (2016) model represents a 170 cm, 75.3 kg adult (IEEE TBME
63:2068; the model file's bodies sum to 75.337 kg).

Scaled models are written to a work folder (never into the package) and reused when
already present.
"""

from __future__ import annotations

from pathlib import Path

from gait2hip.errors import Gait2HipInputError
from gait2hip.sim.opensim_env import import_opensim, load_model, quiet_stdout

#: Height of the generic Rajagopal (2016) model, m.
GENERIC_HEIGHT_M = 1.70


def scale_model(
    *,
    generic_model: str | Path,
    height_m: float,
    mass_kg: float,
    out_file: str | Path,
    generic_height_m: float = GENERIC_HEIGHT_M,
    name: str | None = None,
) -> Path:
    """Write a copy of ``generic_model`` scaled to a subject's height and mass.

    Parameters
    ----------
    generic_model
        Unscaled .osim model.
    height_m, mass_kg
        The subject.
    out_file
        Where the scaled model goes; an existing file is reused (resume).
    generic_height_m
        Height the generic model represents.
    name
        Model name written into the file.

    Returns
    -------
    Path
        ``out_file``.
    """
    out_file = Path(out_file)
    if out_file.is_file():
        return out_file
    if not (1.2 <= height_m <= 2.3):
        raise Gait2HipInputError(f"height {height_m} m is not an adult height in metres.", column="height_m")
    if not (30 <= mass_kg <= 200):
        raise Gait2HipInputError(f"body mass {mass_kg} kg is implausible.", column="mass_kg")
    osim = import_opensim()
    model = load_model(generic_model)
    state = model.initSystem()
    generic_mass = model.getTotalMass(state)
    factor = height_m / generic_height_m
    scale_set = osim.ScaleSet()
    bodies = model.getBodySet()
    for i in range(bodies.getSize()):
        scale = osim.Scale()
        scale.setSegmentName(bodies.get(i).getName())
        scale.setScaleFactors(osim.Vec3(factor, factor, factor))
        scale.setApply(True)
        scale_set.cloneAndAppend(scale)
    with quiet_stdout():
        ok = model.scale(state, scale_set, True, float(mass_kg))
    if not ok:
        raise Gait2HipInputError("OpenSim could not scale the model.", file=generic_model)
    strength = (mass_kg / generic_mass) ** (2.0 / 3.0)
    muscles = model.getMuscles()
    for i in range(muscles.getSize()):
        muscle = muscles.get(i)
        muscle.setMaxIsometricForce(muscle.getMaxIsometricForce() * strength)
    if name:
        model.setName(name)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(out_file.stem + ".tmp.osim")
    model.printToXML(str(tmp))
    tmp.replace(out_file)
    return out_file
