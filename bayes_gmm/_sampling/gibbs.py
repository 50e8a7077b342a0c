"""Exact blocked Gibbs sampling of the latent mixture, as a PyMC step method.

One step is one sweep (:class:`.sweep.GibbsSweep`) of the chain's state, which PyMC's point
holds. With ``n_temperatures > 1`` the step is also a parallel-tempering sampler
(:mod:`.tempering`): it keeps the states of the hotter replicas itself, sweeps every
replica at its temperature, and tries the swaps; PyMC records the coldest replica, whose
target is the posterior.
"""

import numpy as np
import pymc as pm
from pymc.step_methods.compound import BlockedStep, StepMethodState, infer_warn_stats_info
from pymc.util import get_random_generator

from .sweep import GibbsSweep
from .tempering import TEMPERING_STATS, Ladder, initial_log_gaps


class GibbsMixtureStep(BlockedStep):
    """One exact Gibbs sweep over categories, weights, means and covariances of the latent model.

    Parameters
    ----------
    vars : ignored
        The step always owns the model's weights, means, covariance variable and categories;
        the argument exists for PyMC's step-method protocol.
    X, spec, center, spread
        The data, the resolved model and the standardisation, as
        :class:`.sweep.GibbsSweep` takes them.
    n_temperatures : int, default=1
        Replicas of parallel tempering; 1 is the plain Gibbs sampler.
    split_merge : bool, default=False
        Whether each sweep ends its category update with a split-merge move
        (:mod:`.split_merge`).
    repetitions : ndarray, default=None
        Whole, positive sample weights of the rows of ``X``. The model then has no
        category variable (see :mod:`.sweep`), nor has it where ``X`` has missing
        entries (NaN); in the sparse mixture the step then reports the points each
        component holds as the statistic ``component_counts``.
    """

    name = "gibbs_mixture"
    stats_dtypes_shapes = {"weights_joint_draw": (bool, [])}
    _state_class = StepMethodState

    def __init__(
        self,
        vars=None,
        *,
        X,
        spec,
        center,
        spread,
        n_temperatures=1,
        split_merge=False,
        repetitions=None,
        model=None,
        rng=None,
        blocked=True,
    ):
        model = pm.modelcontext(model)
        # Models of weighted rows or missing entries have no category variable.
        categories = ["category"] if "category" in model.named_vars else []
        names = (*spec.parameter_names, *categories)
        self.vars = [model.rvs_to_values[model[name]] for name in names]
        self.rng = get_random_generator(rng)
        self.spec = spec
        self._sweep = GibbsSweep(X, spec, center, spread, split_merge, repetitions)
        # Per instance: only a step that makes a statistic reports it.
        extra = {}
        if split_merge:
            extra["split_merge_accepted"] = (bool, [])
        if spec.sparse and self._sweep.without_categories:
            # An array per draw: PyMC's trace stores statistics one scalar per draw, and
            # stacks object-valued ones into an array when it builds the InferenceData.
            extra["component_counts"] = (object, [])
        if extra:
            self.stats_dtypes, self.stats_dtypes_shapes = infer_warn_stats_info(
                [], {**self.stats_dtypes_shapes, **extra}, type(self).__name__
            )
        self.n_temperatures = n_temperatures
        self._initial_log_gaps = initial_log_gaps(n_temperatures, *X.shape)
        self._replicas = None
        self._ladder = None
        self._history = None

    def begin_chain(self, replicas=None):
        """Start the next chain from ``replicas`` (a :meth:`replica_state`), or afresh.

        A fresh chain starts every hotter replica at the chain's own starting point, with
        the initial ladder.
        """
        self._replicas = None if replicas is None else list(replicas["states"])
        self._ladder = None if replicas is None else replicas["ladder"]
        self._history = {name: [] for name in TEMPERING_STATS}

    def replica_state(self):
        """The hotter replicas' states and the ladder, to continue this chain from, and
        the exchanges of its draws after warm-up (:data:`TEMPERING_STATS`, one entry per
        draw).

        PyMC's trace holds one number per draw and statistic; the exchanges travel here
        instead, and :func:`bayes_gmm._sampling.sample_posterior` adds them to the
        trace's ``sample_stats``.
        """
        history = {name: np.asarray(values) for name, values in self._history.items()}
        return {"states": list(self._replicas), "ladder": self._ladder, "history": history}

    def step(self, point):
        state = self._sweep.from_point(point)
        if self.n_temperatures == 1:
            state, stats = self._sweep(self.rng, state)
            return self._sweep.to_point(state, point), [stats]
        if self._ladder is None:
            self._ladder = Ladder(self._initial_log_gaps)
        if self._replicas is None:
            self._replicas = [state] * (self.n_temperatures - 1)
        swept = [
            self._sweep(self.rng, replica, beta, log_likelihood=True)
            for beta, replica in zip(self._ladder.betas, [state, *self._replicas], strict=True)
        ]
        betas = self._ladder.betas
        tuning = bool(getattr(self, "tune", False))
        order, probability, round_trips = self._ladder.swap(
            self.rng, [replica.log_likelihood for replica, _ in swept], adapt=tuning
        )
        if not tuning:
            for name, value in zip(TEMPERING_STATS, (betas, probability, round_trips), strict=True):
                self._history[name].append(value)
        # The recorded state, swept at beta = 1 or swapped in from the next temperature.
        state, stats = swept[order[0]]
        self._replicas = [swept[t][0] for t in order[1:]]
        return self._sweep.to_point(state, point), [stats]
