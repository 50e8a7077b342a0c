"""Student-t components: their density, from the Gaussian pieces every type computes.

A multivariate t with nu degrees of freedom is a scale mixture of Gaussians: x | u ~
Normal(mu, Sigma / u) with u ~ Gamma(nu / 2, rate nu / 2). Its density,

    log t_nu(x | mu, Sigma) = log Gamma((nu + d) / 2) - log Gamma(nu / 2)
        - d / 2 log(nu pi) - 1/2 log |Sigma| - (nu + d) / 2 log(1 + delta / nu),

depends on x only through the squared Mahalanobis distance delta = (x - mu)^T Sigma^-1
(x - mu), which a Gaussian log-density holds: log Normal(x | mu, Sigma) = -delta / 2 -
1/2 log |Sigma| - d / 2 log 2 pi. So every covariance type's Gaussian code serves the t
components as it is: :func:`t_log_density` turns its output into theirs.

The degrees of freedom have the Gamma(2, rate 0.1) prior of Juárez and Steel (2010):
mean 20, mode 10, light tails near 0 (its density vanishes there, so a component cannot
drift to infinite variance) and long ones towards the Gaussian limit.
"""

import numpy as np
from scipy.special import gammaln

_LOG_2PI = np.log(2 * np.pi)
# Gamma(shape, rate) prior of each component's degrees of freedom.
DF_PRIOR = (2.0, 0.1)


def t_log_density(log_normal, half_log_det, df, n_features, beta=1.0):
    """log t_df(x | mu, Sigma) and delta, from log Normal(x | mu, Sigma) and 1/2 log |Sigma|.

    ``log_normal`` (..., k, n); ``half_log_det`` and ``df`` broadcast against it as
    (..., k, 1). Returns the log-densities and the squared Mahalanobis distances, both
    shaped like ``log_normal``.

    At inverse temperature ``beta``, the log of the tempered density of parallel
    tempering, the latent scale integrated out of Normal(x | mu, Sigma / u)^beta
    Gamma(u | nu / 2, nu / 2): the Gamma integral gives exactly the t's expression with
    d, delta and 1/2 log |Sigma| each times beta. (The scale's conditional is then
    Gamma((nu + beta d) / 2, (nu + beta delta) / 2): d and delta times beta again.)
    """
    # In place on one (k, n) temporary, with the per-component terms (..., k, 1) apart:
    # the sweep calls this on every row at every sweep.
    delta = log_normal + (half_log_det + 0.5 * n_features * _LOG_2PI)
    delta *= -2.0
    # Rounding can leave a point on its component's mean a hair below 0.
    np.maximum(delta, 0.0, out=delta)
    d = beta * n_features
    log_t = delta * (beta / df)
    np.log1p(log_t, out=log_t)
    log_t *= -0.5 * (df + d)
    log_t += (
        gammaln((df + d) / 2) - gammaln(df / 2) - 0.5 * d * np.log(df * np.pi) - beta * half_log_det
    )
    return log_t, delta


def initial_degrees_of_freedom(spec):
    """Where chains start the degrees of freedom: the prior's mean, in the model's shape."""
    shape, rate = DF_PRIOR
    return np.full(spec.df_shape, shape / rate)


def tempered_t(params):
    """Whether the estimator's ``params`` ask for t components with tempering from the
    first run (an int ``n_temperatures`` above 1), which the sweep's tempered t update
    takes on complete, unweighted rows only: the fit's checks of weights and missing
    entries refuse the rest. ``"auto"`` tempers only where the data allow it."""
    return params["distribution"] == "student_t" and params["n_temperatures"] not in (1, "auto")
