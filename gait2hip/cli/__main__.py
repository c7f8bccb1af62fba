"""``python -m gait2hip.cli``: the ``gait2hip`` command."""

from gait2hip.cli import main

main()
