"""Exact draws from truncated Normal, Beta and Gamma distributions.

Inverse-CDF sampling through ``scipy.special``: microseconds a call, where the frozen
``scipy.stats`` distributions cost up to a millisecond, which would dominate a Gibbs sweep.
Each sampler is vectorised over its parameters and works in the tail that keeps precision:
a CDF value near 1 has lost its digits, one near 0 has not, so an interval in the upper tail
is mapped to the lower tail by symmetry (Normal, Beta) or by the complementary function
(Gamma).

In a Gibbs sweep the bounds rarely bind, so each sampler first makes a plain draw and keeps
it where it falls inside the bounds; only the others are drawn by inverse CDF. This is
exact: a plain draw kept on landing inside follows the truncated law, and so does the
inverse-CDF draw that replaces one that did not.
"""

import numpy as np
from scipy.special import (
    betainc,
    betaincinv,
    gammainc,
    gammaincc,
    gammainccinv,
    gammaincinv,
    gammaln,
    log_ndtr,
    ndtri_exp,
)


def _replace_outside(rng, x, exact_sampler, *params):
    """``x`` with each draw outside its bounds replaced by an exact truncated draw.

    ``params`` are ``exact_sampler``'s arguments after ``rng``; the last two are the
    bounds.
    """
    lower, upper = params[-2:]
    outside = ~((x >= lower) & (x <= upper))
    if outside.any():
        # A copy, and an array even where 0-d arithmetic gave a NumPy scalar.
        x = np.array(x, dtype=float)
        x[outside] = exact_sampler(
            rng, *(np.broadcast_to(np.asarray(p, dtype=float), x.shape)[outside] for p in params)
        )
    return x


def truncated_normal(rng, mean, sd, lower, upper):
    """Draw Normal(mean, sd) restricted to [lower, upper], elementwise.

    ``mean`` has the shape of the result; the others broadcast to it. Bounds may be
    infinite.
    """
    x = mean + sd * rng.standard_normal(np.shape(mean))
    return _replace_outside(rng, x, _truncated_normal_icdf, mean, sd, lower, upper)


def _truncated_normal_icdf(rng, mean, sd, lower, upper):
    """Inverse-CDF draw of the truncated Normal.

    Works in log space (``log_ndtr``/``ndtri_exp``), so an interval forty standard
    deviations out in the tail is still sampled correctly.
    """
    a = (lower - mean) / sd
    b = (upper - mean) / sd
    # Keep the interval on the left of 0, where log_ndtr keeps full relative precision.
    flip = a > 0
    a, b = np.where(flip, -b, a), np.where(flip, -a, b)
    log_pa = log_ndtr(a)
    log_pb = log_ndtr(b)
    u = rng.random(a.shape)
    with np.errstate(divide="ignore"):
        # log(Phi(a) + u (Phi(b) - Phi(a))) without leaving log space.
        log_mass = log_pb + np.log1p(-np.exp(log_pa - log_pb))
        log_p = np.logaddexp(log_pa, np.log(u) + log_mass)
    z = np.minimum(np.maximum(ndtri_exp(log_p), a), b)
    return mean + sd * np.where(flip, -z, z)


def truncated_beta(rng, a, b, lower, upper):
    """Draw Beta(a, b) restricted to [lower, upper] within [0, 1], elementwise.

    Where the whole interval lies so far in a tail that both CDF values underflow, the
    draw is the bound nearest the mass, which is where the distribution concentrates.
    """
    a, b, lower, upper = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (a, b, lower, upper))
    )
    # Sample 1 - x ~ Beta(b, a) on [1 - upper, 1 - lower] when the interval sits in the
    # upper tail of x.
    flip = betainc(a, b, lower) > 0.5
    a, b = np.where(flip, b, a), np.where(flip, a, b)
    lower, upper = np.where(flip, 1 - upper, lower), np.where(flip, 1 - lower, upper)
    p_lower = betainc(a, b, lower)
    p_upper = betainc(a, b, upper)
    u = p_lower + rng.random(a.shape) * (p_upper - p_lower)
    x = np.where(p_upper > 0, betaincinv(a, b, u), upper)
    x = np.clip(x, lower, upper)
    return np.where(flip, 1 - x, x)


def truncated_gamma(rng, shape, rate, lower, upper):
    """Draw Gamma(shape, rate) restricted to [lower, upper], elementwise; shape > 0.

    ``shape`` has the shape of the result; the others broadcast to it. ``upper`` may be
    infinite.
    """
    x = rng.standard_gamma(shape) / rate
    return _replace_outside(rng, x, _truncated_gamma_icdf, shape, rate, lower, upper)


def _truncated_gamma_icdf(rng, shape, rate, lower, upper):
    """Inverse-CDF draw of the truncated Gamma.

    Where both tail probabilities underflow, the draw is the bound nearest the mass.
    """
    lo, hi = rate * lower, rate * upper
    p_lo = gammainc(shape, lo)
    upper_tail = p_lo > 0.5
    u = rng.random(shape.shape)
    # Lower part: invert the regularised lower incomplete gamma P.
    p_hi = gammainc(shape, hi)
    x_lower_part = np.where(p_hi > 0, gammaincinv(shape, p_lo + u * (p_hi - p_lo)), hi)
    # Upper tail: invert the complement Q, which keeps its digits there.
    q_lo, q_hi = gammaincc(shape, lo), gammaincc(shape, hi)
    x_upper_tail = np.where(q_lo > 0, gammainccinv(shape, q_hi + u * (q_lo - q_hi)), lo)
    x = np.where(upper_tail, x_upper_tail, x_lower_part)
    return np.minimum(np.maximum(x, lo), hi) / rate


def truncated_gamma_log_density(x, shape, rate, lower, upper):
    """log density of Gamma(shape, rate) restricted to [lower, upper] at ``x``, elementwise.

    The mass of the interval comes from whichever tail keeps its digits, as in
    :func:`truncated_gamma`.
    """
    lo, hi = rate * lower, rate * upper
    upper_tail = gammainc(shape, lo) > 0.5
    mass = np.where(
        upper_tail,
        gammaincc(shape, lo) - gammaincc(shape, hi),
        gammainc(shape, hi) - gammainc(shape, lo),
    )
    return shape * np.log(rate) - gammaln(shape) + (shape - 1) * np.log(x) - rate * x - np.log(mass)


_MAX_SHRINKS = 200


def slice_sample(rng, log_density, x0, width, lower=-np.inf, upper=np.inf, max_steps=50):
    """One univariate slice-sampling update (Neal 2003, stepping out and shrinkage).

    Leaves the density ``exp(log_density)`` on [lower, upper] invariant. Used where a
    conditional has no inverse CDF at hand.
    """
    # The slice's height, the interval's position and the split of the steps between
    # its two ends, from one call: the update runs a dozen times per sweep.
    height, position, split = rng.random(3).tolist()
    log_y = log_density(x0) + np.log(height)
    left = x0 - width * position
    right = left + width
    steps_left = int(split * max_steps)
    steps_right = max_steps - 1 - steps_left
    while steps_left > 0 and left > lower and log_density(left) > log_y:
        left -= width
        steps_left -= 1
    while steps_right > 0 and right < upper and log_density(right) > log_y:
        right += width
        steps_right -= 1
    left, right = max(left, lower), min(right, upper)
    # Shrinkage ends with probability 1 when the density at x0 is above the slice; the
    # bound stops it where rounding (a density that is NaN or -inf in floating point) would
    # keep it from ending, and the chain then stays at x0.
    for _ in range(_MAX_SHRINKS):
        x1 = left + (right - left) * rng.random()
        if log_density(x1) > log_y:
            return x1
        if x1 < x0:
            left = x1
        else:
            right = x1
    raise FloatingPointError(f"slice sampling at {x0} did not find the slice")
