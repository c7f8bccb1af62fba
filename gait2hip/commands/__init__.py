"""Command layer: option checks, environment, printing; each command calls one library function."""
