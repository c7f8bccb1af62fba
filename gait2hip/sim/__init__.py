"""OpenSim labelling (inverse dynamics, static optimisation, QA, batch) and the virtual cohort.

Importing this package never imports opensim (an optional extra, ``gait2hip[sim]``);
the modules import it inside their functions.

Labelling entry points:

* :func:`gait2hip.sim.inverse_dynamics.run_inverse_dynamics`
* :func:`gait2hip.sim.static_optimization.run_static_optimization` (``solver='default'``
  = the fast solver of :mod:`gait2hip.sim.fast_so`, or ``'opensim'``)
* :func:`gait2hip.sim.label.label_trial` and :func:`gait2hip.sim.batch.label_manifest`
* :func:`gait2hip.sim.quality.cycle_quality`
"""
