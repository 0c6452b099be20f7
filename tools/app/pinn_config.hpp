#pragma once
// The configuration of a PINN case (physics.equation: pinn).

#include "emulators/pinn.hpp"
#include "tools/app/case_config.hpp"

namespace aeolus::app {

// physics.equation: pinn (tools/app/pinn_case.cpp): the PDE, the network, its training and
// evaluation, all in emulators::PinnParams.
struct PinnCaseConfig : CaseSettings {
  emulators::PinnParams pinn;
};

}  // namespace aeolus::app
