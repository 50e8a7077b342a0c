"""Sample weights: checked, and matched to what each sampler can do with them exactly.

A whole-number weight m is m repetitions of the row, each with a category of its own: the
Gibbs sampler draws a row's category counts (``_sampling.sweep``), and NUTS multiplies
the row's log-density by m. A fractional weight raises the row's likelihood to that
power, which NUTS does exactly on the marginal likelihood; a power of a mixture density
is no mixture, so the latent-category samplers have no exact update for it and refuse it.
"""

import numpy as np

from ._student_t import tempered_t


def check_sample_weight(sample_weight, n_samples, params=None):
    """``sample_weight`` as float64 of shape (n_samples,), or None where every weight is 1.

    None makes the fit exactly the unweighted one. With the estimator's ``params`` (at
    fit) the weights must suit its sampler; without them (at scoring) any non-negative
    weights with a positive sum do. Raises ValueError naming ``sample_weight``.
    """
    if sample_weight is None:
        return None
    weight = np.asarray(sample_weight)
    if weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {weight.shape}; expected ({n_samples},), one weight "
            "per row of X."
        )
    if not (np.issubdtype(weight.dtype, np.number) or weight.dtype == bool):
        raise ValueError(f"sample_weight must be numeric; got dtype {weight.dtype}.")
    weight = weight.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(weight) | (weight < 0))
    if bad.size:
        raise ValueError(
            f"sample_weight must be finite and >= 0; got {weight[bad[0]]} at row {bad[0]}"
            f"{f' (and {bad.size - 1} more)' if bad.size > 1 else ''}."
        )
    if not weight.any():
        raise ValueError(
            "sample_weight is zero for every row: at least one weight must be positive "
            "(a row of weight zero counts as absent)."
        )
    if np.all(weight == 1):
        return None
    if params is not None:
        _check_sampler(weight, params)
    return weight


def _check_sampler(weight, params):
    sampler = params["sampler"]
    if sampler == "metropolis":
        raise ValueError(
            "sample_weight needs sampler='gibbs' (whole-number weights) or sampler='nuts' "
            "(any weights); sampler='metropolis', the 2015 PyMC notebook's scheme, keeps "
            "one category per row."
        )
    if sampler == "gibbs":
        fractional = np.flatnonzero(weight != np.round(weight))
        if fractional.size:
            raise ValueError(
                f"sample_weight has fractional values ({weight[fractional[0]]} at row "
                f"{fractional[0]}): sampler='gibbs' takes a weight as a number of "
                "repetitions of the row, each with a category of its own, and has no exact "
                "update for a likelihood raised to a fractional power. Use sampler='nuts', "
                "which raises each row's likelihood to its weight exactly, or round the "
                "weights to whole numbers."
            )
        if tempered_t(params):
            raise ValueError(
                f"n_temperatures={params['n_temperatures']!r} with "
                "distribution='student_t' does not take sample_weight: a swap between "
                "temperatures compares each point's density given its own latent scale, "
                "and a weighted row's points share one draw of their scales' sum. Use "
                "n_temperatures=1, or repeat the rows."
            )
        if params["split_merge"] is True:
            raise ValueError(
                "split_merge=True does not take sample_weight: its moves reassign one "
                "category per row. Use split_merge=False (or 'auto', which stays off with "
                "weights), or n_temperatures to cross between modes."
            )
