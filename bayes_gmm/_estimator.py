"""BayesianMCMCMixture: the scikit-learn face of the constrained Bayesian mixture."""

import copy
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._clusters import COMPONENT_COUNTS, cluster_draws, cluster_posteriors, n_clusters_table
from ._covariance import COVARIANCE_TYPES, SD_PRIORS
from ._diagnostics import (
    mode_crossing_remedy,
    warn_if_ladder_does_not_connect,
    warn_if_not_converged,
    warn_if_order_does_not_separate,
)
from ._fitting import fit_trace
from ._lazy import az
from ._missing import imputed_draws, imputed_means
from ._persistence import load_fit, save_fit
from ._posterior import draws_of, sample_predictive
from ._sample_weight import check_sample_weight
from ._sampling import SAMPLERS
from ._sampling.budget import draw_budget, resolved_tune
from ._sampling.nuts import BACKENDS
from ._scoring import (
    category_probabilities,
    log_likelihood_dataset,
    log_predictive_density,
    pointwise_log_likelihood,
)
from ._spec import OBSERVED, MixtureSpec
from ._summaries import (
    plug_in_draws,
    point_summaries,
    run_attributes,
    training_data,
    training_weight,
)


class BayesianMCMCMixture(ClusterMixin, BaseEstimator):
    """Bayesian Gaussian mixture with a constrained prior, fitted by exact MCMC.

    The model of the classic PyMC mixture notebook, generalised to several features:
    Dirichlet weights each kept at or above ``min_weight``, Normal means ordered on one
    feature so that components cannot switch labels, Uniform (or half-normal) standard
    deviations or inverse-Wishart covariance matrices, and a latent category per point.
    ``fit`` builds it as a PyMC model and, by default, samples it with ``pm.sample`` driven by
    a blocked Gibbs step that draws every block from its full conditional (through an exact
    Metropolis correction or slice update where no inverse CDF exists), so the full
    posterior of a few hundred points takes about a second (the benchmark table in
    ``benchmarks/README.md`` has the measurements).

    Parameters
    ----------
    n_components : int, default=3
        Number of mixture components.
    covariance_type : {"tied_diag", "tied_spherical", "spherical", "diag", "full", "tied"}, \
default="tied_diag"
        The components' covariances. Diagonal, with standard deviations:
        ``"tied_spherical"`` one for everything, ``"tied_diag"`` one per feature shared by
        the components, ``"spherical"`` one per component, ``"diag"`` one per component
        and feature. Full matrices, as in scikit-learn: ``"full"`` one per component,
        ``"tied"`` one shared by all, with an inverse-Wishart prior.
    weight_concentration : float or "sparse", default=1.0
        Concentration of the symmetric Dirichlet prior on the weights. ``"sparse"``: the
        sparse ("overfitted") mixture of Malsiner-Walli, Frühwirth-Schnatter and Grün
        (2016), which chooses the number of clusters in one fit. ``n_components`` is then
        an upper bound (10, say), no weight has a floor, and the concentration is a
        parameter with a Gamma(10, rate=1000) prior (mean 0.01), so that components the
        data do not need hold no points. The clusters of a draw are its occupied
        components; ``n_clusters_posterior_`` is the posterior of their number. Only with
        ``sampler="gibbs"``, whose sweep draws the categories it counts.
    min_weight : "auto" or float, default="auto"
        Floor on every weight. ``"auto"`` is the 2015 PyMC notebook's 0.1 while
        ``n_components * 0.1 <= 0.5``, else ``0.5 / n_components``, and 0 in the sparse
        mixture. A number must lie in [0, 1 / n_components), and be 0 in the sparse
        mixture.
    mean_prior_loc : float, array-like of shape (n_features,) or None, default=None
        Mean of the Normal prior on the component means; None: each feature's median.
    mean_prior_scale : float, array-like of shape (n_features,) or None, default=None
        Standard deviation of that prior; None: per feature, 10 robust spreads (IQR / 1.349)
        or the largest distance of a point from the median, whichever is larger.
    sd_lower, sd_upper : float or None, default=None
        Bounds of the Uniform prior on every standard deviation (``sd_lower`` is also the
        floor of the half-normal prior; ``sd_upper`` must then stay None). None for
        ``sd_upper``: 10 robust spreads (per feature, or the largest spread for the
        spherical types). None for ``sd_lower``: the data's resolution, h / sqrt(12) for a
        feature whose values lie on a grid of step h (rounded measurements, integers:
        their rounding noise, which no sd below can resolve), else 1e-10 robust spreads, a
        floor that only matters when a component holds tied values, where the posterior
        would otherwise be improper. The 2015 PyMC notebook's prior is ``sd_lower=0,
        sd_upper=20``.
    sd_prior : {"uniform", "halfnormal"}, default="uniform"
        Prior on every standard deviation: the 2015 PyMC notebook's Uniform(sd_lower,
        sd_upper), or a HalfNormal(sd_prior_scale) restricted to sigma >= sd_lower.
    sd_prior_scale : float or None, default=None
        Scale of the half-normal sd prior; None: 5 robust spreads. Only with
        ``sd_prior="halfnormal"``.
    covariance_prior : float, array-like of shape (n_features,) or (n_features, \
n_features), or None, default=None
        Scale matrix Psi of the inverse-Wishart prior of ``"full"`` and ``"tied"``
        covariances, in ``scipy.stats.invwishart(df, scale)``'s parametrisation, so that
        E[Sigma] = Psi / (df - n_features - 1). A number or vector gives a diagonal matrix.
        None: diag((spread / n_components)^2) with each feature's robust spread, so that
        each component is expected to span 1 / n_components of every feature's spread.
    degrees_of_freedom_prior : float or None, default=None
        Degrees of freedom df of that prior, greater than n_features - 1; None:
        n_features + 2, the smallest whole number for which E[Sigma] exists. The sd
        parameters above apply to the diagonal types only, these two to the full ones;
        setting one that does not apply raises a ValueError.
    noise_component : bool or array-like of shape (2, n_features), default=False
        Add mclust's noise component: one more component, whose density is uniform over
        the training data's bounding box (1 / V, V the product of the features' ranges),
        or over the box whose lows and highs (each of shape (n_features,)) are given,
        which must hold the training data. Its weight has a uniform (Beta(1, 1)) prior,
        and the Gaussian components share the rest. Outliers then fall to it rather
        than widening a covariance or taking a component of their own. :meth:`predict`
        labels a point most probably noise -1, as scikit-learn's clusterers label
        noise, and :meth:`predict_proba` has a last column for it. In prediction the
        noise density is 1 / V everywhere, so that a point far outside the box is
        noise. With ``sampler="gibbs"`` or ``"nuts"`` (see the user guide).
    distribution : {"normal", "student_t"}, default="normal"
        The components' distribution. ``"student_t"``: multivariate Student-t
        components, with the covariance type's scale matrices and heavier tails, so that
        a few outliers neither widen a component nor take one of their own. The Gibbs
        sweep draws a latent scale per point (a t is a Gaussian whose covariance is
        divided by a Gamma scale) and updates the means and covariances with
        scale-weighted statistics; NUTS samples the t density. With sample weights and
        missing entries as with Gaussian components (a t's marginal on the observed
        entries is a t with the same degrees of freedom), and with tempering on
        complete, unweighted rows; not yet with split-merge moves or
        ``sampler="metropolis"``.
    t_degrees_of_freedom : float or None, default=None
        The t components' degrees of freedom. None: a parameter, one per component (one
        shared for the tied types), with a Gamma(2, rate=0.1) prior (Juárez and Steel
        2010; mean 20), sampled by slice updates on its log. A number fixes them. Only
        with ``distribution="student_t"``.
    sampler : {"gibbs", "nuts", "metropolis"}, default="gibbs"
        ``"gibbs"``: the exact blocked Gibbs step, fast. ``"nuts"``: PyMC's NUTS on the
        model with the categories summed out (categories recovered per draw afterwards);
        slower, chiefly to cross-check. ``"metropolis"``: the 2015 PyMC notebook's Metropolis
        plus categorical Gibbs scheme, very slow, kept for fidelity (diagonal types only).
    nuts_sampler : {"pymc", "nutpie", "numpyro", "blackjax"}, default="pymc"
        Backend of ``sampler="nuts"``. The others are optional: ``pip install
        "bayes_gmm[nutpie]"`` or ``"bayes_gmm[jax]"``.
    draws : "auto" or int, default="auto"
        Draws kept per chain. ``"auto"`` (with ``sampler="gibbs"``): 1000, and while
        ``convergence_`` misses its thresholds the chains are continued from where they
        stopped, to at least twice their length, or to where the smallest ESS would
        reach 500 if it grew in proportion to the draws, up to ``max_draws``. Chains
        that at their rate would need more than ``max_draws`` are not continued, and the
        warning says how many draws they would need: chains apart in modes that they
        seldom cross, most often, where more draws would cost much and still warn. A
        fit's cost is thus bounded by ``max_draws / 1000`` times a 1000-draw fit. With
        ``"nuts"`` and ``"metropolis"``, which would have to tune their step sizes again
        to continue, ``"auto"`` is 1000. The number kept is ``draws_``.
    max_draws : int or None, default=None
        Most draws per chain that ``draws="auto"`` may run; None: 8000. Only with
        ``draws="auto"`` and ``sampler="gibbs"``.
    tune : "auto" or int, default="auto"
        Warm-up iterations per chain, discarded. ``"auto"``: a fifth of ``draws`` (of the
        first run's 1000 with ``draws="auto"``: 200) for ``"gibbs"``, whose sweeps adapt
        nothing, so that warm-up only has to forget a start that is already a plausible
        partition (``draws``, or 1000, in the sparse mixture, whose k-means start
        occupies every component, and whose superfluous components take longer to
        empty); 1000 for ``"nuts"`` and ``"metropolis"``, which tune their step sizes
        during it. The value used is ``tune_``.
    chains : int, default=2
        Independent chains, each from a start of its own: plausible k-means partitions
        in turn and, where the data do not clearly need ``n_components`` clusters (by
        scikit-learn's BIC), every other chain from one cluster fewer with a component
        empty, so that R-hat can see a posterior that prefers fewer clusters (see the
        user guide).
    n_temperatures : int or "auto", default=1
        Replicas per chain of parallel tempering, with ``sampler="gibbs"``; 1 is the plain
        Gibbs sampler. ``"auto"``: plain chains first and, where they miss the
        thresholds sitting in different modes (``convergence_["chain_modes"]``), a second
        run from the same starts with 4 replicas per chain (with any other sampler,
        none). Replica t samples the posterior with its likelihood raised to a
        power beta_t, from beta = 1 (the posterior, the replica that is recorded) down
        a ladder of flatter ones, on which clusters merge and part easily; after each
        sweep of every replica, neighbouring temperatures exchange states by a
        Metropolis test, so that a chain can cross between modes (partitions of the data)
        that a plain chain never leaves. Every update, exchanges included, leaves the
        posterior invariant. During warm-up the ladder adapts so that neighbours exchange
        30% of the time; it is fixed after. A fit costs about ``n_temperatures`` times
        an untempered one. ``convergence_`` reports the ladder, its swap rates and its
        round trips (a state's journey from the posterior to the hottest replica and
        back), which are what shows that the replicas connect the modes: on larger data
        sets a phase transition of the tempered posteriors often blocks them, and
        ``split_merge`` crosses instead, or carries the replicas across (the user guide
        has the measurements). With ``distribution="student_t"``, complete unweighted
        rows only.
    split_merge : bool or "auto", default=False
        With ``sampler="gibbs"``, end each sweep's category update with a split-merge
        move (``"auto"``: only in a second run, where the plain chains miss the
        thresholds sitting in different modes, as for ``n_temperatures``): a
        Metropolis-Hastings proposal that reassigns all the points of two components at
        once, merging them into one, or splitting them afresh (which also moves a
        whole cluster from one component to the other), with new covariances
        for the types that have one per component. It crosses between partitions of
        the data that one-point-at-a-time updates never leave, and in the sparse mixture
        it opens and closes clusters in one step. Exact: the move leaves the posterior
        invariant, and ``sample_stats["split_merge_accepted"]`` records whether each
        draw's move was accepted. It costs one 2-means-like proposal of the two
        components' points per sweep: several times a plain sweep on a few hundred
        points (4.7 times the fit on the 2015 PyMC notebook's data).
    prediction_draws : int or "all", default=200
        Posterior draws that :meth:`predict_proba`, :meth:`predict`,
        :meth:`score_samples` and :meth:`score` average over: that many evenly spaced
        draws across the chains (every draw when there are fewer), or ``"all"``. When the
        chains mix well these draws are nearly independent, and the Monte Carlo standard
        error of an answer is about sd / sqrt(prediction_draws), with sd its spread over
        the posterior: at most 0.035 for a probability at the default, and far less for
        points that are clearly in one cluster (``convergence_`` tells how well the
        chains mixed). The posterior summaries, :meth:`waic`, :meth:`loo`,
        :meth:`sample` and the information criteria use every draw. Read at prediction
        time, so it can be changed on a fitted estimator.
    random_state : int, RandomState instance or None, default=None
        Seeds k-means initialisation and the sampler: the same value gives the same draws.
    verbose : int, default=0
        ``>= 1`` shows PyMC's progress bar and log lines.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        Posterior mean of the weights; with a noise component, of the Gaussian
        components' shares of the whole mixture, which with ``noise_weight_`` sum to 1.
        In a sparse fit, this and every attribute below
        that has one entry per component (``means_``, the covariance layouts,
        ``classes_``, ``labels_``, :meth:`predict_proba`, :meth:`predict`) describe the
        ``n_clusters_`` clusters instead, from the draws that have that many: cluster j
        is the j-th occupied component in the order of the means on ``order_feature_``,
        and its weight is renormalised over the clusters.
        :meth:`score_samples`, :meth:`score`, :meth:`loo`, :meth:`waic` and
        :meth:`sample` use the whole posterior.
    means_ : ndarray of shape (n_components, n_features)
        Posterior mean of the component means, ordered on ``order_feature_``.
    noise_weight_ : float
        With ``noise_component=True``: the posterior mean of the noise component's
        weight.
    t_degrees_of_freedom_ : ndarray of shape (n_components,) or float
        With ``distribution="student_t"``: the posterior mean of the degrees of freedom
        (one shared for the tied types), or their fixed value. ``covariances_`` and its
        relatives are then the components' scale matrices (a t's covariance is its scale
        times nu / (nu - 2) for nu > 2).
    n_clusters_posterior_ : ndarray of shape (n_components + 1,)
        Sparse fits only: the posterior probability that the data form m clusters
        (occupied components), at index m; :meth:`n_clusters_summary` tabulates it by
        chain, ``bayes_gmm.plotting.plot_n_clusters`` draws it.
    n_clusters_ : int
        Sparse fits only: the most probable number of clusters.
    covariances_ : ndarray
        Posterior mean of the covariances in scikit-learn's layout: (n_components,) for
        ``spherical``, (n_components, n_features) for ``diag``, (n_components, n_features,
        n_features) for ``full``, and the shared (n_features, n_features) matrix for
        ``tied`` and the tied diagonal types.
    precisions_ : ndarray
        Inverse of ``covariances_``, in the same layout.
    precisions_cholesky_ : ndarray
        Cholesky factor of ``precisions_`` in scikit-learn's convention
        (``precisions_ = U U^T``, U upper triangular; ``1 / sqrt(covariances_)`` for the
        spherical and diag layouts).
    labels_ : ndarray of shape (n_samples,)
        Modal posterior component of each training point, equal to ``predict(X)``.
    classes_ : ndarray of shape (n_components,) or (n_components + 1,)
        The labels ``predict`` returns, ``0, ..., n_components - 1`` and, with a noise
        component, -1, in the order of the columns of ``predict_proba``, as a
        classifier lists its classes (dask-ml's ``ParallelPostFit`` reads it).
    tune_ : int
        Warm-up iterations per chain that the fit ran.
    draws_ : int
        Draws per chain that the fit kept.
    n_temperatures_, split_merge_ : int, bool
        What the recorded run used, ``"auto"`` resolved.
    order_feature_ : int
        Feature on which the component means are ordered: the best separated one.
    min_weight_, mean_prior_loc_, mean_prior_scale_, sd_lower_, sd_upper_, sd_prior_scale_, \
covariance_prior_, degrees_of_freedom_prior_
        The prior values used, with data-dependent defaults resolved (``sd_upper_`` is
        infinite for the half-normal prior, ``sd_prior_scale_`` None for the uniform one;
        the sd values are None for the full types, the inverse-Wishart ones None for the
        diagonal types). They are echoed, with the sampler, in
        ``sample_trace_.posterior.attrs``.
    convergence_ : dict
        ``max_r_hat``, ``min_ess_bulk``, ``min_ess_tail`` over the weights, means and
        covariance parameters, ``worst_parameter`` (the entry with the largest R-hat, as
        ``"means[1, x0]"``), ``converged`` (every threshold below met),
        ``divergences`` and ``acceptance_rate`` (None for samplers without them). A
        :class:`~sklearn.exceptions.ConvergenceWarning` states them when R-hat > 1.01, an
        ESS < 400 or any divergence; another warns when the ordered means overlap. In
        a sparse fit they cover the clusters (each chain's draws with ``n_clusters_``
        clusters, cut to the shortest chain's count), the concentration, and the number
        of clusters, whose R-hat says whether the chains agree on it. A tempered fit
        (``n_temperatures > 1``) adds ``inverse_temperatures`` (each chain's ladder after
        warm-up), ``swap_rates`` (each neighbour pair's mean swap probability) and
        ``round_trips`` (each chain's count); a chain with no round trip warns.
        ``chain_modes`` says which mode of the posterior each chain sits in: its
        ``log_likelihood`` level (mean over 50 of its draws, categories summed out) and
        sd, the ``n_clusters`` its modal partition uses, and its ``mode``, a group number
        shared by chains with the same partition (adjusted Rand index >= 0.9) at the same
        level (within 3 sds). When the chains sit in different modes, the warning names
        them and what can carry chains between them.
    sample_trace_ : arviz.InferenceData
        ``posterior`` (``weights``, ``means``, ``sigma`` for the diagonal types or
        ``covariance`` with dims (component, feature, feature_bis) for the full ones, and,
        while n_samples * chains * draws <= 4 million, ``category`` as small integers;
        in a sparse fit also ``weight_concentration`` and ``component_counts``, the points
        in each component of each draw), ``log_likelihood`` (per point, categories summed
        out; kept under the same bound), ``sample_stats`` (in a tempered fit also
        ``inverse_temperature``, ``swap_probability``, NaN where a pair was not tried,
        and ``round_trips``, per draw) and ``observed_data``.
    model_ : pymc.Model
        The PyMC model that was sampled: the latent one (a category per point) for
        ``"gibbs"`` and ``"metropolis"``, the marginalised one for ``"nuts"``. Not pickled;
        rebuilt on first access.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.mixture.GaussianMixture : Maximum-likelihood fit by EM.
    sklearn.mixture.BayesianGaussianMixture : Variational Bayesian fit.

    Examples
    --------
    >>> import numpy as np
    >>> from bayes_gmm import BayesianMCMCMixture
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(-5, 1, 100), rng.normal(5, 1, 100)])[:, None]
    >>> est = BayesianMCMCMixture(n_components=2, draws=200, tune=200, random_state=0).fit(X)
    >>> est.means_.round(0).ravel().tolist()
    [-5.0, 5.0]
    >>> est.predict([[-4.0], [6.0]]).tolist()
    [0, 1]
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "weight_concentration": [StrOptions({"sparse"}), Interval(Real, 0, None, closed="neither")],
        "min_weight": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="left")],
        "mean_prior_loc": [None, Real, "array-like"],
        "mean_prior_scale": [None, Interval(Real, 0, None, closed="neither"), "array-like"],
        "sd_lower": [None, Interval(Real, 0, None, closed="left")],
        "sd_upper": [None, Interval(Real, 0, None, closed="neither")],
        "sd_prior": [StrOptions(set(SD_PRIORS))],
        "sd_prior_scale": [None, Interval(Real, 0, None, closed="neither")],
        "covariance_prior": [None, Interval(Real, 0, None, closed="neither"), "array-like"],
        "degrees_of_freedom_prior": [None, Interval(Real, 0, None, closed="neither")],
        "noise_component": ["boolean", "array-like"],
        "distribution": [StrOptions({"normal", "student_t"})],
        "t_degrees_of_freedom": [None, Interval(Real, 0, None, closed="neither")],
        "sampler": [StrOptions(set(SAMPLERS))],
        "nuts_sampler": [StrOptions(set(BACKENDS))],
        "draws": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_draws": [None, Interval(Integral, 1, None, closed="left")],
        "tune": [StrOptions({"auto"}), Interval(Integral, 0, None, closed="left")],
        "chains": [Interval(Integral, 1, None, closed="left")],
        "n_temperatures": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "split_merge": ["boolean", StrOptions({"auto"})],
        "prediction_draws": [StrOptions({"all"}), Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components=3,
        *,
        covariance_type="tied_diag",
        weight_concentration=1.0,
        min_weight="auto",
        mean_prior_loc=None,
        mean_prior_scale=None,
        sd_lower=None,
        sd_upper=None,
        sd_prior="uniform",
        sd_prior_scale=None,
        covariance_prior=None,
        degrees_of_freedom_prior=None,
        noise_component=False,
        distribution="normal",
        t_degrees_of_freedom=None,
        sampler="gibbs",
        nuts_sampler="pymc",
        draws="auto",
        max_draws=None,
        tune="auto",
        chains=2,
        n_temperatures=1,
        split_merge=False,
        prediction_draws=200,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.weight_concentration = weight_concentration
        self.min_weight = min_weight
        self.mean_prior_loc = mean_prior_loc
        self.mean_prior_scale = mean_prior_scale
        self.sd_lower = sd_lower
        self.sd_upper = sd_upper
        self.sd_prior = sd_prior
        self.sd_prior_scale = sd_prior_scale
        self.covariance_prior = covariance_prior
        self.degrees_of_freedom_prior = degrees_of_freedom_prior
        self.noise_component = noise_component
        self.distribution = distribution
        self.t_degrees_of_freedom = t_degrees_of_freedom
        self.sampler = sampler
        self.nuts_sampler = nuts_sampler
        self.draws = draws
        self.max_draws = max_draws
        self.tune = tune
        self.chains = chains
        self.n_temperatures = n_temperatures
        self.split_merge = split_merge
        self.prediction_draws = prediction_draws
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y=None, sample_weight=None):
        """Sample the posterior of the mixture given ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row. A whole number m stands for m repetitions
            of the row, each with a category of its own: the posterior is the one given
            the repeated rows, and the default ``sampler="gibbs"`` draws each row's
            category counts at the cost of one row. A fractional weight raises the row's
            likelihood to that power (``sampler="nuts"`` only): the posterior then
            behaves as if the data held sum(sample_weight) points, so rescaling every
            weight by c narrows or widens it as c times the data would, which is right
            for counts and wrong for survey weights that only say a row's relative
            importance (normalise those to sum to the number of rows). A row of weight 0
            counts as absent. The priors resolved from the data use the weights.

        Returns
        -------
        self : BayesianMCMCMixture
            The fitted estimator. A fit that fails leaves an earlier fit untouched.
        """
        self._validate_params()
        # Everything is fitted on a shallow copy and committed in one assignment, so an
        # error or an interrupt anywhere below leaves an earlier fit exactly as it was.
        staging = copy.copy(self)
        staging._fit(X, sample_weight)
        self.__dict__ = staging.__dict__
        return self

    def _fit(self, X, sample_weight):
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        feature_names = getattr(self, "feature_names_in_", np.arange(X.shape[1]))

        def report(trace, spec):
            # Each run's trace is reported once, though the fitting loop's rules may read
            # it twice.
            if getattr(self, "sample_trace_", None) is not trace:
                self._set_trace(trace, spec)
            return self.convergence_

        fit = fit_trace(X, self.get_params(), feature_names, sample_weight, report)
        self._set_point_summaries()
        self._model = fit.model
        self._fitted_params = self.get_params()
        spec = fit.spec
        name = (
            f"BayesianMCMCMixture(n_components={spec.n_components}, "
            f"covariance_type={spec.covariance_type!r})"
        )
        warn_if_not_converged(
            self.convergence_,
            self.chains,
            self.draws_,
            name,
            max_draws=fit.max_draws if self.draws == "auto" and self.sampler == "gibbs" else None,
            sparse=spec.sparse,
            crossing=mode_crossing_remedy(
                self.sampler, self.n_temperatures_, self.split_merge_, fit.crossing_tools
            ),
        )
        warn_if_ladder_does_not_connect(self.convergence_, name)
        warn_if_order_does_not_separate(
            self._cluster_draws()[1]["means"],
            spec.order_feature,
            np.asarray(feature_names).tolist()[spec.order_feature],
            name,
        )

    def _draw_budget(self):
        """Draws per chain of the first run, and the most that draws="auto" may reach."""
        return draw_budget(self.get_params())

    def _resolved_tune(self):
        return resolved_tune(self.get_params())

    def _set_posterior(self, trace, spec):
        """Every attribute derived from the trace: shared by fit and load."""
        self._set_trace(trace, spec)
        self._set_point_summaries()

    def _set_trace(self, trace, spec):
        """The trace, the resolved model, the clusters of a sparse fit and ``convergence_``:
        what ``draws="auto"`` reads after each run, before the point summaries are due."""
        self._spec = spec
        self.sample_trace_ = trace
        for name, value in run_attributes(trace, spec, self._resolved_tune()).items():
            setattr(self, name, value)

    def _set_point_summaries(self):
        """Posterior means, scikit-learn's covariance layouts, ``classes_`` and ``labels_``."""
        summaries = point_summaries(self._spec, self.sample_trace_.posterior, self._clusters)
        for name, value in summaries.items():
            setattr(self, name, value)
        self.labels_ = self.classes_[self._predict_proba(self._training_data()).argmax(axis=1)]

    def _cluster_draws(self):
        """The model the point summaries describe, and its draws: :func:`.cluster_draws`."""
        return cluster_draws(self._spec, self.sample_trace_.posterior, self._clusters)

    def _cluster_posteriors(self):
        """The cluster draws with their chains: :func:`.cluster_posteriors`."""
        return cluster_posteriors(self._spec, self.sample_trace_.posterior, self._clusters)

    def _training_data(self):
        return training_data(self.sample_trace_)

    def _training_weight(self):
        """The fit's sample weights, or None for an unweighted fit."""
        return training_weight(self.sample_trace_)

    def _trace_with_log_likelihood(self):
        if "log_likelihood" in self.sample_trace_.groups():
            return self.sample_trace_
        # Dropped at fit time to bound memory: computed for this call only.
        trace = self.sample_trace_
        log_likelihood = log_likelihood_dataset(
            self._training_data(),
            trace.posterior,
            self._spec,
            trace.observed_data["sample"],
            self._training_weight(),
        )
        return az.InferenceData(
            posterior=self.sample_trace_.posterior, log_likelihood=log_likelihood
        )

    def waic(self, **kwargs):
        """Widely applicable information criterion of the fit, by :func:`arviz.waic`.

        Uses the pointwise log-likelihood with the categories summed out, so it compares
        mixtures with different ``n_components`` on the same data.

        Parameters
        ----------
        **kwargs
            Passed to :func:`arviz.waic` (``scale``, ``pointwise`` ...).

        Returns
        -------
        elpd : arviz.ELPDData
            ArviZ's result: ``elpd_waic``, its standard error ``se``, ``p_waic`` ...
        """
        check_is_fitted(self)
        return az.waic(self._trace_with_log_likelihood(), **kwargs)

    def loo(self, **kwargs):
        """Pareto-smoothed importance-sampling leave-one-out CV, by :func:`arviz.loo`.

        Parameters
        ----------
        **kwargs
            Passed to :func:`arviz.loo` (``scale``, ``pointwise`` ...).

        Returns
        -------
        elpd : arviz.ELPDData
            ArviZ's result: ``elpd_loo``, its standard error ``se``, ``p_loo``, the
            Pareto k diagnostics ...
        """
        check_is_fitted(self)
        return az.loo(self._trace_with_log_likelihood(), **kwargs)

    def _plug_in_log_likelihood(self, X):
        """log L at the posterior mean weights, means and covariances, and its data."""
        X = self._check_fitted_data(X)
        spec, values = self._cluster_draws()
        plug_in = plug_in_draws(spec, values, self)
        return float(pointwise_log_likelihood(X, plug_in).sum()), X.shape[0], spec

    def bic(self, X):
        """Bayesian information criterion at the posterior means; lower is better.

        A plug-in approximation for comparison with
        :meth:`sklearn.mixture.GaussianMixture.bic`: ``-2 log L(theta_hat) + p log n``
        with ``theta_hat`` the posterior mean weights, means and covariances and p the
        number of free parameters. :meth:`loo` is the fully Bayesian comparison.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data whose likelihood is evaluated, usually the training data.

        Returns
        -------
        bic : float
            The criterion; lower is better.
        """
        log_likelihood, n_samples, spec = self._plug_in_log_likelihood(X)
        return -2 * log_likelihood + spec.n_free_parameters * np.log(n_samples)

    def aic(self, X):
        """Akaike information criterion at the posterior means; lower is better.

        ``-2 log L(theta_hat) + 2 p``, as :meth:`sklearn.mixture.GaussianMixture.aic`, at
        the same plug-in estimate as :meth:`bic`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data whose likelihood is evaluated, usually the training data.

        Returns
        -------
        aic : float
            The criterion; lower is better.
        """
        log_likelihood, _, spec = self._plug_in_log_likelihood(X)
        return -2 * log_likelihood + 2 * spec.n_free_parameters

    def sample(self, n_samples=1):
        """Draw samples from the posterior predictive distribution.

        Each sample takes a posterior draw of the parameters at random, a component from
        its weights and a point from that component; like
        :meth:`sklearn.mixture.GaussianMixture.sample`, the same ``random_state`` gives
        the same samples.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to draw.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples.
        y : ndarray of shape (n_samples,)
            The component of each sample.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples={n_samples!r} must be a positive integer.")
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        return sample_predictive(
            np.random.default_rng(seed), self._posterior_draws(), n_samples, self._spec.noise_box
        )

    def impute(self, X, n_imputations=None):
        """Fill in the missing entries (NaN) of ``X`` from the posterior: imputation that
        respects the clusters.

        Given a row's observed entries, its missing ones follow a mixture: over the
        posterior draws, and over the components with the probabilities that the observed
        entries give them, of each component's Gaussian conditional on the observed
        entries. Every entry is imputed from its own row's cluster, not from a pooled
        regression as :class:`~sklearn.impute.IterativeImputer` does. Observed entries
        are returned as they are.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with missing entries (NaN): the training data or new rows.
        n_imputations : int, default=None
            None for the posterior mean of each missing entry, over ``prediction_draws``
            posterior draws. An integer m for m completed copies of ``X``, each from one
            posterior draw (evenly spaced over the chains): multiple imputation in Rubin's
            sense, whose spread carries the uncertainty about the parameters as well as
            about the entries. The estimator's ``random_state`` seeds them, as in
            :meth:`sample`.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features), or (n_imputations, \
n_samples, n_features)
            ``X`` with its missing entries filled in.
        """
        X = self._check_fitted_data(X)
        if n_imputations is None:
            draws = self._posterior_draws(self._n_prediction_draws())
            return imputed_means(X, draws, self._spec.noise_box)
        if not isinstance(n_imputations, Integral) or n_imputations < 1:
            raise ValueError(f"n_imputations={n_imputations!r} must be a positive integer or None.")
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        draws = self._posterior_draws(n_imputations)
        return imputed_draws(np.random.default_rng(seed), X, draws, self._spec.noise_box)

    def save(self, path):
        """Save the fit as a netCDF file: the trace, parameters, resolved model, versions.

        No pickle is involved: :meth:`load` reads arrays and JSON only. A
        ``RandomState`` instance as ``random_state`` is saved as None.

        Parameters
        ----------
        path : str or path-like
            File to write, conventionally ending in ``.nc``; an existing one is replaced.
        """
        check_is_fitted(self)
        save_fit(
            self.sample_trace_,
            path,
            self._fitted_params,
            self._spec,
            getattr(self, "feature_names_in_", None),
        )

    @classmethod
    def load(cls, path):
        """Load a fit written by :meth:`save`.

        Raises ValueError for a file that is not one of ours, and warns when it was
        written with other versions of bayes_gmm, pymc, arviz or scikit-learn.

        Parameters
        ----------
        path : str or path-like
            A file written by :meth:`save`.

        Returns
        -------
        estimator : BayesianMCMCMixture
            The fitted estimator, with the parameters it was fitted with.
        """
        trace, params, spec, feature_names = load_fit(path)
        estimator = cls(**params)
        estimator._fitted_params = estimator.get_params()
        spec = MixtureSpec.from_dict(spec)
        estimator.n_features_in_ = spec.n_features
        if feature_names is not None:
            estimator.feature_names_in_ = np.asarray(feature_names, dtype=object)
        estimator._set_posterior(trace, spec)
        return estimator

    def summary(self, **kwargs):
        """ArviZ's summary table of the weights, means and covariance parameters.

        Rows are named by component and feature coordinates, e.g. ``means[1, x0]``. In a
        sparse fit they are the clusters' (``means[1, x0]`` is cluster 1), from the draws
        with ``n_clusters_`` clusters, followed by ``n_clusters`` and
        ``weight_concentration`` over every draw.

        Parameters
        ----------
        **kwargs
            Passed to :func:`arviz.summary` (``hdi_prob``, ``kind``, ``round_to`` ...).

        Returns
        -------
        summary : pandas.DataFrame
            One row per parameter entry; by default mean, sd, HDI, MCSE, ESS and R-hat.
        """
        check_is_fitted(self)
        if self._clusters is not None:
            import pandas as pd

            # The number of clusters may never change within a chain: no R-hat then.
            with np.errstate(divide="ignore", invalid="ignore"):
                tables = [az.summary(p, **kwargs) for p in self._cluster_posteriors()]
            return pd.concat(tables)
        return az.summary(self.sample_trace_, var_names=list(self._spec.parameter_names), **kwargs)

    def n_clusters_summary(self):
        """The posterior of the number of clusters of a sparse fit, as a table.

        Returns
        -------
        table : pandas.DataFrame
            One row per number of clusters that some draw has: ``probability`` (as in
            ``n_clusters_posterior_``), ``draws``, and the probability within each chain
            (``chain 0``, ...), which should agree when the chains mix.
        """
        check_is_fitted(self)
        if self._clusters is None:
            raise AttributeError(
                "n_clusters_summary needs a sparse fit: weight_concentration='sparse'."
            )
        counts = self.sample_trace_.posterior[COMPONENT_COUNTS].to_numpy()
        return n_clusters_table(counts, self._spec.n_components)

    @property
    def model_(self):
        """The PyMC model the fit sampled, rebuilt from the trace after unpickling.

        The latent model (a category per point) for ``"gibbs"`` and ``"metropolis"``, the
        marginalised one for ``"nuts"``.
        """
        check_is_fitted(self)
        if getattr(self, "_model", None) is None:
            from ._model import build_model, model_coords

            observed = self.sample_trace_.observed_data[OBSERVED]
            coords = model_coords(
                self._spec.n_components, observed["feature"].to_numpy(), observed.sizes["sample"]
            )
            sampler = self.sample_trace_.posterior.attrs["sampler"].split()[0]
            self._model = build_model(
                sampler, observed.to_numpy(), self._spec, coords, self._training_weight()
            )
        return self._model

    def __getstate__(self):
        # A PyMC model holds compiled functions; it is cheap to rebuild from the trace.
        # On Python >= 3.11 object.__getstate__ returns the live __dict__: copy before popping.
        state = dict(super().__getstate__())
        state.pop("_model", None)
        return state

    def _covariance_matrices(self):
        """Posterior mean covariance matrix of each component (each cluster in a sparse
        fit), (k, d, d)."""
        spec, values = self._cluster_draws()
        return spec.covariance.covariance_matrices(values[spec.covariance.trace_name])

    def _posterior_draws(self, n_draws=None):
        """Every posterior draw, or ``n_draws`` evenly spaced ones."""
        return draws_of(self.sample_trace_.posterior, self._spec, n_draws)

    def _n_prediction_draws(self):
        return None if self.prediction_draws == "all" else self.prediction_draws

    def _predict_proba(self, X):
        spec, values = self._cluster_draws()
        return category_probabilities(X, draws_of(values, spec, self._n_prediction_draws()))

    def _check_fitted_data(self, X):
        check_is_fitted(self)
        return validate_data(self, X, dtype=np.float64, reset=False, ensure_all_finite="allow-nan")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Missing entries (NaN) are marginalised exactly, in fit and in prediction.
        tags.input_tags.allow_nan = True
        return tags

    def predict_proba(self, X):
        """Posterior probability of each component for each point.

        The mean over ``prediction_draws`` posterior draws of P(z = c | x, theta_draw): on
        the training data, the posterior category frequencies, with the noise of sampled
        categories averaged out. Memory beyond ``X`` and the result stays bounded however
        many points are scored.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to assign.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_components) or (n_samples, n_components + 1)
            Rows sum to 1; with a noise component, the last column is noise's.
        """
        return self._predict_proba(self._check_fitted_data(X))

    def predict(self, X):
        """Modal posterior component of each point: the argmax of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to assign.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component index of each point, in ``classes_``: -1 for noise.
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def score_samples(self, X):
        """Log posterior predictive density of each point.

        log of the mean over ``prediction_draws`` posterior draws of
        sum_c w_c Normal(x | mu_c, Sigma_c), computed with log-sum-exp.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to score.

        Returns
        -------
        log_density : ndarray of shape (n_samples,)
            Natural log of the density at each point.
        """
        return log_predictive_density(
            self._check_fitted_data(X), self._posterior_draws(self._n_prediction_draws())
        )

    def score(self, X, y=None, sample_weight=None):
        """Mean log posterior predictive density of ``X``; higher is better.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points to score.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each point: the mean is weighted by them.

        Returns
        -------
        score : float
            The (weighted) mean of :meth:`score_samples` over the points.
        """
        log_density = self.score_samples(X)
        weight = check_sample_weight(sample_weight, log_density.shape[0])
        return float(np.average(log_density, weights=weight))
