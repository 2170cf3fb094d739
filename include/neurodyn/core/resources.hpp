#pragma once
/// \file resources.hpp
/// Checks made before a large allocation or a parallel region, so that an absurd request
/// (`--trials 99999999999`, a .npy header declaring 2^62 rows, 100000 threads) ends in an
/// `invalid_parameter` naming the parameter instead of `std::bad_alloc`, a length error or a
/// crash deep inside the run.
///
/// \code
/// // trials × steps × populations doubles, refused if they cannot fit in this machine's memory
/// neurodyn::require_allocation("trials", trials, {std::uint64_t(trials), steps, 4}, sizeof(double));
/// neurodyn::require_thread_count("threads", threads);   // 0 = OpenMP default
/// \endcode
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>

#include "neurodyn/core/error.hpp"

namespace neurodyn {

/// Physical memory of this machine in bytes (0 when the system does not say).
inline std::uint64_t physical_memory_bytes() noexcept {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0) return 0;
    return std::uint64_t(pages) * std::uint64_t(page);
}

/// The product of `counts` times `bytes_each`, or 0 with `overflow` set when it does not fit
/// in 64 bits.
inline std::uint64_t checked_bytes(std::initializer_list<std::uint64_t> counts, std::uint64_t bytes_each,
                                   bool& overflow) noexcept {
    overflow = false;
    std::uint64_t total = bytes_each;
    for (std::uint64_t c : counts) {
        if (c != 0 && total > UINT64_MAX / c) {
            overflow = true;
            return 0;
        }
        total *= c;
    }
    return total;
}

/// Throw `invalid_parameter` naming `parameter` (shown with `value`) unless an array of
/// product(`counts`) elements of `bytes_each` bytes fits in this machine's physical memory.
template <class V>
void require_allocation(std::string_view parameter, const V& value, std::initializer_list<std::uint64_t> counts,
                        std::uint64_t bytes_each) {
    bool overflow = false;
    const std::uint64_t bytes = checked_bytes(counts, bytes_each, overflow);
    const std::uint64_t limit = physical_memory_bytes();
    if (overflow || (limit != 0 && bytes > limit)) {
        const std::string need =
            overflow ? std::string("more than 2^64 bytes") : std::to_string(bytes / (1u << 20)) + " MiB";
        throw invalid_parameter(parameter, detail::to_text(value),
                                "needs " + need + " of memory, more than this machine has (" +
                                    std::to_string(limit / (1u << 20)) + " MiB)");
    }
}

/// The most threads a parallel region may be asked for: 8 per hardware thread, at least 64.
inline int max_thread_count() noexcept {
    const unsigned hw = std::thread::hardware_concurrency();
    const unsigned bound = hw == 0 ? 64u : 8u * hw;
    return int(bound < 64u ? 64u : bound);
}

/// A thread count: 0 (the OpenMP default) up to max_thread_count().
inline void require_thread_count(std::string_view parameter, int threads) {
    require(threads >= 0 && threads <= max_thread_count(), parameter, threads,
            "must be 0 (the OpenMP default) or a count up to " + std::to_string(max_thread_count()));
}

}  // namespace neurodyn
