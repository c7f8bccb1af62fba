"""The command layer: console output, environment variables and option checks for ``gait2hip``."""
