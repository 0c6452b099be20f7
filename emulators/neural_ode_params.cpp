// The neural ODE case's parameter checks and option names (emulators/neural_ode.hpp,
// emulators/neural_ode_names.hpp): light, no LibTorch call, so that the aeolus launcher checks a
// case file without loading LibTorch.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "emulators/neural_ode.hpp"
#include "emulators/neural_ode_names.hpp"
#include "emulators/param_text.hpp"
#include "grids/error.hpp"
#include "solvers/ode_adaptive.hpp"

namespace aeolus::emulators {

namespace {

const std::vector<std::string> kActivations = {"tanh", "relu", "softplus", "silu"};

template <class T>
std::string str(const T& v) {
  return detail::param_str(v);
}
using detail::bad_value;

}  // namespace

void check_activation_name(const std::string& name, const std::string& key) {
  if (std::find(kActivations.begin(), kActivations.end(), name) == kActivations.end())
    throw_unknown_choice(key, name, kActivations);
}

// ---------------------------------------------------------------------------------------------
// Names.

OdeGradient ode_gradient_from_name(const std::string& name, const std::string& key) {
  if (name == "backprop") return OdeGradient::backprop;
  if (name == "adjoint") return OdeGradient::adjoint;
  throw_unknown_choice(key, name, {"backprop", "adjoint"});
}
std::string ode_gradient_name(OdeGradient g) {
  return g == OdeGradient::backprop ? "backprop" : "adjoint";
}
OdeRegulariser ode_regulariser_from_name(const std::string& name, const std::string& key) {
  if (name == "none") return OdeRegulariser::none;
  if (name == "ernode") return OdeRegulariser::ernode;
  if (name == "srnode") return OdeRegulariser::srnode;
  throw_unknown_choice(key, name, {"none", "ernode", "srnode"});
}
std::string ode_regulariser_name(OdeRegulariser r) {
  switch (r) {
    case OdeRegulariser::none:
      return "none";
    case OdeRegulariser::ernode:
      return "ernode";
    case OdeRegulariser::srnode:
      return "srnode";
  }
  return "?";
}

void check_spiral_ode_params(const SpiralOdeParams& p) {
  if (p.points < 2) bad_value("dataset.points", str(p.points), ">= 2");
  if (!(p.t_end > 0.0)) bad_value("dataset.t_end", str(p.t_end), "> 0");
  if (!(p.noise >= 0.0)) bad_value("dataset.noise", str(p.noise), ">= 0");
  if (!(p.rtol > 0.0)) bad_value("dataset.rtol", str(p.rtol), "> 0");
  if (!(p.atol > 0.0)) bad_value("dataset.atol", str(p.atol), "> 0");
  for (double v : {p.y0[0], p.y0[1], p.y0_test[0], p.y0_test[1]})
    if (!std::isfinite(v)) bad_value("dataset.y0", str(v), "finite values");
}

void check_neural_ode_params(const NeuralOdeModelParams& m, const NeuralOdeTrainingParams& t,
                             const SpiralOdeParams& spiral) {
  if (m.hidden.empty()) bad_value("model.hidden", "[]", "at least one hidden width");
  for (int w : m.hidden)
    if (w < 1) bad_value("model.hidden", str(w), "widths >= 1");
  check_activation_name(m.activation, "model.activation");
  rk_method_from_name(m.method, "model.method");
  if (!(m.rtol > 0.0)) bad_value("model.rtol", str(m.rtol), "> 0");
  if (!(m.atol > 0.0)) bad_value("model.atol", str(m.atol), "> 0");
  if (t.iterations < 1) bad_value("training.iterations", str(t.iterations), ">= 1");
  if (t.batch_time < 2 || t.batch_time >= spiral.points)
    bad_value("training.batch_time", str(t.batch_time),
              "2 <= batch_time < dataset.points = " + str(spiral.points));
  if (t.batch_size < 1 || t.batch_size > spiral.points - t.batch_time)
    bad_value(
        "training.batch_size", str(t.batch_size),
        "1 <= batch_size <= dataset.points - batch_time = " + str(spiral.points - t.batch_time));
  if (t.optimizer != "rmsprop" && t.optimizer != "adam")
    throw_unknown_choice("training.optimizer", t.optimizer, {"rmsprop", "adam"});
  if (!(t.learning_rate > 0.0)) bad_value("training.learning_rate", str(t.learning_rate), "> 0");
  const OdeGradient g = ode_gradient_from_name(t.gradient, "training.gradient");
  const OdeRegulariser r = ode_regulariser_from_name(t.regulariser, "training.regulariser");
  if (r != OdeRegulariser::none && g == OdeGradient::adjoint)
    throw ConfigError("training.regulariser = '" + t.regulariser +
                      "' needs training.gradient = 'backprop' (got 'adjoint')");
  if (!(t.lambda0 >= 0.0)) bad_value("training.lambda0", str(t.lambda0), ">= 0");
  if (!(t.lambda_decay > 0.0 && t.lambda_decay <= 1.0))
    bad_value("training.lambda_decay", str(t.lambda_decay), "in (0, 1]");
  if (t.threads < 1) bad_value("training.threads", str(t.threads), ">= 1");
  if (t.log_every < 1) bad_value("training.log_every", str(t.log_every), ">= 1");
}

}  // namespace aeolus::emulators
