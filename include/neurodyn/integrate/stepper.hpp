#pragma once
/// \file stepper.hpp
/// The Stepper concept lives in concepts/stepper.hpp; this header is kept so that existing
/// includes keep working.
#include "neurodyn/concepts/stepper.hpp"
