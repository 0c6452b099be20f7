#pragma once
// The names of the neural ODE options (internal to emulators/, torch-free): the activations of
// an Mlp and the gradient and regulariser choices of odeint (emulators/neural_ode_impl.hpp),
// defined in neural_ode_params.cpp, which the case checks use without LibTorch.
#include <string>

namespace aeolus::emulators {

// ConfigError naming `key` for an activation name Mlp does not know.
void check_activation_name(const std::string& name, const std::string& key);

enum class OdeGradient { backprop, adjoint };
enum class OdeRegulariser { none, ernode, srnode };
// Names "backprop", "adjoint" and "none", "ernode", "srnode"; ConfigError naming `key` otherwise.
OdeGradient ode_gradient_from_name(const std::string& name, const std::string& key = "gradient");
std::string ode_gradient_name(OdeGradient g);
OdeRegulariser ode_regulariser_from_name(const std::string& name,
                                         const std::string& key = "regulariser");
std::string ode_regulariser_name(OdeRegulariser r);

}  // namespace aeolus::emulators
