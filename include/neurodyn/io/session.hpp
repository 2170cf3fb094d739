#pragma once
/// \file session.hpp
/// `Session` lives in data/session.hpp (analyses do not depend on io/); this header is kept so
/// that existing includes keep working.
#include "neurodyn/data/session.hpp"
