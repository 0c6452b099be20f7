#pragma once
// Version (a compile definition from CMake) and git hash (a header generated at every build).
#ifndef AEOLUS_VERSION
#define AEOLUS_VERSION "unknown"
#endif
#include "aeolus_git_hash.hpp"  // generated at build time (cmake/git_hash.cmake)
