"""The static-optimisation QP, batched: ``min ½‖x‖² s.t. A x = b, lower ≤ x ≤ upper`` per frame.

Its dual is smooth and piecewise quadratic; a semismooth Newton method with Armijo
backtracking solves every frame at once (batched numpy linear algebra), and the primal
solution is ``x = clip(Aᵀλ, lower, upper)``, exact up to round-off. Used by
:mod:`gait2hip.sim.fast_so`; numpy only.
"""

from __future__ import annotations

import numpy as np


def solve_min_squares_qp(
    A: np.ndarray,
    b: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    max_iterations: int = 100,
    tolerance: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``min ½‖x‖² s.t. A x = b, lower ≤ x ≤ upper`` for a batch of problems.

    Parameters
    ----------
    A
        [F, m, n] constraint matrices (F problems, m equalities, n variables).
    b
        [F, m] right-hand sides.
    lower, upper
        [n] or [F, n] bounds (±inf allowed).
    max_iterations
        Newton iterations at most.
    tolerance
        Stop when every residual ‖A x − b‖∞ ≤ tolerance · (1 + ‖b‖∞).

    Returns
    -------
    x, violation
        [F, n] solutions and [F] final ‖A x − b‖∞ (≈ 0 unless a problem is infeasible).

    Notes
    -----
    Dual: minimise θ(λ) = Σᵢ ψᵢ((Aᵀλ)ᵢ) − bᵀλ with ψ(v) = v·c − c²/2, c = clip(v, lo, hi);
    ∇θ = A c − b and the generalised Hessian is A D Aᵀ, D the indicator of free variables.
    """
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    F, m, n = A.shape
    lower = np.broadcast_to(np.asarray(lower, dtype=float), (F, n))
    upper = np.broadcast_to(np.asarray(upper, dtype=float), (F, n))
    At = np.swapaxes(A, 1, 2)
    scale = 1.0 + np.abs(b).max(axis=1)
    ridge = 1e-13 * np.maximum(np.einsum("fmn,fmn->fm", A, A).max(axis=1), 1.0)

    def dual(lam: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        v = (At @ lam[..., None])[..., 0]
        c = np.clip(v, lower, upper)
        theta = np.sum(v * c - 0.5 * c * c, axis=1) - np.sum(b * lam, axis=1)
        return v, c, theta

    lam = np.zeros((F, m))
    v, x, theta = dual(lam)
    for _ in range(max_iterations):
        residual = (A @ x[..., None])[..., 0] - b
        active = np.abs(residual).max(axis=1) > tolerance * scale
        if not active.any():
            break
        free = ((v > lower) & (v < upper)).astype(float)
        H = (A * free[:, None, :]) @ At + ridge[:, None, None] * np.eye(m)
        step = -np.linalg.solve(H, residual[..., None])[..., 0]
        step[~active] = 0.0
        slope = np.sum(residual * step, axis=1)
        t = np.ones(F)
        for _ in range(40):
            candidate = lam + t[:, None] * step
            v_new, x_new, theta_new = dual(candidate)
            ok = (theta_new <= theta + 1e-4 * t * slope + 1e-14 * np.abs(theta)) | ~active
            if ok.all():
                break
            t = np.where(ok, t, 0.5 * t)
        lam, v, x, theta = candidate, v_new, x_new, theta_new
    violation = np.abs((A @ x[..., None])[..., 0] - b).max(axis=1)
    return x, violation
