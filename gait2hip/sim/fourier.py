"""Truncated Fourier series over one gait cycle: the generator's smooth, periodic curves."""

from __future__ import annotations

import numpy as np

#: Harmonics kept (8 per stride ≈ 5–9 Hz over 78–135 steps/min, the usual 6 Hz gait low-pass).
N_HARMONICS = 8


def fourier_coefficients(samples: np.ndarray, *, n_harmonics: int = N_HARMONICS) -> np.ndarray:
    """Real Fourier coefficients of periodic samples over one cycle (rows = samples).

    Returns an array [1 + 2H, C]: the mean, then cos and sin coefficients of harmonics 1..H.
    """
    samples = np.asarray(samples, dtype=float)
    n = samples.shape[0]
    spectrum = np.fft.rfft(samples, axis=0) / n
    h = min(n_harmonics, spectrum.shape[0] - 1)
    coef = np.zeros((1 + 2 * n_harmonics, *samples.shape[1:]))
    coef[0] = spectrum[0].real
    coef[1 : 1 + h] = 2 * spectrum[1 : 1 + h].real
    coef[1 + n_harmonics : 1 + n_harmonics + h] = -2 * spectrum[1 : 1 + h].imag
    return coef


def fourier_evaluate(coef: np.ndarray, phase: np.ndarray, *, derivative: int = 0) -> np.ndarray:
    """Evaluate a Fourier series (from :func:`fourier_coefficients`) or its phase derivative.

    ``phase`` is in cycles (1 = one gait cycle); derivatives are per cycle^derivative.
    """
    phase = np.asarray(phase, dtype=float)
    n_harm = (coef.shape[0] - 1) // 2
    k = np.arange(1, n_harm + 1)
    angle = 2 * np.pi * phase[..., None] * k
    w = (2 * np.pi * k) ** derivative
    # d^n/dφ^n cos = w cos(θ + nπ/2); sin likewise.
    shift = derivative * np.pi / 2
    cos_part = w * np.cos(angle + shift)
    sin_part = w * np.sin(angle + shift)
    if phase.ndim == 2:  # one phase per coordinate column: [T, C]
        out = np.einsum("tck,kc->tc", cos_part, coef[1 : 1 + n_harm])
        out += np.einsum("tck,kc->tc", sin_part, coef[1 + n_harm :])
    else:
        out = cos_part @ coef[1 : 1 + n_harm] + sin_part @ coef[1 + n_harm :]
    if derivative == 0:
        out = out + coef[0]
    return out
