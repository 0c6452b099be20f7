#pragma once
// The application layer's API in one include: reading cases (case_type.hpp), the subcommands
// and the stepper registry (case_commands.hpp), case models (case_model.hpp). Tests and coupled
// codes include this.
#include "tools/app/case_commands.hpp"
#include "tools/app/case_model.hpp"
#include "tools/app/case_type.hpp"
