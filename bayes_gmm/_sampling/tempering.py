"""Parallel tempering (replica exchange) of the Gibbs sweep: the ladder, swaps, round trips.

Pure NumPy. Replica t targets p(w, theta) p(z | w) p(x | z, theta)^beta_t, with beta_0 = 1
the posterior (the chain that is recorded) and beta decreasing up the ladder. The swap of
whole states between temperatures s and t is a Metropolis move on the product of the
replicas' targets: the priors and p(z | w) are the same at every temperature and cancel,
leaving min(1, exp((beta_s - beta_t) (L_t - L_s))), with L = log p(x | z, theta) the
complete-data log-likelihood of each state.

Swaps follow the deterministic even-odd scheme (Okabe et al. 2001; Syed, Bouchard-Côté,
Deligiannidis and Doucet, JRSS B 2022): even iterations try the pairs (0, 1), (2, 3), ...,
odd ones (1, 2), (3, 4), .... Each swap leaves the product invariant, so their alternation
does too, and a state then travels the ladder in one direction while its swaps succeed
instead of diffusing back and forth, which multiplies the round trips.

During warm-up the ladder adapts to ``TARGET_SWAP_RATE`` (Miasojedow, Moulines and Vihola,
J. Comput. Graph. Stat. 2013): log beta_(t+1) = log beta_t - exp(rho_t), with rho_t
raised by a decreasing step times (swap probability - target) after each try of the pair
(t, t + 1). After warm-up the ladder is fixed, so the recorded chain is an exact MCMC
chain of the posterior.
"""

import numpy as np

# Swap rate the ladder adapts to between neighbours. A rate of 0.2-0.4 is the usual target
# for exchanges of whole states (0.234 for Atchade, Roberts and Rosenthal's criterion
# 2011): a higher rate spends the replicas on a shorter ladder, a lower one stretches it
# further towards the prior at the price of fewer round trips.
TARGET_SWAP_RATE = 0.3
# What a tempered chain records of each draw after warm-up, in its trace's sample_stats:
# the ladder (temperature), each neighbour pair's swap probability (NaN where the pair was
# not tried: the even-odd scheme tries half of them per sweep), and the round trips
# completed.
TEMPERING_STATS = ("inverse_temperature", "swap_probability", "round_trips")
TEMPERING_DIMS = {
    "inverse_temperature": ("temperature",),
    "swap_probability": ("temperature_pair",),
    "round_trips": (),
}
# Robbins-Monro step of the n-th try of a pair: n^-0.6, decreasing fast enough for the
# ladder to settle within a warm-up of a few hundred sweeps, slowly enough to get there.
_ADAPTATION_DECAY = 0.6


def initial_log_gaps(n_temperatures, n_samples, n_features):
    """Starting rho (log of the gaps in log beta) of a ladder of ``n_temperatures``.

    The complete-data log-likelihood of n points in d dimensions fluctuates by about
    sqrt(n d / 2) (a chi-square's sd): a gap in beta of 1 / sqrt(n d / 2) changes the
    swap ratio by about one unit, near the target rate; warm-up adapts it from there.
    """
    gap = 1.0 / np.sqrt(max(n_samples * n_features / 2.0, 1.0))
    return np.full(n_temperatures - 1, np.log(gap))


def inverse_temperatures(log_gaps):
    """beta_0 = 1, beta_(t+1) = beta_t exp(-exp(rho_t)): a decreasing ladder in (0, 1]."""
    return np.exp(-np.concatenate([[0.0], np.cumsum(np.exp(log_gaps))]))


def swap_probability(beta_cold, beta_hot, log_likelihood_cold, log_likelihood_hot):
    """Acceptance probability of exchanging the states of two temperatures."""
    log_ratio = (beta_cold - beta_hot) * (log_likelihood_hot - log_likelihood_cold)
    return float(np.exp(min(0.0, log_ratio)))


class Ladder:
    """The replicas' exchange bookkeeping for one chain: which state sits at which
    temperature, the swaps, the round trips and the ladder's adaptation.

    ``walker[t]`` is the identity of the state at temperature t; ``heading[w]`` is +1 for a
    state that has reached the coldest temperature and not the hottest since, -1 for one
    that has then reached the hottest, 0 before it first reaches the coldest. A round trip
    is a state's return to the coldest temperature after the hottest.
    """

    def __init__(self, log_gaps):
        n = log_gaps.shape[0] + 1
        self.log_gaps = np.array(log_gaps, dtype=float)
        self.betas = inverse_temperatures(self.log_gaps)
        self.walker = np.arange(n)
        self.heading = np.zeros(n, dtype=int)
        self.heading[0] = 1
        self.tries = np.zeros(n - 1, dtype=int)
        self.iteration = 0

    def swap(self, rng, log_likelihoods, adapt):
        """Try the even-odd scheme's swaps of this iteration.

        ``log_likelihoods[t]`` is the complete-data log-likelihood of the state at
        temperature t. Returns the permutation that moves the states (the new state at t
        is the old one at ``order[t]``), each pair's swap probability (NaN for pairs not
        tried), and the round trips completed.
        """
        n = self.betas.shape[0]
        order = np.arange(n)
        probability = np.full(n - 1, np.nan)
        for t in range(self.iteration % 2, n - 1, 2):
            p = swap_probability(
                self.betas[t], self.betas[t + 1], log_likelihoods[t], log_likelihoods[t + 1]
            )
            probability[t] = p
            if rng.random() < p:
                order[[t, t + 1]] = order[[t + 1, t]]
        self.walker = self.walker[order]
        round_trips = self._track()
        if adapt:
            self._adapt(probability)
        self.iteration += 1
        return order, probability, round_trips

    def _track(self):
        coldest, hottest = self.walker[0], self.walker[-1]
        round_trip = int(self.heading[coldest] == -1)
        self.heading[coldest] = 1
        if self.heading[hottest] == 1:
            self.heading[hottest] = -1
        return round_trip

    def _adapt(self, probability):
        tried = ~np.isnan(probability)
        self.tries[tried] += 1
        step = self.tries[tried].astype(float) ** -_ADAPTATION_DECAY
        self.log_gaps[tried] += step * (probability[tried] - TARGET_SWAP_RATE)
        self.betas = inverse_temperatures(self.log_gaps)
