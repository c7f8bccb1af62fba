"""gait2hip: hip muscle forces and hip joint moments from joint angles.

Stages, data flowing one way: ``io`` → ``data`` → ``sim`` → ``models`` → ``train`` /
``evaluate`` → ``report`` → ``predict``.  ``io`` and ``data`` never import torch;
``predict`` never imports ``sim`` or ``train``.
"""

__version__ = "0.1.0"
