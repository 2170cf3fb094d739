#pragma once
/// \file concepts.hpp
/// The model concepts live in concepts/model.hpp (below both models/ and integrate/); this
/// header is kept so that existing includes keep working.
#include "neurodyn/concepts/model.hpp"
