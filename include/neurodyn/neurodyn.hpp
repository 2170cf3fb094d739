#pragma once
/// \file neurodyn.hpp
/// Umbrella header: everything except the MATLAB loader (which needs matio; include
/// <neurodyn/io/matlab_session.hpp> and link neurodyn::matio).
#include "neurodyn/core.hpp"
