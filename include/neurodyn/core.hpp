#pragma once
/// \file core.hpp
/// Everything in `core/`: aliases, errors, resource checks, time grid, epochs, RNG streams, atomic files.
#include "neurodyn/core/atomic_file.hpp"
#include "neurodyn/core/epochs.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/resources.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/time_grid.hpp"
#include "neurodyn/core/types.hpp"
