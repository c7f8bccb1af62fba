"""The batched bounded least-squares QP of the fast static optimisation (gait2hip.sim.so_qp)."""

from __future__ import annotations

import numpy as np
import pytest

from gait2hip.sim.so_qp import solve_min_squares_qp


def test_qp_matches_the_unbounded_closed_form():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(5, 3, 8))
    b = rng.normal(size=(5, 3))
    x, violation = solve_min_squares_qp(A, b, -np.inf, np.inf)
    closed = np.einsum(
        "fnm,fm->fn", np.swapaxes(A, 1, 2), np.linalg.solve(A @ np.swapaxes(A, 1, 2), b[..., None])[..., 0]
    )
    np.testing.assert_allclose(x, closed, atol=1e-10)
    assert violation.max() < 1e-9


def test_qp_with_bounds_satisfies_kkt_and_beats_scipy():
    from scipy.optimize import minimize

    rng = np.random.default_rng(1)
    n_frames, m, n = 6, 4, 30
    A = rng.normal(size=(n_frames, m, n))
    A[:, :, -m:] = np.eye(m) * 0.05  # weak "reserves", unbounded, as in SO
    b = rng.normal(size=(n_frames, m)) * 3
    lower = np.r_[np.full(n - m, 0.01), np.full(m, -np.inf)]
    upper = np.r_[np.ones(n - m), np.full(m, np.inf)]
    x, violation = solve_min_squares_qp(A, b, lower, upper)
    assert violation.max() < 1e-8
    assert (x >= lower - 1e-12).all() and (x <= upper + 1e-12).all()
    for f in range(n_frames):
        reference = minimize(
            lambda z: 0.5 * z @ z,
            np.clip(np.zeros(n), lower, upper),
            jac=lambda z: z,
            method="SLSQP",
            bounds=list(zip(lower, upper, strict=True)),
            constraints={"type": "eq", "fun": lambda z, f=f: A[f] @ z - b[f], "jac": lambda z, f=f: A[f]},
            options={"ftol": 1e-14, "maxiter": 500},
        )
        assert 0.5 * x[f] @ x[f] <= reference.fun + 1e-7
        np.testing.assert_allclose(x[f], reference.x, atol=1e-4)
        # KKT: x = clip(Aᵀλ) for the least-squares multipliers of the free variables.
        free = (x[f] > lower + 1e-9) & (x[f] < upper - 1e-9)
        lam = np.linalg.lstsq(A[f][:, free].T, x[f][free], rcond=None)[0]
        np.testing.assert_allclose(np.clip(A[f].T @ lam, lower, upper), x[f], atol=1e-7)


def test_qp_reports_infeasibility_instead_of_hiding_it():
    A = np.ones((1, 1, 2))
    x, violation = solve_min_squares_qp(A, np.array([[5.0]]), np.zeros(2), np.ones(2))
    np.testing.assert_allclose(x, [[1.0, 1.0]])  # the closest it can get
    assert violation[0] == pytest.approx(3.0)
