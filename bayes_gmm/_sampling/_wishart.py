"""Exact draws from the inverse-Wishart distribution, by the Bartlett decomposition.

scipy's parametrisation: Sigma ~ InverseWishart(df, Psi) when Sigma^-1 ~ Wishart(df,
Psi^-1), with E[Sigma] = Psi / (df - d - 1) for df > d + 1.
"""

import numpy as np
from scipy.special import multigammaln


def bartlett_factor(rng, df, lead, d):
    """Lower-triangular A of shape (*lead, d, d): A A^T ~ Wishart(df, I_d).

    A_ii^2 ~ chi^2(df - i) for i = 0..d-1 and A_ij ~ Normal(0, 1) below the diagonal
    (Bartlett 1933). ``df`` broadcasts to ``lead`` and must exceed d - 1.
    """
    df = np.broadcast_to(np.asarray(df, dtype=float), lead)
    factor = np.zeros((*lead, d, d))
    rows, cols = np.tril_indices(d, -1)
    factor[..., rows, cols] = rng.standard_normal((*lead, rows.size))
    chi_df = df[..., None] - np.arange(d)
    diagonal = np.sqrt(2.0 * rng.standard_gamma(chi_df / 2.0))
    factor[..., np.arange(d), np.arange(d)] = diagonal
    return factor


def sample_inverse_wishart(rng, df, scale_cholesky):
    """Draw Sigma ~ InverseWishart(df, Psi) for Psi = C C^T, over leading axes of C.

    With A the Bartlett factor of a Wishart(df, I) draw, Sigma^-1 = C^-T A A^T C^-1 is
    Wishart(df, Psi^-1), so Sigma = T T^T with T^T = A^-1 C^T: one linear solve (NumPy's,
    batched), no explicit inverse. ``scale_cholesky`` is C, lower triangular, shape
    (..., d, d); ``df`` broadcasts to its leading shape.
    """
    factor = bartlett_factor(rng, df, scale_cholesky.shape[:-2], scale_cholesky.shape[-1])
    t_transpose = np.linalg.solve(factor, np.swapaxes(scale_cholesky, -1, -2))
    covariance = np.swapaxes(t_transpose, -1, -2) @ t_transpose
    # Exactly symmetric: the matrix product can differ from its transpose in the last bit.
    return 0.5 * (covariance + np.swapaxes(covariance, -1, -2))


def inverse_wishart_log_density(covariance, df, scale):
    """log InverseWishart(Sigma | df, Psi), scipy's parametrisation, of one (d, d) matrix:
    df/2 log|Psi| - df d/2 log 2 - log Gamma_d(df/2) - (df + d + 1)/2 log|Sigma|
    - tr(Psi Sigma^-1)/2."""
    d = covariance.shape[-1]
    lower = np.linalg.cholesky(covariance)
    whitened = np.linalg.solve(lower, np.linalg.cholesky(scale))
    return float(
        df * np.log(np.diag(np.linalg.cholesky(scale))).sum()
        - 0.5 * df * d * np.log(2.0)
        - multigammaln(0.5 * df, d)
        - (df + d + 1) * np.log(np.diag(lower)).sum()
        - 0.5 * np.sum(whitened**2)
    )
