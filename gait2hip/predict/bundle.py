"""Installed model bundles, as seen from the prediction side (``gait2hip models list``).

The bundle format itself lives in :mod:`gait2hip.models.bundle`.
"""

from gait2hip.models.bundle import (
    Bundle,
    installed_bundles,
    load_bundle,
    print_installed_bundles,
    resolve_bundle_paths,
)

__all__ = ["Bundle", "installed_bundles", "load_bundle", "print_installed_bundles", "resolve_bundle_paths"]
