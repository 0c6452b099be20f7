// CO2 transport emulators (emulators/co2_models.hpp, emulators/co2_models_impl.hpp).
#include "emulators/co2_models.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <utility>

#include "emulators/array_model_impl.hpp"
#include "emulators/co2_models_impl.hpp"
#include "emulators/device_impl.hpp"
#include "emulators/model_archive.hpp"
#include "emulators/param_text.hpp"
#include "grids/error.hpp"

namespace aeolus::emulators {

using torch::Tensor;

namespace {

constexpr const char* kFormatName = "aeolus.co2_model";
constexpr const char* kKind = "Aeolus CO2 transport model";
// Bumped whenever the saved layout or the meaning of a saved value changes.
constexpr std::int64_t kFormatVersion = 2;  // 2: inputs.co2_products
constexpr double kPi = 3.14159265358979323846;

// unet.lat_padding (as co2_params.cpp's check_co2_model_params lists them).
const std::vector<std::string> kLatPaddings = {"fold", "replicate"};

template <class T>
std::string str(const T& v) {
  return detail::param_str(v);
}
using detail::bad_value;

std::string join(const std::vector<std::string>& v, char sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? std::string(1, sep) : "") + v[i];
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

std::vector<int> unet_channels(const Co2UnetParams& u) {
  std::vector<int> ch(std::size_t(u.depth) + 1);
  long long c = u.base_channels;
  for (int l = 0; l <= u.depth; ++l) {
    ch[std::size_t(l)] = int(std::min<long long>(c, u.max_channels));
    c *= 2;
  }
  return ch;
}

int swin_hidden(const Co2SwinParams& s) {
  return std::max(1, int(std::lround(s.mlp_ratio * s.embed_dim)));
}

// The raw field of a sample by name (cell_area included).
const std::vector<double>& step_field(const Co2StepInput& in, const std::string& name) {
  static const std::map<std::string, std::vector<double> Co2StepInput::*> members = {
      {"q", &Co2StepInput::q},
      {"airmass", &Co2StepInput::airmass},
      {"airmass_next", &Co2StepInput::airmass_next},
      {"u", &Co2StepInput::u},
      {"v", &Co2StepInput::v},
      {"omega", &Co2StepInput::omega},
      {"u_next", &Co2StepInput::u_next},
      {"v_next", &Co2StepInput::v_next},
      {"omega_next", &Co2StepInput::omega_next},
      {"blh", &Co2StepInput::blh},
      {"tisr", &Co2StepInput::tisr},
      {"co2flux_land", &Co2StepInput::co2flux_land},
      {"co2flux_ocean", &Co2StepInput::co2flux_ocean},
      {"co2flux_anthro", &Co2StepInput::co2flux_anthro},
      {"cell_area", &Co2StepInput::cell_area}};
  const auto it = members.find(name);
  if (it == members.end()) throw ModelError("CO2 step input has no field '" + name + "'");
  return in.*(it->second);
}

// ModelError unless `in` carries every field the model needs, with the right size.
void check_step_input(const Co2StepInput& in, const Co2ModelParams& p, const std::string& where) {
  const Co2Shape s{p.inputs.nlev, p.inputs.nlat, p.inputs.nlon};
  const auto need = [&](const std::string& name, std::size_t n, const std::string& what) {
    const std::size_t got = step_field(in, name).size();
    if (got != n)
      throw ModelError(where + ": field '" + name + "' has " + str(got) + " values; expected " +
                       what + " = " + str(n));
  };
  const std::string d3 = "nlev*nlat*nlon", d2 = "nlat*nlon";
  for (const char* f : {"q", "airmass", "airmass_next"}) need(f, s.cells3d(), d3);
  for (const char* f : {"co2flux_land", "co2flux_ocean", "co2flux_anthro"})
    need(f, s.cells2d(), d2);
  need("cell_area", std::size_t(s.nlat), "nlat");
  for (const auto& f : p.inputs.fields3d) need(f, s.cells3d(), d3);
  for (const auto& f : p.inputs.fields2d)
    if (f != "cell_area") need(f, s.cells2d(), d2);
  if (!(in.dt > 0.0) || !std::isfinite(in.dt))
    throw ModelError(where + ": dt = " + str(in.dt) + "; expected a positive step in seconds");
}

// Mean and sum of squared deviations of a block (two passes).
std::pair<double, double> block_moments(const double* x, std::size_t n, std::size_t stride = 1) {
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += x[i * stride];
  const double mean = sum / double(n);
  double m2 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = x[i * stride] - mean;
    m2 += d * d;
  }
  return {mean, m2};
}

double finite_std(double m2, double n, double mean) {
  const double sd = std::sqrt(m2 / n);
  // A constant channel (or one of round-off noise) carries no information: scale 1.
  if (!(sd > 1e-12 * std::abs(mean)) || !std::isfinite(sd)) return 1.0;
  return sd;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Parameters (the presets and checks are in co2_params.cpp).

std::vector<std::string> co2_input_channel_names(const Co2ModelParams& p) {
  std::vector<std::string> names;
  for (int l = 0; l < p.inputs.nlev; ++l) names.push_back("co2[" + str(l) + "]");
  for (const auto& f : p.inputs.fields3d)
    for (int l = 0; l < p.inputs.nlev; ++l) names.push_back(f + "[" + str(l) + "]");
  for (const auto& f : p.inputs.fields2d) names.push_back(f);
  for (const auto& f : p.inputs.co2_products)
    for (int l = 0; l < p.inputs.nlev; ++l) names.push_back("co2*" + f + "[" + str(l) + "]");
  return names;
}

std::size_t co2_stat_channel_count(const Co2ModelParams& p) {
  return p.inputs.fields3d.size() * std::size_t(p.inputs.nlev) + p.inputs.fields2d.size();
}

int co2_output_channels(const Co2ModelParams& p) {
  return p.conservation == "flux_form" ? 3 * p.inputs.nlev - 1 : p.inputs.nlev;
}

double co2_model_forward_macs(const Co2ModelParams& p) {
  const double cin = double(co2_input_channel_names(p).size());
  const double cout = co2_output_channels(p);
  const double cells = double(p.inputs.nlat) * p.inputs.nlon;
  double macs = 0;
  if (p.arch == "unet") {
    const auto ch = unet_channels(p.unet);
    const auto block = [](double a, double b, double n) {
      return 9 * a * b * n + 9 * b * b * n + (a != b ? a * b * n : 0.0);
    };
    for (int l = 0; l <= p.unet.depth; ++l) {
      const double n = cells / std::pow(4.0, l);
      for (int b = 0; b < p.unet.blocks; ++b) {
        const double a = b > 0 ? ch[l] : (l == 0 ? cin : ch[l - 1]);
        macs += block(a, ch[l], n);
        if (l < p.unet.depth) macs += block(b > 0 ? ch[l] : ch[l + 1] + ch[l], ch[l], n);
      }
    }
    macs += ch[0] * cout * cells;
  } else {
    const auto& s = p.swin;
    const double d = s.embed_dim, pp = double(s.patch) * s.patch, t = cells / pp;
    const double n = double(s.window_lat) * s.window_lon, hid = swin_hidden(s);
    macs += cin * pp * d * t;
    macs += s.depth * (t * (4 * d * d + 2 * d * hid) + 2 * t * n * d);
    macs += t * d * cout * pp;
  }
  return macs;
}

// ---------------------------------------------------------------------------------------------
// Statistics.

void check_co2_norm_stats(const Co2NormStats& s, const Co2ModelParams& p) {
  const auto names = co2_input_channel_names(p);
  const std::size_t nin = co2_stat_channel_count(p);
  const auto sized = [](const char* what, const std::vector<double>& v, std::size_t n,
                        const std::string& of) {
    if (v.size() != n)
      throw ModelError(std::string("CO2 normalisation statistics: ") + what + " has " +
                       str(v.size()) + " values; expected " + str(n) + " (" + of + ")");
  };
  sized("input_mean", s.input_mean, nin, "the non-CO2 input channels");
  sized("input_std", s.input_std, nin, "the non-CO2 input channels");
  sized("increment_mean", s.increment_mean, std::size_t(p.inputs.nlev), "nlev");
  sized("increment_std", s.increment_std, std::size_t(p.inputs.nlev), "nlev");
  const auto positive = [](const std::string& what, double v) {
    if (!(v > 0.0) || !std::isfinite(v))
      throw ModelError("CO2 normalisation statistics: " + what + " = " + str(v) +
                       "; expected a positive, finite scale");
  };
  const auto finite = [](const std::string& what, double v) {
    if (!std::isfinite(v))
      throw ModelError("CO2 normalisation statistics: " + what + " = " + str(v) +
                       "; expected a finite value");
  };
  positive("co2_scale", s.co2_scale);
  finite("co2_mean", s.co2_mean);
  for (std::size_t c = 0; c < nin; ++c) {
    const std::string& name = names[std::size_t(p.inputs.nlev) + c];
    positive("input_std[" + str(c) + "] (" + name + ")", s.input_std[c]);
    finite("input_mean[" + str(c) + "] (" + name + ")", s.input_mean[c]);
  }
  for (int l = 0; l < p.inputs.nlev; ++l) {
    positive("increment_std[" + str(l) + "]", s.increment_std[std::size_t(l)]);
    finite("increment_mean[" + str(l) + "]", s.increment_mean[std::size_t(l)]);
  }
}

void Co2StatsAccumulator::Moments::merge(double n_b, double mean_b, double m2_b) {
  if (n_b <= 0) return;
  if (n <= 0) {
    n = n_b;
    mean = mean_b;
    m2 = m2_b;
    return;
  }
  const double total = n + n_b, delta = mean_b - mean;
  mean += delta * n_b / total;
  m2 += m2_b + delta * delta * n * n_b / total;
  n = total;
}

Co2StatsAccumulator::Co2StatsAccumulator(const Co2ModelParams& p) : params_(p) {
  check_co2_model_params(p);
  inputs_.resize(co2_stat_channel_count(p));
  increments_.resize(std::size_t(p.inputs.nlev));
}

void Co2StatsAccumulator::add(const Co2StepInput& in, const std::vector<double>& q_next) {
  const Co2ModelParams& p = params_;
  check_step_input(in, p, "CO2 statistics");
  const Co2Shape s{p.inputs.nlev, p.inputs.nlat, p.inputs.nlon};
  const std::size_t n3 = s.cells3d(), n2 = s.cells2d();
  if (q_next.size() != n3)
    throw ModelError("CO2 statistics: q_next has " + str(q_next.size()) +
                     " values; expected nlev*nlat*nlon = " + str(n3));
  {
    const auto [mean, m2] = block_moments(in.q.data(), n3);
    co2_raw_.merge(double(n3), mean, m2);
    // Centring moves the block mean to zero and leaves its spread.
    co2_centred_.merge(double(n3), 0.0, m2);
  }
  std::size_t c = 0;
  for (const auto& f : p.inputs.fields3d) {
    const auto& v = step_field(in, f);
    for (int l = 0; l < s.nlev; ++l, ++c) {
      const auto [mean, m2] = block_moments(v.data() + std::size_t(l) * n2, n2);
      inputs_[c].merge(double(n2), mean, m2);
    }
  }
  for (const auto& f : p.inputs.fields2d) {
    if (f == "cell_area") {
      // Every longitude of a row has the row's area.
      const auto [mean, m2] = block_moments(in.cell_area.data(), std::size_t(s.nlat));
      inputs_[c++].merge(double(n2), mean, m2 * s.nlon);
    } else {
      const auto [mean, m2] = block_moments(step_field(in, f).data(), n2);
      inputs_[c++].merge(double(n2), mean, m2);
    }
  }
  std::vector<double> inc(n2);
  for (int l = 0; l < s.nlev; ++l) {
    const std::size_t off = std::size_t(l) * n2;
    for (std::size_t i = 0; i < n2; ++i) inc[i] = q_next[off + i] - in.q[off + i];
    if (l == s.nlev - 1) {
      for (int j = 0; j < s.nlat; ++j)
        for (int i = 0; i < s.nlon; ++i) {
          const std::size_t c2 = std::size_t(j) * s.nlon + i;
          const double f = in.co2flux_land[c2] + in.co2flux_ocean[c2] + in.co2flux_anthro[c2];
          inc[c2] -= f * in.cell_area[j] * in.dt / in.airmass_next[off + c2];
        }
    }
    const auto [mean, m2] = block_moments(inc.data(), n2);
    increments_[std::size_t(l)].merge(double(n2), mean, m2);
  }
  ++samples_;
}

void Co2StatsAccumulator::merge(const Co2StatsAccumulator& o) {
  if (o.inputs_.size() != inputs_.size() || o.increments_.size() != increments_.size())
    throw ModelError("CO2 statistics: cannot merge accumulators of different model inputs");
  co2_raw_.merge(o.co2_raw_.n, o.co2_raw_.mean, o.co2_raw_.m2);
  co2_centred_.merge(o.co2_centred_.n, o.co2_centred_.mean, o.co2_centred_.m2);
  for (std::size_t c = 0; c < inputs_.size(); ++c)
    inputs_[c].merge(o.inputs_[c].n, o.inputs_[c].mean, o.inputs_[c].m2);
  for (std::size_t l = 0; l < increments_.size(); ++l)
    increments_[l].merge(o.increments_[l].n, o.increments_[l].mean, o.increments_[l].m2);
  samples_ += o.samples_;
}

Co2NormStats Co2StatsAccumulator::finish() const {
  if (samples_ == 0) throw ModelError("CO2 statistics: no training sample was added");
  Co2NormStats s;
  s.samples = samples_;
  s.co2_mean = co2_raw_.mean;
  const Moments& scale = params_.inputs.centre_co2 ? co2_centred_ : co2_raw_;
  s.co2_scale = finite_std(scale.m2, scale.n, co2_raw_.mean);
  for (const auto& m : inputs_) {
    s.input_mean.push_back(m.mean);
    s.input_std.push_back(finite_std(m.m2, m.n, m.mean));
  }
  for (const auto& m : increments_) {
    s.increment_mean.push_back(m.mean);
    s.increment_std.push_back(finite_std(m.m2, m.n, m.mean));
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Batches.

const Tensor& Co2Batch::field(const std::string& name) const {
  static const std::map<std::string, Tensor Co2Batch::*> members = {
      {"q", &Co2Batch::q},
      {"airmass", &Co2Batch::airmass},
      {"airmass_next", &Co2Batch::airmass_next},
      {"u", &Co2Batch::u},
      {"v", &Co2Batch::v},
      {"omega", &Co2Batch::omega},
      {"u_next", &Co2Batch::u_next},
      {"v_next", &Co2Batch::v_next},
      {"omega_next", &Co2Batch::omega_next},
      {"blh", &Co2Batch::blh},
      {"tisr", &Co2Batch::tisr},
      {"co2flux_land", &Co2Batch::co2flux_land},
      {"co2flux_ocean", &Co2Batch::co2flux_ocean},
      {"co2flux_anthro", &Co2Batch::co2flux_anthro},
      {"cell_area", &Co2Batch::cell_area}};
  const auto it = members.find(name);
  if (it == members.end()) throw ModelError("Co2Batch has no field '" + name + "'");
  const Tensor& t = this->*(it->second);
  if (!t.defined())
    throw ModelError("Co2Batch: field '" + name + "' is not in the batch, but the model needs it");
  return t;
}

Tensor Co2Batch::total_flux() const {
  return field("co2flux_land") + field("co2flux_ocean") + field("co2flux_anthro");
}

Co2Batch Co2Batch::to(const torch::Device& device) const {
  Co2Batch b = *this;
  for (Tensor* t : {&b.q, &b.airmass, &b.airmass_next, &b.u, &b.v, &b.omega, &b.u_next, &b.v_next,
                    &b.omega_next, &b.blh, &b.tisr, &b.co2flux_land, &b.co2flux_ocean,
                    &b.co2flux_anthro, &b.cell_area})
    if (t->defined()) *t = t->to(device);
  return b;
}

Co2Batch make_co2_batch(const std::vector<const Co2StepInput*>& samples, const Co2Shape& shape,
                        const torch::Device& device) {
  if (samples.empty()) throw ModelError("make_co2_batch: no samples");
  const auto b = std::int64_t(samples.size());
  const Co2StepInput& first = *samples[0];
  const auto stack = [&](std::vector<double> Co2StepInput::*member, const char* name,
                         bool three_d) -> Tensor {
    if ((first.*member).empty()) return Tensor();
    const std::size_t n = three_d ? shape.cells3d() : shape.cells2d();
    Tensor t = three_d ? torch::empty({b, shape.nlev, shape.nlat, shape.nlon}, torch::kFloat64)
                       : torch::empty({b, shape.nlat, shape.nlon}, torch::kFloat64);
    double* dst = t.data_ptr<double>();
    for (std::int64_t i = 0; i < b; ++i) {
      const auto& v = (*samples[std::size_t(i)]).*member;
      if (v.size() != n)
        throw ModelError("make_co2_batch: sample " + str(i) + " field '" + name + "' has " +
                         str(v.size()) + " values; expected " + str(n));
      std::memcpy(dst + std::size_t(i) * n, v.data(), n * sizeof(double));
    }
    return t.to(device);
  };
  Co2Batch out;
  out.q = stack(&Co2StepInput::q, "q", true);
  out.airmass = stack(&Co2StepInput::airmass, "airmass", true);
  out.airmass_next = stack(&Co2StepInput::airmass_next, "airmass_next", true);
  out.u = stack(&Co2StepInput::u, "u", true);
  out.v = stack(&Co2StepInput::v, "v", true);
  out.omega = stack(&Co2StepInput::omega, "omega", true);
  out.u_next = stack(&Co2StepInput::u_next, "u_next", true);
  out.v_next = stack(&Co2StepInput::v_next, "v_next", true);
  out.omega_next = stack(&Co2StepInput::omega_next, "omega_next", true);
  out.blh = stack(&Co2StepInput::blh, "blh", false);
  out.tisr = stack(&Co2StepInput::tisr, "tisr", false);
  out.co2flux_land = stack(&Co2StepInput::co2flux_land, "co2flux_land", false);
  out.co2flux_ocean = stack(&Co2StepInput::co2flux_ocean, "co2flux_ocean", false);
  out.co2flux_anthro = stack(&Co2StepInput::co2flux_anthro, "co2flux_anthro", false);
  for (const char* f : {"q", "airmass", "airmass_next"}) (void)out.field(f);
  if (first.cell_area.size() != std::size_t(shape.nlat))
    throw ModelError("make_co2_batch: cell_area has " + str(first.cell_area.size()) +
                     " values; expected nlat = " + str(shape.nlat));
  out.cell_area = torch::tensor(first.cell_area, torch::kFloat64).to(device);
  out.dt = first.dt;
  for (const auto* s : samples)
    if (s->dt != first.dt)
      throw ModelError("make_co2_batch: samples with different dt (" + str(first.dt) + ", " +
                       str(s->dt) + " s)");
  return out;
}

// ---------------------------------------------------------------------------------------------
// Conservation, differentiable.

Tensor co2_mass(const Tensor& q, const Tensor& airmass) { return (q * airmass).sum({1, 2, 3}); }

Tensor co2_surface_source_mass(const Co2Batch& b) {
  return (b.total_flux() * b.cell_area.view({1, -1, 1}) * b.dt).sum({1, 2});
}

Tensor co2_surface_source_field(const Co2Batch& b) {
  const Tensor& m = b.field("airmass_next");
  const auto nlev = m.size(1);
  const Tensor bottom =
      (b.total_flux() * b.cell_area.view({1, -1, 1}) * b.dt / m.select(1, nlev - 1)).unsqueeze(1);
  return torch::cat({torch::zeros_like(m.narrow(1, 0, nlev - 1)), bottom}, 1);
}

Tensor co2_add_surface_flux(const Tensor& q, const Co2Batch& b) {
  return q + co2_surface_source_field(b);
}

Tensor co2_fix_mass_scale(const Tensor& q, const Tensor& airmass_next, const Tensor& target) {
  return q * (target / co2_mass(q, airmass_next)).view({-1, 1, 1, 1});
}

Tensor co2_fix_mass_shift(const Tensor& q, const Tensor& airmass_next, const Tensor& target) {
  const Tensor offset = (target - co2_mass(q, airmass_next)) / airmass_next.sum({1, 2, 3});
  return q + offset.view({-1, 1, 1, 1});
}

Tensor co2_flux_form_update(const Tensor& q, const Tensor& airmass, const Tensor& airmass_next,
                            const Tensor& fx, const Tensor& fy, const Tensor& fz) {
  const auto nlat = q.size(2);
  // In through the west face (the east face of i - 1, periodic), out through the east face.
  Tensor div = torch::roll(fx, {1}, {3}) - fx;
  const Tensor fy_inner = fy.narrow(2, 0, nlat - 1);
  const Tensor no_row = torch::zeros_like(fy.narrow(2, 0, 1));
  div = div + torch::cat({no_row, fy_inner}, 2) - torch::cat({fy_inner, no_row}, 2);
  const Tensor no_level = torch::zeros_like(q.narrow(1, 0, 1));
  div = div + torch::cat({no_level, fz}, 1) - torch::cat({fz, no_level}, 1);
  return (q * airmass + div) / airmass_next;
}

Tensor co2_latitude_weights(int nlat, const torch::TensorOptions& options) {
  const Tensor j = torch::arange(nlat, options.dtype(torch::kFloat64));
  const Tensor w = torch::cos((-90.0 + (j + 0.5) * (180.0 / nlat)) * (kPi / 180.0));
  return (w / w.mean()).to(options);
}

Tensor co2_latitude_weighted_mse(const Tensor& a, const Tensor& b, const Tensor& w_lat) {
  return ((a - b).square() * w_lat.view({1, 1, -1, 1})).mean();
}

// ---------------------------------------------------------------------------------------------
// Sphere padding and Swin windows.

Tensor co2_pad_sphere(const Tensor& x, int p, const std::string& lat_padding) {
  if (p <= 0) return x;
  const auto h = x.size(2), w = x.size(3);
  Tensor south, north;
  if (lat_padding == "fold") {
    // Row -r lies across the south pole from row r - 1, half a circle away in longitude.
    south = torch::roll(x.narrow(2, 0, p).flip({2}), {w / 2}, {3});
    north = torch::roll(x.narrow(2, h - p, p).flip({2}), {w / 2}, {3});
  } else if (lat_padding == "replicate") {
    south = x.narrow(2, 0, 1).expand({-1, -1, p, -1});
    north = x.narrow(2, h - 1, 1).expand({-1, -1, p, -1});
  } else {
    throw_unknown_choice("unet.lat_padding", lat_padding, kLatPaddings);
  }
  const Tensor y = torch::cat({south, x, north}, 2);
  return torch::cat({y.narrow(3, w - p, p), y, y.narrow(3, 0, p)}, 3);
}

Tensor co2_window_partition(const Tensor& x, int wh, int ww) {
  const auto b = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
  return x.reshape({b, h / wh, wh, w / ww, ww, c})
      .permute({0, 1, 3, 2, 4, 5})
      .reshape({-1, std::int64_t(wh) * ww, c});
}

Tensor co2_window_reverse(const Tensor& windows, int wh, int ww, std::int64_t h, std::int64_t w) {
  const auto c = windows.size(2);
  return windows.reshape({-1, h / wh, w / ww, wh, ww, c})
      .permute({0, 1, 3, 2, 4, 5})
      .reshape({-1, h, w, c});
}

Tensor co2_shift_mask(std::int64_t h, std::int64_t w, int wh, int ww, int shift_lat) {
  if (shift_lat <= 0) return Tensor();
  // After rolling by -shift_lat rows, the last window row holds rows from the north edge and,
  // below them in the window, rows from the south edge: three regions that must not mix.
  std::vector<float> label(static_cast<std::size_t>(h));
  for (std::int64_t r = 0; r < h; ++r)
    label[std::size_t(r)] = r < h - wh ? 0.0f : (r < h - shift_lat ? 1.0f : 2.0f);
  const Tensor img = torch::tensor(label).view({1, h, 1, 1}).expand({1, h, w, 1}).contiguous();
  const Tensor windows = co2_window_partition(img, wh, ww).squeeze(-1);  // [nW, N]
  const Tensor diff = windows.unsqueeze(1) - windows.unsqueeze(2);
  return torch::where(diff != 0, torch::full_like(diff, -100.0f), torch::zeros_like(diff));
}

// ---------------------------------------------------------------------------------------------
// Networks.

namespace {

int group_count(int channels) {
  for (int g : {8, 4, 2})
    if (channels % g == 0) return g;
  return 1;
}

// conv3x3 - GroupNorm - GELU - conv3x3 - GroupNorm, plus the input (1x1 conv if the width
// changes), then GELU; the halos come from co2_pad_sphere. GroupNorm rather than CarbonBench's
// BatchNorm: a one-sample step in the stepper and data-parallel ranks then see the same
// normalisation as training.
class Co2ResBlock : public torch::nn::Module {
 public:
  Co2ResBlock(int in, int out, const std::string& lat_padding) : lat_padding_(lat_padding) {
    using torch::nn::Conv2dOptions;
    using torch::nn::GroupNormOptions;
    conv1_ = register_module("conv1", torch::nn::Conv2d(Conv2dOptions(in, out, 3)));
    norm1_ =
        register_module("norm1", torch::nn::GroupNorm(GroupNormOptions(group_count(out), out)));
    conv2_ = register_module("conv2", torch::nn::Conv2d(Conv2dOptions(out, out, 3)));
    norm2_ =
        register_module("norm2", torch::nn::GroupNorm(GroupNormOptions(group_count(out), out)));
    if (in != out) skip_ = register_module("skip", torch::nn::Conv2d(Conv2dOptions(in, out, 1)));
  }
  Tensor forward(const Tensor& x) {
    Tensor h = torch::gelu(norm1_(conv1_(co2_pad_sphere(x, 1, lat_padding_))));
    h = norm2_(conv2_(co2_pad_sphere(h, 1, lat_padding_)));
    return torch::gelu(h + (skip_.is_empty() ? x : skip_(x)));
  }

 private:
  std::string lat_padding_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, skip_{nullptr};
  torch::nn::GroupNorm norm1_{nullptr}, norm2_{nullptr};
};

// U-Net: `depth` times [blocks, 2x2 average pool], widths doubling up to max_channels; back up
// with nearest 2x upsampling, concatenation of the skip and blocks; a 1x1 head. Periodic in
// longitude at every level (a roll by a multiple of 2^depth cells commutes with the network).
class Co2UNet : public Co2Network {
 public:
  Co2UNet(const Co2ModelParams& p, int in, int out) {
    const auto& u = p.unet;
    const auto ch = unet_channels(u);
    enc_.resize(std::size_t(u.depth) + 1);
    dec_.resize(std::size_t(u.depth));
    for (int l = 0; l <= u.depth; ++l)
      for (int b = 0; b < u.blocks; ++b) {
        const int a = b > 0 ? ch[l] : (l == 0 ? in : ch[l - 1]);
        enc_[l].push_back(register_module("enc" + str(l) + "_" + str(b),
                                          std::make_shared<Co2ResBlock>(a, ch[l], u.lat_padding)));
      }
    for (int l = u.depth - 1; l >= 0; --l)
      for (int b = 0; b < u.blocks; ++b) {
        const int a = b > 0 ? ch[l] : ch[l + 1] + ch[l];
        dec_[l].push_back(register_module("dec" + str(l) + "_" + str(b),
                                          std::make_shared<Co2ResBlock>(a, ch[l], u.lat_padding)));
      }
    head_ = register_module("head", torch::nn::Conv2d(torch::nn::Conv2dOptions(ch[0], out, 1)));
  }
  Tensor forward(const Tensor& x) override {
    std::vector<Tensor> skips;
    Tensor h = x;
    for (std::size_t l = 0; l < enc_.size(); ++l) {
      if (l > 0) h = torch::avg_pool2d(h, {2, 2});
      for (auto& b : enc_[l]) h = b->forward(h);
      if (l + 1 < enc_.size()) skips.push_back(h);
    }
    namespace F = torch::nn::functional;
    for (std::size_t l = dec_.size(); l-- > 0;) {
      h = F::interpolate(h, F::InterpolateFuncOptions()
                                .scale_factor(std::vector<double>{2.0, 2.0})
                                .mode(torch::kNearest));
      h = torch::cat({h, skips[l]}, 1);
      for (auto& b : dec_[l]) h = b->forward(h);
    }
    return head_(h);
  }

 private:
  std::vector<std::vector<std::shared_ptr<Co2ResBlock>>> enc_, dec_;
  torch::nn::Conv2d head_{nullptr};
};

void init_linear(torch::nn::Linear& l) {
  torch::NoGradGuard no_grad;
  l->weight.normal_(0.0, 0.02).clamp_(-0.04, 0.04);
  if (l->bias.defined()) l->bias.zero_();
}

// Swin block (pre-norm, Liu et al. 2021): window attention with a learned relative position
// bias per head, then an MLP. Shifted blocks roll the tokens by half a window: in longitude
// with no mask (the sphere is periodic there), in latitude with Swin's mask, so no window mixes
// rows from both poles.
class Co2SwinBlock : public torch::nn::Module {
 public:
  Co2SwinBlock(int dim, int heads, int hidden, int wh, int ww, std::int64_t ht, std::int64_t wt,
               int shift_lat, int shift_lon)
      : heads_(heads), wh_(wh), ww_(ww), shift_lat_(shift_lat), shift_lon_(shift_lon) {
    using torch::nn::LayerNormOptions;
    norm1_ = register_module("norm1", torch::nn::LayerNorm(LayerNormOptions({dim})));
    qkv_ = register_module("qkv", torch::nn::Linear(dim, 3 * dim));
    proj_ = register_module("proj", torch::nn::Linear(dim, dim));
    norm2_ = register_module("norm2", torch::nn::LayerNorm(LayerNormOptions({dim})));
    fc1_ = register_module("fc1", torch::nn::Linear(dim, hidden));
    fc2_ = register_module("fc2", torch::nn::Linear(hidden, dim));
    for (auto* l : {&qkv_, &proj_, &fc1_, &fc2_}) init_linear(*l);
    bias_table_ = register_parameter("bias_table",
                                     torch::randn({(2 * wh - 1) * (2 * ww - 1), heads}).mul_(0.02));
    // index[(a1, b1), (a2, b2)] = (a1 - a2 + wh - 1) * (2 ww - 1) + (b1 - b2 + ww - 1).
    const int n = wh * ww;
    std::vector<std::int64_t> index(std::size_t(n) * n);
    for (int t1 = 0; t1 < n; ++t1)
      for (int t2 = 0; t2 < n; ++t2)
        index[std::size_t(t1) * n + t2] =
            (t1 / ww - t2 / ww + wh - 1) * (2 * ww - 1) + (t1 % ww - t2 % ww + ww - 1);
    rel_index_ = register_buffer("rel_index", torch::tensor(index, torch::kInt64));
    if (shift_lat > 0) mask_ = register_buffer("mask", co2_shift_mask(ht, wt, wh, ww, shift_lat));
  }

  // x [B, Ht, Wt, D].
  Tensor forward(const Tensor& x) {
    const auto ht = x.size(1), wt = x.size(2);
    const bool shifted = shift_lat_ > 0 || shift_lon_ > 0;
    Tensor h = norm1_(x);
    if (shifted) h = torch::roll(h, {-shift_lat_, -shift_lon_}, {1, 2});
    h = co2_window_reverse(attention(co2_window_partition(h, wh_, ww_)), wh_, ww_, ht, wt);
    if (shifted) h = torch::roll(h, {shift_lat_, shift_lon_}, {1, 2});
    const Tensor y = x + h;
    return y + fc2_(torch::gelu(fc1_(norm2_(y))));
  }

 private:
  // w [B * nW, N, D].
  Tensor attention(const Tensor& w) {
    const auto bw = w.size(0), n = w.size(1), d = w.size(2), hd = d / heads_;
    const Tensor qkv = qkv_(w).reshape({bw, n, 3, heads_, hd}).permute({2, 0, 3, 1, 4});
    const Tensor q = qkv[0] * (1.0 / std::sqrt(double(hd)));
    Tensor attn = torch::matmul(q, qkv[1].transpose(-2, -1));  // [B * nW, heads, N, N]
    const Tensor bias =
        bias_table_.index_select(0, rel_index_).view({n, n, heads_}).permute({2, 0, 1});
    attn = attn + bias.unsqueeze(0);
    if (mask_.defined()) {
      const auto nw = mask_.size(0);
      attn = (attn.view({bw / nw, nw, heads_, n, n}) + mask_.unsqueeze(1).unsqueeze(0))
                 .view({bw, heads_, n, n});
    }
    attn = torch::softmax(attn, -1);
    return proj_(torch::matmul(attn, qkv[2]).transpose(1, 2).reshape({bw, n, d}));
  }

  std::int64_t heads_;
  int wh_, ww_;
  std::int64_t shift_lat_, shift_lon_;
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Linear qkv_{nullptr}, proj_{nullptr}, fc1_{nullptr}, fc2_{nullptr};
  Tensor bias_table_, rel_index_, mask_;
};

// Swin Transformer, one flat stage as CarbonBench's (no patch merging: at 32 x 64 cells a
// merged 8 x 16 token grid holds only four 4 x 8 windows, and their flat Swin is their best
// model): non-overlapping patch embedding, a learned embedding per token row (latitude; rows
// differ physically, columns do not, so longitude equivariance stays exact), `depth` blocks
// alternating plain and shifted windows, and a linear head from each token to its p x p cells.
class Co2Swin : public Co2Network {
 public:
  Co2Swin(const Co2ModelParams& p, int in, int out) : patch_(p.swin.patch), out_(out) {
    const auto& s = p.swin;
    const std::int64_t ht = p.inputs.nlat / s.patch, wt = p.inputs.nlon / s.patch;
    using torch::nn::LayerNormOptions;
    embed_ = register_module(
        "embed",
        torch::nn::Conv2d(torch::nn::Conv2dOptions(in, s.embed_dim, s.patch).stride(s.patch)));
    embed_norm_ =
        register_module("embed_norm", torch::nn::LayerNorm(LayerNormOptions({s.embed_dim})));
    lat_embed_ = register_parameter("lat_embed",
                                    torch::randn({1, ht, 1, std::int64_t(s.embed_dim)}).mul_(0.02));
    for (int i = 0; i < s.depth; ++i) {
      const bool odd = i % 2 == 1;
      const int sl = odd && ht > s.window_lat ? s.window_lat / 2 : 0;
      const int sw = odd && wt > s.window_lon ? s.window_lon / 2 : 0;
      blocks_.push_back(register_module(
          "block" + str(i),
          std::make_shared<Co2SwinBlock>(s.embed_dim, s.heads, swin_hidden(s), s.window_lat,
                                         s.window_lon, ht, wt, sl, sw)));
    }
    head_norm_ =
        register_module("head_norm", torch::nn::LayerNorm(LayerNormOptions({s.embed_dim})));
    head_ = register_module("head", torch::nn::Linear(s.embed_dim, out * s.patch * s.patch));
    init_linear(head_);
  }
  Tensor forward(const Tensor& x) override {
    const auto b = x.size(0), h = x.size(2), w = x.size(3);
    Tensor t = embed_norm_(embed_(x).permute({0, 2, 3, 1})) + lat_embed_;
    for (auto& block : blocks_) t = block->forward(t);
    t = head_(head_norm_(t));  // [B, Ht, Wt, p * p * out]
    return t.reshape({b, h / patch_, w / patch_, patch_, patch_, out_})
        .permute({0, 5, 1, 3, 2, 4})
        .reshape({b, out_, h, w});
  }

 private:
  std::int64_t patch_, out_;
  torch::nn::Conv2d embed_{nullptr};
  torch::nn::LayerNorm embed_norm_{nullptr}, head_norm_{nullptr};
  torch::nn::Linear head_{nullptr};
  Tensor lat_embed_;
  std::vector<std::shared_ptr<Co2SwinBlock>> blocks_;
};

const std::map<std::string, Co2NetworkFactory>& network_registry() {
  static const std::map<std::string, Co2NetworkFactory> registry = {
      {"unet",
       [](const Co2ModelParams& p, int in, int out) -> std::shared_ptr<Co2Network> {
         return std::make_shared<Co2UNet>(p, in, out);
       }},
      {"swin",
       [](const Co2ModelParams& p, int in, int out) -> std::shared_ptr<Co2Network> {
         return std::make_shared<Co2Swin>(p, in, out);
       }},
  };
  return registry;
}

}  // namespace

std::shared_ptr<Co2Network> make_co2_network(const Co2ModelParams& p, int in, int out) {
  const auto it = network_registry().find(p.arch);
  if (it == network_registry().end()) throw_unknown_choice("arch", p.arch, co2_network_names());
  return it->second(p, in, out);
}

// ---------------------------------------------------------------------------------------------
// Co2Core.

Co2Core::Co2Core(const Co2ModelParams& params, const Co2NormStats& stats)
    : params_(params), stats_(stats) {
  check_co2_model_params(params_);
  check_co2_norm_stats(stats_, params_);
  shape_ = Co2Shape{params_.inputs.nlev, params_.inputs.nlat, params_.inputs.nlon};
  in_ = int(co2_input_channel_names(params_).size());
  out_ = co2_output_channels(params_);
  net_ = register_module("net", make_co2_network(params_, in_, out_));
}

Tensor Co2Core::per_level(const std::vector<double>& v, const Tensor& like) const {
  return torch::tensor(v, torch::kFloat64).to(like.device()).view({1, -1, 1, 1});
}

Tensor Co2Core::inputs(const Co2Batch& b) const {
  const Co2Shape s = shape_;
  const Tensor& q = b.field("q");
  std::vector<Tensor> parts;
  if (params_.inputs.centre_co2) {
    parts.push_back((q - q.mean({1, 2, 3}, true)) / stats_.co2_scale);
  } else {
    parts.push_back((q - stats_.co2_mean) / stats_.co2_scale);
  }
  std::map<std::string, Tensor> normalised3d;
  std::size_t c = 0;
  const auto slice = [&](std::size_t n, const std::vector<double>& v) {
    return std::vector<double>(v.begin() + std::ptrdiff_t(c), v.begin() + std::ptrdiff_t(c + n));
  };
  for (const auto& f : params_.inputs.fields3d) {
    const std::size_t n = std::size_t(s.nlev);
    parts.push_back((b.field(f) - per_level(slice(n, stats_.input_mean), q)) /
                    per_level(slice(n, stats_.input_std), q));
    normalised3d[f] = parts.back();
    c += n;
  }
  for (const auto& f : params_.inputs.fields2d) {
    const Tensor t = f == "cell_area"
                         ? b.field(f).view({1, 1, s.nlat, 1}).expand({q.size(0), 1, s.nlat, s.nlon})
                         : b.field(f).unsqueeze(1);
    parts.push_back((t - stats_.input_mean[c]) / stats_.input_std[c]);
    ++c;
  }
  for (const auto& f : params_.inputs.co2_products) parts.push_back(parts[0] * normalised3d.at(f));
  return torch::cat(parts, 1).to(torch::kFloat32);
}

Tensor Co2Core::forward(const Tensor& x) { return net_->forward(x); }

std::vector<Tensor> Co2Core::face_fluxes(const Co2Batch& b, const Tensor& out) const {
  const auto n = std::int64_t(shape_.nlev), nlat = std::int64_t(shape_.nlat);
  const Tensor y = out.to(torch::kFloat64);
  const Tensor& m = b.field("airmass");
  const Tensor sig = per_level(stats_.increment_std, m);
  const Tensor fx = y.narrow(1, 0, n) * sig * (0.5 * (m + torch::roll(m, {-1}, {3})));
  const Tensor my = 0.5 * (m.narrow(2, 0, nlat - 1) + m.narrow(2, 1, nlat - 1));
  const Tensor fy_inner = y.narrow(1, n, n).narrow(2, 0, nlat - 1) * sig * my;
  const Tensor fy = torch::cat({fy_inner, torch::zeros_like(fy_inner.narrow(2, 0, 1))}, 2);
  const Tensor sz = 0.5 * (sig.narrow(1, 0, n - 1) + sig.narrow(1, 1, n - 1));
  const Tensor mz = 0.5 * (m.narrow(1, 0, n - 1) + m.narrow(1, 1, n - 1));
  const Tensor fz = y.narrow(1, 2 * n, n - 1) * sz * mz;
  return {fx, fy, fz};
}

Tensor Co2Core::conserve(const Co2Batch& b, const Tensor& out, bool fixer) const {
  const Tensor& q = b.field("q");
  Tensor q_new;
  if (params_.conservation == "flux_form") {
    const auto f = face_fluxes(b, out);
    q_new = co2_flux_form_update(q, b.field("airmass"), b.field("airmass_next"), f[0], f[1], f[2]);
  } else {
    const Tensor y = out.to(torch::kFloat64);
    q_new = q + (y * per_level(stats_.increment_std, q) + per_level(stats_.increment_mean, q));
    if (fixer) {
      const Tensor target = co2_mass(q, b.field("airmass"));
      q_new = params_.conservation == "fixer_scale"
                  ? co2_fix_mass_scale(q_new, b.field("airmass_next"), target)
                  : co2_fix_mass_shift(q_new, b.field("airmass_next"), target);
    }
  }
  return co2_add_surface_flux(q_new, b);
}

Tensor Co2Core::step(const Co2Batch& b, bool fixer) {
  return conserve(b, forward(inputs(b)), fixer);
}

Tensor Co2Core::normalised_increment(const Co2Batch& b, const Tensor& q_new) const {
  const Tensor& q = b.field("q");
  return (q_new - q - co2_surface_source_field(b) - per_level(stats_.increment_mean, q)) /
         per_level(stats_.increment_std, q);
}

Tensor Co2Core::loss(const Co2Batch& b, const Tensor& q_next, bool fixer) {
  const Tensor w = co2_latitude_weights(shape_.nlat, b.q.options());
  return co2_latitude_weighted_mse(normalised_increment(b, step(b, fixer)),
                                   normalised_increment(b, q_next), w);
}

std::vector<Tensor> Co2Core::rollout(const std::vector<Co2Batch>& steps, bool fixer, bool detach) {
  std::vector<Tensor> out;
  if (steps.empty()) return out;
  Tensor q = steps[0].field("q");
  for (const Co2Batch& s : steps) {
    Co2Batch b = s;
    b.q = q;
    out.push_back(step(b, fixer));
    q = detach ? out.back().detach() : out.back();
  }
  return out;
}

Tensor Co2Core::rollout_loss(const std::vector<Co2Batch>& steps, const std::vector<Tensor>& q_true,
                             bool fixer, bool detach) {
  if (steps.empty() || steps.size() != q_true.size())
    throw ModelError("Co2Core::rollout_loss: " + str(steps.size()) + " steps and " +
                     str(q_true.size()) + " targets; expected as many of each, at least one");
  const Tensor w = co2_latitude_weights(shape_.nlat, steps[0].q.options());
  Tensor q = steps[0].field("q"), total;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    Co2Batch b = steps[i];
    b.q = q;
    const Tensor pred = step(b, fixer);
    const Tensor l = co2_latitude_weighted_mse(normalised_increment(b, pred),
                                               normalised_increment(b, q_true[i]), w);
    total = i == 0 ? l : total + l;
    q = detach ? pred.detach() : pred;
  }
  return total / double(steps.size());
}

// ---------------------------------------------------------------------------------------------
// Co2Model.

namespace {

// flux_form's face fluxes in double: the formulas of Co2Core::face_fluxes.
void face_fluxes(const Co2Shape& s, const double* y, const double* m,
                 const std::vector<double>& sigma, std::vector<double>& fx, std::vector<double>& fy,
                 std::vector<double>& fz) {
  const std::size_t n2 = s.cells2d(), n3 = s.cells3d();
  fx.assign(n3, 0.0);
  fy.assign(n3, 0.0);
  fz.assign(std::size_t(s.nlev - 1) * n2, 0.0);
  for (int k = 0; k < s.nlev; ++k)
    for (int j = 0; j < s.nlat; ++j)
      for (int i = 0; i < s.nlon; ++i) {
        const std::size_t c = std::size_t(k) * n2 + std::size_t(j) * s.nlon + i;
        const std::size_t east = c - i + (i == s.nlon - 1 ? 0 : i + 1);
        const double sig = sigma[std::size_t(k)];
        fx[c] = y[c] * sig * (0.5 * (m[c] + m[east]));
        if (j < s.nlat - 1) fy[c] = y[n3 + c] * sig * (0.5 * (m[c] + m[c + s.nlon]));
        if (k < s.nlev - 1)
          fz[c] = y[2 * n3 + c] * (0.5 * (sig + sigma[std::size_t(k) + 1])) *
                  (0.5 * (m[c] + m[c + n2]));
      }
}

torch::Device core_device(Co2Core& core) {
  const auto params = core.parameters();
  return params.empty() ? torch::Device(torch::kCPU) : params.front().device();
}

}  // namespace

Co2Model::Co2Model(const Co2ModelParams& params, const Co2NormStats& stats, std::uint64_t seed) {
  check_co2_model_params(params);
  check_co2_norm_stats(stats, params);
  torch::manual_seed(seed);
  core_ = std::make_shared<Co2Core>(params, stats);
}

Co2Model::Co2Model(std::shared_ptr<Co2Core> core) : core_(std::move(core)) {}
Co2Model::~Co2Model() = default;
Co2Model::Co2Model(Co2Model&&) noexcept = default;
Co2Model& Co2Model::operator=(Co2Model&&) noexcept = default;

const Co2ModelParams& Co2Model::params() const { return core_->params(); }
const Co2NormStats& Co2Model::stats() const { return core_->stats(); }
Co2Shape Co2Model::shape() const { return core_->shape(); }

long long Co2Model::parameter_count() const {
  long long n = 0;
  for (const auto& p : core_->parameters()) n += p.numel();
  return n;
}

void Co2Model::set_threads(int threads) {
  if (threads < 1) bad_value("threads", str(threads), ">= 1");
  core_->set_threads(threads);
}

void Co2Model::set_device(const std::string& device, const std::string& key) {
  core_->to(detail::torch_device(device, key));
}

std::string Co2Model::device() const { return core_device(*core_).str(); }

Co2StepOutput Co2Model::predict_step(const Co2StepInput& in) const {
  const Co2ModelParams& p = core_->params();
  const Co2NormStats& st = core_->stats();
  const Co2Shape s = core_->shape();
  check_step_input(in, p, "CO2 model step");
  if (std::abs(in.dt - p.dt) > 1e-9 * p.dt)
    throw ModelError("CO2 model step: dt = " + str(in.dt) + " s, but the model was trained for " +
                     str(p.dt) + " s steps");
  detail::ThreadScope threads(p.threads);
  torch::NoGradGuard no_grad;
  const bool training = core_->is_training();
  core_->eval();
  Tensor y;
  {
    const Co2Batch batch = make_co2_batch({&in}, s, core_device(*core_));
    y = core_->forward(core_->inputs(batch)).to(torch::kCPU, torch::kFloat64).contiguous();
  }
  core_->train(training);
  const double* out = y.data_ptr<double>();

  const std::size_t n2 = s.cells2d(), n3 = s.cells3d();
  std::vector<double> flux(n2);
  for (std::size_t c = 0; c < n2; ++c)
    flux[c] = in.co2flux_land[c] + in.co2flux_ocean[c] + in.co2flux_anthro[c];
  Co2StepOutput r;
  r.q.resize(n3);
  r.mass_before = co2_mass(s, in.q.data(), in.airmass.data());
  r.surface_source = co2_surface_source_mass(s, flux.data(), in.cell_area.data(), in.dt);
  if (p.conservation == "flux_form") {
    std::vector<double> fx, fy, fz;
    face_fluxes(s, out, in.airmass.data(), st.increment_std, fx, fy, fz);
    co2_flux_form_update(s, in.q.data(), in.airmass.data(), in.airmass_next.data(), fx.data(),
                         fy.data(), fz.data(), r.q.data());
  } else {
    for (std::size_t c = 0; c < n3; ++c) {
      const std::size_t k = c / n2;
      r.q[c] = in.q[c] + (out[c] * st.increment_std[k] + st.increment_mean[k]);
    }
    r.raw_mass_error = co2_mass(s, r.q.data(), in.airmass_next.data()) / r.mass_before - 1.0;
    if (p.conservation == "fixer_scale") {
      co2_fix_mass_scale(s, in.airmass_next.data(), r.mass_before, r.q.data());
    } else {
      co2_fix_mass_shift(s, in.airmass_next.data(), r.mass_before, r.q.data());
    }
  }
  co2_add_surface_flux(s, flux.data(), in.cell_area.data(), in.airmass_next.data(), in.dt,
                       r.q.data());
  for (std::size_t c = 0; c < n3; ++c)
    if (!std::isfinite(r.q[c]))
      throw NumericsError("CO2 model step: predicted q is " + str(r.q[c]) + " at cell " + str(c) +
                          " (level " + str(c / n2) + ")");
  r.mass_after = co2_mass(s, r.q.data(), in.airmass_next.data());
  return r;
}

void Co2Model::save(const std::string& path, const std::map<std::string, std::string>& info) const {
  torch::serialize::OutputArchive archive;
  core_->save(archive);
  const auto w = [&](const std::string& key, c10::IValue v) {
    archive.write("meta." + key, std::move(v));
  };
  const Co2ModelParams& p = core_->params();
  const Co2NormStats& s = core_->stats();
  w("format", std::string(kFormatName));
  w("version", kFormatVersion);
  w("preset", p.preset);
  w("arch", p.arch);
  w("conservation", p.conservation);
  w("dt", p.dt);
  w("threads", std::int64_t(p.threads));
  w("inputs.nlev", std::int64_t(p.inputs.nlev));
  w("inputs.nlat", std::int64_t(p.inputs.nlat));
  w("inputs.nlon", std::int64_t(p.inputs.nlon));
  w("inputs.fields3d", join(p.inputs.fields3d, ','));
  w("inputs.fields2d", join(p.inputs.fields2d, ','));
  w("inputs.centre_co2", p.inputs.centre_co2);
  w("inputs.co2_products", join(p.inputs.co2_products, ','));
  w("unet.base_channels", std::int64_t(p.unet.base_channels));
  w("unet.max_channels", std::int64_t(p.unet.max_channels));
  w("unet.depth", std::int64_t(p.unet.depth));
  w("unet.blocks", std::int64_t(p.unet.blocks));
  w("unet.lat_padding", p.unet.lat_padding);
  w("swin.embed_dim", std::int64_t(p.swin.embed_dim));
  w("swin.depth", std::int64_t(p.swin.depth));
  w("swin.heads", std::int64_t(p.swin.heads));
  w("swin.window_lat", std::int64_t(p.swin.window_lat));
  w("swin.window_lon", std::int64_t(p.swin.window_lon));
  w("swin.patch", std::int64_t(p.swin.patch));
  w("swin.mlp_ratio", p.swin.mlp_ratio);
  write_co2_stats(w, s);
  w("info.count", std::int64_t(info.size()));
  std::int64_t i = 0;
  for (const auto& [key, value] : info) {
    w("info.key." + str(i), key);
    w("info.value." + str(i), value);
    ++i;
  }
  detail::save_model_archive(archive, path);
}

Co2Model Co2Model::load(const std::string& path) {
  detail::ModelArchive file(path, kFormatName, kKind);
  file.check_version(kFormatVersion);
  Co2ModelParams p;
  Co2NormStats s;
  std::map<std::string, std::string> info;
  file.parse_metadata([&] {
    const auto r = [&](const std::string& key) { return file.read("meta." + key); };
    const auto i = [&](const std::string& key) { return int(r(key).toInt()); };
    p.preset = r("preset").toStringRef();
    p.arch = r("arch").toStringRef();
    p.conservation = r("conservation").toStringRef();
    p.dt = r("dt").toDouble();
    p.threads = i("threads");
    p.inputs.nlev = i("inputs.nlev");
    p.inputs.nlat = i("inputs.nlat");
    p.inputs.nlon = i("inputs.nlon");
    p.inputs.fields3d = split(r("inputs.fields3d").toStringRef(), ',');
    p.inputs.fields2d = split(r("inputs.fields2d").toStringRef(), ',');
    p.inputs.centre_co2 = r("inputs.centre_co2").toBool();
    p.inputs.co2_products = split(r("inputs.co2_products").toStringRef(), ',');
    p.unet.base_channels = i("unet.base_channels");
    p.unet.max_channels = i("unet.max_channels");
    p.unet.depth = i("unet.depth");
    p.unet.blocks = i("unet.blocks");
    p.unet.lat_padding = r("unet.lat_padding").toStringRef();
    p.swin.embed_dim = i("swin.embed_dim");
    p.swin.depth = i("swin.depth");
    p.swin.heads = i("swin.heads");
    p.swin.window_lat = i("swin.window_lat");
    p.swin.window_lon = i("swin.window_lon");
    p.swin.patch = i("swin.patch");
    p.swin.mlp_ratio = r("swin.mlp_ratio").toDouble();
    s = read_co2_stats(r);
    const int n = i("info.count");
    for (int k = 0; k < n; ++k)
      info[r("info.key." + str(k)).toStringRef()] = r("info.value." + str(k)).toStringRef();
    check_co2_model_params(p);
    check_co2_norm_stats(s, p);
  });
  auto core = std::make_shared<Co2Core>(p, s);
  file.load_weights(*core);
  core->eval();
  Co2Model model(std::move(core));
  model.info_ = std::move(info);
  return model;
}

namespace {

// The raw fields of one step as array channels: "co2[k]" (q, kg/kg) for every level, then each
// 3D field the network reads (fields3d) per level, then the 3D fields predict_step needs besides
// (airmass, airmass_next when not among them) per level, then the 2D fields the network reads
// (fields2d), then the 2D fields needed besides (co2flux_land, co2flux_ocean, co2flux_anthro,
// cell_area when not among them). Each entry: the field's name and whether it has levels.
std::vector<std::pair<std::string, bool>> co2_raw_channels(const Co2ModelParams& p) {
  std::vector<std::pair<std::string, bool>> c{{"q", true}};
  const auto add = [&](const std::string& f, bool levels) {
    for (const auto& x : c)
      if (x.first == f) return;
    c.emplace_back(f, levels);
  };
  for (const auto& f : p.inputs.fields3d) add(f, true);
  for (const char* f : {"airmass", "airmass_next"}) add(f, true);
  for (const auto& f : p.inputs.fields2d) add(f, false);
  for (const char* f : {"co2flux_land", "co2flux_ocean", "co2flux_anthro", "cell_area"})
    add(f, false);
  return c;
}

std::string co2_raw_channel_text(const Co2ModelParams& p) {
  std::string s;
  for (const auto& [f, levels] : co2_raw_channels(p)) {
    s += (s.empty() ? "" : ", ") + (f == "q" ? std::string("co2") : f) +
         (levels ? "[0.." + str(p.inputs.nlev - 1) + "]" : "");
  }
  return s;
}

int co2_raw_channel_count(const Co2ModelParams& p) {
  int n = 0;
  for (const auto& c : co2_raw_channels(p)) n += c.second ? p.inputs.nlev : 1;
  return n;
}

// The C API's view of a CO2 archive (emulators/array_model.hpp): predict_step, the emulator's
// whole step (normalisation, float32 network, conservation in double), on raw SI fields:
// in [B, C, nlat, nlon] with the C = co2_raw_channel_count channels of co2_raw_channels (levels
// k = 0 top .. nlev - 1 surface; cell_area constant along longitude, column 0 read) -> out
// [B, nlev, nlat, nlon] q at t + dt (the archive's dt), mass conserved up to the surface source.
class Co2ArrayModel : public ArchiveArrayModel {
 public:
  explicit Co2ArrayModel(const std::string& path, Co2Model m)
      : ArchiveArrayModel(path, std::string("Aeolus CO2 transport archive (") + kFormatName + ")",
                          contract_of(m.params()), DType::float64),
        model_(std::move(m)) {}

  static std::string contract_of(const Co2ModelParams& p) {
    const std::string grid = str(p.inputs.nlat) + ", " + str(p.inputs.nlon) + "]";
    return "[B, " + str(co2_raw_channel_count(p)) + ", " + grid + " (" + co2_raw_channel_text(p) +
           ") -> [B, " + str(p.inputs.nlev) + ", " + grid + " q after dt = " + str(p.dt) + " s";
  }

 protected:
  std::vector<std::int64_t> shape_for(const std::vector<std::int64_t>& s) const override {
    const Co2InputParams& in = model_.params().inputs;
    if (s.size() != 4 || s[1] != co2_raw_channel_count(model_.params()) || s[2] != in.nlat ||
        s[3] != in.nlon)
      refuse(s);
    return {s[0], in.nlev, in.nlat, in.nlon};
  }
  torch::Tensor compute(const torch::Tensor& x) const override {
    const Co2ModelParams& p = model_.params();
    const std::int64_t nlev = p.inputs.nlev, n2 = std::int64_t(p.inputs.nlat) * p.inputs.nlon;
    torch::Tensor out = torch::empty({x.size(0), nlev, p.inputs.nlat, p.inputs.nlon},
                                     torch::TensorOptions().dtype(torch::kFloat64));
    for (std::int64_t b = 0; b < x.size(0); ++b) {
      const double* v = x[b].data_ptr<double>();
      Co2StepInput in;
      in.dt = p.dt;
      for (const auto& [f, levels] : co2_raw_channels(p)) {
        auto& field = const_cast<std::vector<double>&>(step_field(in, f));
        if (f == "cell_area") {
          for (int j = 0; j < p.inputs.nlat; ++j)
            field.push_back(v[std::int64_t(j) * p.inputs.nlon]);
        } else {
          field.assign(v, v + (levels ? nlev : 1) * n2);
        }
        v += (levels ? nlev : 1) * n2;
      }
      const Co2StepOutput y = model_.predict_step(in);
      std::copy(y.q.begin(), y.q.end(), out[b].data_ptr<double>());
    }
    return out;
  }

 private:
  Co2Model model_;
};

std::unique_ptr<ArrayModel> load_co2_array_model(const std::string& path) {
  return std::make_unique<Co2ArrayModel>(path, Co2Model::load(path));
}

[[maybe_unused]] const bool kArrayModelRegistered =
    register_archive_model(kFormatName, &load_co2_array_model);

}  // namespace

}  // namespace aeolus::emulators
