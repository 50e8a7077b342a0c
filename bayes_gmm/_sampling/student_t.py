"""Exact conditionals of the Student-t components' latent scales and degrees of freedom.

Given its component c, a point's scale u_i is Gamma((nu_c + d) / 2, rate (nu_c +
delta_i) / 2), delta_i its squared Mahalanobis distance from the component (conjugacy of
the Gamma prior of u with Normal(x | mu, Sigma / u)). Given the scales, the data say
nothing more about nu_c; but the sweep draws nu_c before the scales, with them integrated
out (:func:`sample_degrees_of_freedom`, slice sampling on log nu), which mixes far faster.
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


def df_log_density(log_df, delta, n_features):
    """log p(nu | z, theta, x) + log nu, up to a constant, at nu = exp(``log_df``), the
    scales integrated out: the Gamma prior times the t densities of the points, which
    depend on nu through their squared distances ``delta`` from the component. The added
    log nu is the Jacobian of the log scale."""
    shape, rate = DF_PRIOR
    nu, d = np.exp(log_df), n_features
    log_t = delta.size * (gammaln((nu + d) / 2) - gammaln(nu / 2) - d / 2 * np.log(nu))
    log_t -= (nu + d) / 2 * np.log1p(delta / nu).sum()
    return shape * log_df - rate * nu + log_t


def sample_degrees_of_freedom(rng, current, deltas, n_features):
    """Slice-sample each nu (one per component, or one shared) from its conditional given
    the categories and the means and scale matrices, the latent scales integrated out:
    ``deltas`` holds, per nu, the squared distances of its points. The scales, drawn
    afresh after, then follow from their conditional given the new nu. Integrating them
    out here is what lets nu move: given the scales, nu is tied to them as they are to
    it, and a chain that alternates the two crawls. A nu with no point is drawn from its
    prior's conditional."""
    nu = np.array(current, dtype=float)
    for index, delta in zip(np.ndindex(nu.shape), deltas, strict=True):
        x = np.log(nu[index])
        for _ in range(_DF_UPDATES):
            x = slice_sample(rng, lambda y, v=delta: df_log_density(y, v, n_features), x, _DF_WIDTH)
        nu[index] = np.exp(x)
    return nu
