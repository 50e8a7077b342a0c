"""The noise component: one more category, of constant density over the data's box.

mclust's noise component (Banfield and Raftery 1993): points that no Gaussian component
explains are given to a component whose density is uniform, 1 / V, over a region that
holds the data. The region is the user's (a box known beforehand, such as an
instrument's range) or, by default, the training data's bounding box, each feature's range
of observed values, and V the product of the ranges (mclust's ``hypvol`` takes the
smaller of this box and the one along the data's principal axes; the axis-aligned box
keeps the density of a row with missing entries simple: on its observed features it is
1 / the product of their ranges). In prediction the density is the constant 1 / V at
every point, inside the box or not, so that a point far outside the training data is
noise, as in mclust; the noise component's samples lie in the box.

The mixture is (1 - nu) sum_c w_c Normal(x | theta_c) + nu / V: the noise weight nu has
its own Beta prior, apart from the Gaussian components' weights w, so that their
Dirichlet prior, its floor and the sparse mixture stay as they are without noise.
"""

import numpy as np

# The Beta(a, b) prior of the noise weight nu: uniform, no share of noise preferred.
NOISE_WEIGHT_PRIOR = (1.0, 1.0)


def resolve_noise_box(noise_component, data_box):
    """The noise component's box (2, d), or None: the training data's bounding box
    ``data_box`` for True, the region the user gave (lows, highs) for an array."""
    if noise_component is False:
        return None
    if noise_component is True:
        return data_box
    box = np.asarray(noise_component, dtype=float)
    if box.shape != data_box.shape:
        raise ValueError(
            f"noise_component={noise_component!r} must be True, False or the noise "
            f"region's lows and highs, an array of shape (2, n_features) = {data_box.shape}."
        )
    if not (np.all(np.isfinite(box)) and np.all(box[1] > box[0])):
        raise ValueError(
            f"noise_component={noise_component!r} must hold finite lows below their highs."
        )
    outside = np.flatnonzero((data_box[0] < box[0]) | (data_box[1] > box[1]))
    if outside.size:
        raise ValueError(
            f"noise_component={noise_component!r} does not hold the training data: "
            f"feature(s) {outside.tolist()} have values outside it, where a uniform noise "
            "density is 0. Widen the region, or set noise_component=True for the data's "
            "bounding box."
        )
    return box


def log_widths(box, scale=1.0):
    """log of the box's width along each feature, (d,), in units of ``scale``."""
    return np.log((box[1] - box[0]) / scale)


def initial_noise_weight(n_samples):
    """Where chains start the noise weight: its posterior mean with no point in noise."""
    a, b = NOISE_WEIGHT_PRIOR
    return a / (a + b + n_samples)


def sample_noise_weight(rng, n_noise, n_points):
    """nu | z ~ Beta(a + points in noise, b + points in the Gaussian components)."""
    a, b = NOISE_WEIGHT_PRIOR
    return float(rng.beta(a + n_noise, b + n_points - n_noise))


def sample_in_box(rng, box, n_samples):
    """``n_samples`` points uniform in ``box``, (n_samples, d)."""
    return box[0] + (box[1] - box[0]) * rng.random((n_samples, box.shape[1]))
