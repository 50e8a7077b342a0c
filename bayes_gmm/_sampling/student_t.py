"""Exact conditionals of the Student-t components' latent scales and degrees of freedom.

Given its component c, a point's scale u_i is Gamma((nu_c + d) / 2, rate (nu_c +
delta_i) / 2), delta_i its squared Mahalanobis distance from the component (conjugacy of
the Gamma prior of u with Normal(x | mu, Sigma / u)). Given the scales, the data say
nothing more about nu_c: its conditional is the prior times prod_i Gamma(u_i | nu_c / 2,
nu_c / 2), which :func:`sample_degrees_of_freedom` samples by slice sampling on log nu.
"""

import numpy as np
from scipy.special import gammaln

from .._student_t import DF_PRIOR
from ._truncated import slice_sample

# Slice updates of each log nu per sweep, and the slice's initial width: about the
# posterior sd of log nu with a few hundred points (0.3 to 1), so that stepping out
# takes a step or two.
_DF_UPDATES = 2
_DF_WIDTH = 1.0


def sample_latent_scales(rng, delta, df, n_features):
    """Each point's scale u_i ~ Gamma((nu + d) / 2, rate (nu + delta_i) / 2); ``delta``
    (n,) and ``df`` (n,) or a float, those of each point's component."""
    shape = (df + n_features) / 2
    return rng.gamma(shape, 2.0 / (df + delta))


def df_log_density(log_df, n_points, sum_log_u, sum_u):
    """log p(nu | u) + log nu, up to a constant, at nu = exp(``log_df``): the Gamma prior
    times n Gamma(u_i | nu / 2, rate nu / 2) densities, which read the scales through
    their count, the sum of their logs and their sum; the added log nu is the Jacobian of
    the log scale."""
    shape, rate = DF_PRIOR
    nu = np.exp(log_df)
    half = nu / 2
    likelihood = n_points * (half * np.log(half) - gammaln(half))
    likelihood += (half - 1) * sum_log_u - half * sum_u
    return shape * log_df - rate * nu + likelihood


def sample_degrees_of_freedom(rng, current, n_points, sum_log_u, sum_u):
    """Slice-sample each nu (one per component, or one shared) given its points' scales,
    summarised per nu by ``n_points``, ``sum_log_u`` and ``sum_u`` (arrays shaped like
    ``current``). A nu with no point is drawn from its prior's conditional all the same:
    the slice update leaves the prior invariant too."""
    nu = np.array(current, dtype=float)
    for index in np.ndindex(nu.shape):
        x = np.log(nu[index])
        stats = (n_points[index], sum_log_u[index], sum_u[index])
        for _ in range(_DF_UPDATES):
            x = slice_sample(rng, lambda y, s=stats: df_log_density(y, *s), x, _DF_WIDTH)
        nu[index] = np.exp(x)
    return nu
