#pragma once
/// \file ensemble.hpp
/// Trial ensembles that give the same numbers on any number of threads.
///
/// Two rules make that so: (1) every random number of trial k comes from streams keyed by
/// (seed, k, purpose) — `trial_rng` — never from a generator shared between trials; (2) results
/// are combined in trial order. `for_each_trial` runs trials in fixed-size batches: the
/// trials of a batch run in parallel (OpenMP, when enabled), each writing to its own slot,
/// then `reduce` is called serially for the batch's trials in increasing order. Memory is
/// bounded by the batch (the caller owns `batch` slots), whatever the number of trials.
///
/// \code
/// std::vector<TrialSummary> slots(256);
/// neurodyn::for_each_trial(n_trials, slots.size(),
///     [&](long k, std::size_t slot) { slots[slot] = run_trial(neurodyn::trial_rng(seed, k, 0)); },
///     [&](long k, std::size_t slot) { total += slots[slot].value; },  // in trial order
///     {.threads = 2});
/// \endcode
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <vector>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/resources.hpp"
#include "neurodyn/core/rng.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace neurodyn {

/// The stream of trial `trial` for `purpose` (0 = fast noise, 1 = stimulus, …).
inline Rng trial_rng(std::uint64_t seed, long trial, std::uint64_t purpose) {
    return Rng(seed, std::uint64_t(trial), purpose);
}

/// Number of threads an ensemble would use for `threads` (0 = the OpenMP default; 1 without OpenMP).
/// Throws invalid_parameter for a negative or absurd count (see require_thread_count).
inline int ensemble_threads(int threads = 0) {
    require_thread_count("threads", threads);
#ifdef _OPENMP
    return threads > 0 ? threads : omp_get_max_threads();
#else
    (void)threads;
    return 1;
#endif
}

struct EnsembleOptions {
    int threads = 0;  ///< 0: OpenMP default (OMP_NUM_THREADS); 1: serial
    /// Called after each batch with (trials done, total), serially: progress reports.
    std::function<void(long, long)> progress = {};
};

/// Run `simulate(k, slot)` for k = 0 … n_trials−1 in batches of `batch` trials (parallel within
/// a batch; slot = k mod batch), then `reduce(k, slot)` for the batch in increasing k. The first
/// exception thrown by any trial is rethrown after the batch (the lowest trial's, so the same
/// one on any thread count).
template <class Simulate, class Reduce>
void for_each_trial(long n_trials, std::size_t batch, Simulate&& simulate, Reduce&& reduce,
                    const EnsembleOptions& options = {}) {
    require(n_trials >= 0, "n_trials", n_trials, "must be >= 0");
    require(batch >= 1, "batch", batch, "must be >= 1");
    const int threads = ensemble_threads(options.threads);
    std::vector<std::exception_ptr> errors(batch);
    for (long first = 0; first < n_trials; first += long(batch)) {
        const long count = std::min<long>(long(batch), n_trials - first);
        std::fill(errors.begin(), errors.end(), nullptr);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
#endif
        for (long j = 0; j < count; ++j) {
            try {
                simulate(first + j, std::size_t(j));
            } catch (...) {
                errors[std::size_t(j)] = std::current_exception();
            }
        }
        for (long j = 0; j < count; ++j)
            if (errors[std::size_t(j)]) std::rethrow_exception(errors[std::size_t(j)]);
        for (long j = 0; j < count; ++j) reduce(first + j, std::size_t(j));
        if (options.progress) options.progress(first + count, n_trials);
    }
    (void)threads;
}

}  // namespace neurodyn
