"""The OpenSim example trials in ``shared/opensim-examples`` that need preparing before labelling.

``rajagopal-walk`` ships setups and data but no scaled model or IK; :func:`prepare_rajagopal_walk`
runs its own scale and IK setups on copies (the shared folder is read-only).
"""

from __future__ import annotations

import os
from pathlib import Path

RAJAGOPAL_WALK = "opensim-examples/rajagopal-walk"
#: The left cycle: the only heel-strike-to-heel-strike cycle with every contact on a plate.
RAJAGOPAL_LEFT_CYCLE = (0.84, 1.98)


def prepare_rajagopal_walk(*, shared: Path, folder: Path) -> dict:
    """Scale Rajagopal2016 and run IK for the rajagopal-walk example (its own setups), in ``folder``.

    The example ships setups and data but no scaled model or IK: this runs its two scale
    steps and its IK setup (≈ 15 s) on copies in ``folder`` (the shared folder is read-only),
    with ``generic_unscaled.osim`` = the shared Rajagopal2016.osim as its README says.

    Returns
    -------
    dict
        ``model``, ``coordinates``, ``external_loads`` and ``grf`` for the labelling functions.
    """
    import shutil

    from gait2hip.sim.opensim_env import import_opensim, quiet_stdout

    osim = import_opensim()
    source = shared / RAJAGOPAL_WALK
    for sub in ("Scale", "IK", "ID", "ExpData"):
        shutil.copytree(source / sub, folder / sub, dirs_exist_ok=True)
    shutil.copy(shared / "models" / "Rajagopal2016.osim", folder / "generic_unscaled.osim")
    model = folder / "Scale" / "subject_scaled_walk.osim"
    ik_output = folder / "IK" / "results_walk" / "ik_output_walk.mot"
    cwd = Path.cwd()
    try:
        with quiet_stdout():
            os.chdir(folder / "Scale")  # the setups name their files relative to their folder
            for setup in ("scale_setup_walk_scaleOnly.xml", "scale_setup_walk.xml"):
                if not osim.ScaleTool(setup).run():
                    raise RuntimeError(f"rajagopal-walk scaling failed ({setup})")
            os.chdir(folder / "IK")
            tool = osim.InverseKinematicsTool("ik_setup_walk.xml")
            ik_output.parent.mkdir(parents=True, exist_ok=True)
            tool.setResultsDir(str(ik_output.parent))
            tool.setOutputMotionFileName(str(ik_output))
            if not tool.run():
                raise RuntimeError("rajagopal-walk inverse kinematics failed")
    finally:
        os.chdir(cwd)
    return dict(
        model=model,
        coordinates=ik_output,
        external_loads=folder / "ID" / "grf_walk.xml",
        grf=folder / "ExpData" / "grf_walk.mot",
    )
