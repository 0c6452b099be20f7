#include "emulators/flux_cnn_model.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include "emulators/array_model_impl.hpp"
#include "emulators/model_archive.hpp"
#include "grids/error.hpp"

namespace aeolus::emulators::detail {

namespace {
// [normalised q,] cx on the low x-face, cy on the low y-face.
int input_channels(const FluxCnnParams& p) { return p.inputs == "courant" ? 2 : 3; }

int output_channels(const FluxCnnParams& p) {
  return p.output == "flux" ? 2 * kTransverse * p.stencil : 1;
}
}  // namespace

void validate(const FluxCnnParams& p) {
  const auto fail = [](const std::string& what) { throw ConfigError("emulator: " + what); };
  if (p.output != "flux" && p.output != "state") {
    fail("output = '" + p.output + "', expected flux or state");
  }
  if (p.mass_fixer != "none" && p.mass_fixer != "scale" && p.mass_fixer != "shift") {
    fail("mass_fixer = '" + p.mass_fixer + "', expected none, scale or shift");
  }
  if (p.output == "state" && p.mass_fixer == "none") {
    // A state-predicting network does not conserve mass; a long rollout drifts without a fixer.
    fail("output = state requires mass_fixer = scale or shift, got none");
  }
  if (p.inputs != "courant" && p.inputs != "courant+q") {
    fail("inputs = '" + p.inputs + "', expected courant or courant+q");
  }
  if (p.inputs == "courant" && p.output != "flux") {
    fail("inputs = courant needs output = flux (a state increment must see the state)");
  }
  if (p.limiter != "none" && p.limiter != "fct") {
    fail("limiter = '" + p.limiter + "', expected none or fct");
  }
  if (p.limiter == "fct" && p.output != "flux") {
    fail("limiter = fct needs output = flux (it limits face fluxes), got output = " + p.output);
  }
  if (p.channels < 1) fail("channels = " + std::to_string(p.channels) + ", expected >= 1");
  if (p.layers < 1) fail("layers = " + std::to_string(p.layers) + ", expected >= 1");
  if (p.stencil < 2 || p.stencil % 2 != 0) {
    fail("stencil = " + std::to_string(p.stencil) + ", expected an even number >= 2");
  }
  if (p.threads < 1) fail("threads = " + std::to_string(p.threads) + ", expected >= 1");
}

int halo_width(const FluxCnnParams& p) {
  // The FCT limiter of the stepper reads 3 rings of q (solvers/fct.hpp).
  return std::max({p.layers, p.stencil / 2, kTransverse / 2, p.limiter == "fct" ? 3 : 0});
}

FluxStencilNetImpl::FluxStencilNetImpl(const FluxCnnParams& p) {
  body_ = torch::nn::Sequential();
  int in = input_channels(p);
  for (int l = 0; l < p.layers; ++l) {
    // padding 0: the halo supplies the neighbours, so the same net runs on a periodic batch
    // and on a rank's ghosted block.
    body_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, p.channels, 3).padding(0)));
    body_->push_back(torch::nn::GELU());
    in = p.channels;
  }
  head_ = torch::nn::Conv2d(torch::nn::Conv2dOptions(in, output_channels(p), 1));
  register_module("body", body_);
  register_module("head", head_);
}

torch::Tensor FluxStencilNetImpl::forward(const torch::Tensor& x) {
  return head_(body_->forward(x));
}

long long FluxStencilNetImpl::parameter_count() const {
  long long n = 0;
  for (const auto& t : parameters()) n += t.numel();
  return n;
}

namespace {
// Amplification factor of one step for the Fourier mode q(i, j) = exp(I (alpha i + beta j)):
// the flux through the low x-face of (i, j) is cx Wx q(i, j) with
// Wx = sum_{m,k} wx[m, k] exp(I (alpha (k - s/2) + beta (m - 1))), the one through its high
// face cx Wx exp(I alpha) q(i, j); likewise in y with the roles of alpha and beta swapped.
// A = 1 - cx Wx (exp(I alpha) - 1) - cy Wy (exp(I beta) - 1). Real arithmetic throughout.
torch::Tensor von_neumann_penalty(const torch::Tensor& wx, const torch::Tensor& wy,
                                  const torch::Tensor& cx, const torch::Tensor& cy, int s) {
  constexpr int kModes = 12;
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  // Wavenumbers (0, 2 pi) x (0, 2 pi), excluding 0 where A = 1 for any consistent scheme.
  const torch::Tensor k1 = (torch::arange(1, kModes + 1, opts)) * (2 * M_PI / (kModes + 1));
  const torch::Tensor alpha = k1.view({1, kModes, 1}).expand({1, kModes, kModes}).reshape({1, -1});
  const torch::Tensor beta = k1.view({1, 1, kModes}).expand({1, kModes, kModes}).reshape({1, -1});
  // Per-sample mean weights [B, n] and Courant numbers [B, 1].
  const torch::Tensor mx = wx.mean({2, 3}), my = wy.mean({2, 3});
  const torch::Tensor cxm = cx.mean({1, 2}).unsqueeze(1), cym = cy.mean({1, 2}).unsqueeze(1);
  std::vector<double> along, across;
  for (int m = 0; m < kTransverse; ++m)
    for (int k = 0; k < s; ++k) {
      along.push_back(k - s / 2);
      across.push_back(m - kTransverse / 2);
    }
  const torch::Tensor a_off = torch::tensor(along, opts).view({-1, 1});   // [n, 1]
  const torch::Tensor c_off = torch::tensor(across, opts).view({-1, 1});  // [n, 1]
  // Phases [n, modes]; symbols [B, modes].
  const torch::Tensor phx = a_off * alpha + c_off * beta;
  const torch::Tensor phy = a_off * beta + c_off * alpha;
  const torch::Tensor wx_re = mx.matmul(torch::cos(phx)), wx_im = mx.matmul(torch::sin(phx));
  const torch::Tensor wy_re = my.matmul(torch::cos(phy)), wy_im = my.matmul(torch::sin(phy));
  // (exp(I t) - 1) = (cos t - 1) + I sin t.
  const torch::Tensor ex_re = torch::cos(alpha) - 1, ex_im = torch::sin(alpha);
  const torch::Tensor ey_re = torch::cos(beta) - 1, ey_im = torch::sin(beta);
  const torch::Tensor a_re =
      1 - cxm * (wx_re * ex_re - wx_im * ex_im) - cym * (wy_re * ey_re - wy_im * ey_im);
  const torch::Tensor a_im =
      -cxm * (wx_re * ex_im + wx_im * ex_re) - cym * (wy_re * ey_im + wy_im * ey_re);
  return torch::relu(a_re * a_re + a_im * a_im - 1).mean();
}
}  // namespace

namespace {
using torch::indexing::Slice;

// The updated cells of a padded block and the frame of `layers` cells around them that the
// network's valid convolutions consume.
struct BlockShape {
  int h, o;
  int64_t rows, cols;
  BlockShape(const FluxCnnParams& p, const torch::Tensor& q_pad)
      : h(halo_width(p)),
        o(h - p.layers),
        rows(q_pad.size(1) - 2 * h),
        cols(q_pad.size(2) - 2 * h) {}
  torch::Tensor inner(const torch::Tensor& t) const {
    return t.index({Slice(), Slice(h, h + rows), Slice(h, h + cols)});
  }
  torch::Tensor frame(const torch::Tensor& t, int layers) const {
    return t.index({Slice(), Slice(o, o + rows + 2 * layers), Slice(o, o + cols + 2 * layers)});
  }
};

// The network's output on the updated cells, [B, out, rows, cols] in double.
torch::Tensor network_output(FluxStencilNet& net, const ModelSpec& spec, const BlockShape& b,
                             const torch::Tensor& q_pad, const torch::Tensor& cx_pad,
                             const torch::Tensor& cy_pad) {
  const auto& p = spec.params;
  torch::Tensor x;
  if (p.inputs == "courant") {
    // Speeds only: the weights come out in the upwind frame and are mirrored by flux_weights,
    // so one learned stencil serves all four flow directions.
    x = torch::stack({b.frame(cx_pad, p.layers).abs(), b.frame(cy_pad, p.layers).abs()}, 1);
  } else {
    const torch::Tensor q_norm = (b.frame(q_pad, p.layers) - spec.q_mean) / spec.q_std;
    x = torch::stack({q_norm, b.frame(cx_pad, p.layers), b.frame(cy_pad, p.layers)}, 1);
  }
  // The network's own precision: float32 in training, float64 in the stepper (which runs it
  // once per run, so that ranks with different block shapes agree to double round-off).
  const auto net_type = net->parameters().front().scalar_type();
  return net->forward(x.to(net_type)).to(torch::kFloat64);
}
}  // namespace

std::pair<torch::Tensor, torch::Tensor> flux_weights(FluxStencilNet& net, const ModelSpec& spec,
                                                     const torch::Tensor& q_pad,
                                                     const torch::Tensor& cx_pad,
                                                     const torch::Tensor& cy_pad) {
  const auto& p = spec.params;
  const BlockShape b(p, q_pad);
  const torch::Tensor out = network_output(net, spec, b, q_pad, cx_pad, cy_pad);
  // Weights projected onto sum 1 so that a constant q gives G = c * q exactly (free-stream
  // preservation); the projection is done in double so the sum is 1 to double round-off.
  // Each face's stencil is `stencil` cells along its normal times kTransverse cells across it:
  // a diagonal displacement sweeps tracer from the neighbouring rows too, and a stencil along
  // the normal alone cannot represent that corner transport (the unsplit update then amplifies
  // modes whenever both Courant numbers are non-zero).
  const int s = p.stencil;
  const int n = kTransverse * s;
  torch::Tensor wx = out.index({Slice(), Slice(0, n)});
  torch::Tensor wy = out.index({Slice(), Slice(n, 2 * n)});
  wx = wx - wx.mean(1, true) + 1.0 / n;
  wy = wy - wy.mean(1, true) + 1.0 / n;
  if (p.inputs == "courant") {
    // Upwind frame -> grid frame: reverse the stencil along the face normal where the normal
    // Courant number is negative, and across it where the transverse one is (the transverse
    // velocity of the face's cell, from its low face).
    const auto orient = [&](const torch::Tensor& w, const torch::Tensor& c_normal,
                            const torch::Tensor& c_across) {
      // [B, kTransverse * s, H, W] -> [B, kTransverse, s, H, W] (across, along).
      torch::Tensor v = w.reshape({w.size(0), kTransverse, s, b.rows, b.cols});
      const torch::Tensor flip_along = (c_normal < 0).unsqueeze(1).unsqueeze(1);
      const torch::Tensor flip_across = (c_across < 0).unsqueeze(1).unsqueeze(1);
      v = torch::where(flip_along, v.flip({2}), v);
      v = torch::where(flip_across, v.flip({1}), v);
      return v.reshape({w.size(0), n, b.rows, b.cols});
    };
    wx = orient(wx, b.inner(cx_pad), b.inner(cy_pad));
    wy = orient(wy, b.inner(cy_pad), b.inner(cx_pad));
  }
  return {wx, wy};
}

torch::Tensor advance(FluxStencilNet& net, const ModelSpec& spec, const torch::Tensor& q_pad,
                      const torch::Tensor& cx_pad, const torch::Tensor& cy_pad, Boundary& boundary,
                      torch::Tensor* stability) {
  const auto& p = spec.params;
  const BlockShape b(p, q_pad);
  const torch::Tensor q = b.inner(q_pad);
  if (p.output == "state") {
    const torch::Tensor out = network_output(net, spec, b, q_pad, cx_pad, cy_pad);
    return boundary.fix_mass(q, q + out.select(1, 0) * spec.q_std);
  }
  const int s = p.stencil;
  const auto [wx, wy] = flux_weights(net, spec, q_pad, cx_pad, cy_pad);
  if (stability) *stability = von_neumann_penalty(wx, wy, b.inner(cx_pad), b.inner(cy_pad), s);
  // Stencil of the low face of cell i: cells i - s/2 .. i + s/2 - 1 along the normal, and
  // -kTransverse/2 .. kTransverse/2 across it (emulators/flux_cnn_stencil.hpp is the same sum in
  // plain loops, for the stepper).
  std::vector<torch::Tensor> along_x, along_y;
  for (int m = 0; m < kTransverse; ++m) {
    const int64_t across = b.h - kTransverse / 2 + m;
    for (int k = 0; k < s; ++k) {
      const int64_t shift = b.h - s / 2 + k;
      along_x.push_back(
          q_pad.index({Slice(), Slice(across, across + b.rows), Slice(shift, shift + b.cols)}));
      along_y.push_back(
          q_pad.index({Slice(), Slice(shift, shift + b.rows), Slice(across, across + b.cols)}));
    }
  }
  const torch::Tensor gx = b.inner(cx_pad) * (wx * torch::stack(along_x, 1)).sum(1);
  const torch::Tensor gy = b.inner(cy_pad) * (wy * torch::stack(along_y, 1)).sum(1);
  torch::Tensor q_new = boundary.apply_fluxes(q, gx, gy);
  if (p.mass_fixer != "none") q_new = boundary.fix_mass(q, q_new);
  return q_new;
}

torch::Tensor PeriodicBoundary::apply_fluxes(const torch::Tensor& q, const torch::Tensor& gx,
                                             const torch::Tensor& gy) {
  // The high faces of the last column/row are the low faces of the first (periodic).
  return q - (torch::roll(gx, {-1}, {2}) - gx) - (torch::roll(gy, {-1}, {1}) - gy);
}

torch::Tensor PeriodicBoundary::fix_mass(const torch::Tensor& q_old, const torch::Tensor& q_new) {
  const torch::Tensor target = q_old.sum({1, 2}, true);
  const torch::Tensor mass = q_new.sum({1, 2}, true);
  if (mass_fixer_ == "scale") return q_new * (target / mass);
  return q_new + (target - mass) / double(q_new.size(1) * q_new.size(2));
}

torch::Tensor periodic_pad(const torch::Tensor& t, int h) {
  const auto wrapped = [&](int64_t n) {
    return torch::remainder(torch::arange(-h, n + h, torch::kLong), n);
  };
  return t.index_select(1, wrapped(t.size(1))).index_select(2, wrapped(t.size(2)));
}

void save_model(const std::string& path, FluxStencilNet& net, const ModelSpec& spec) {
  torch::serialize::OutputArchive archive;
  net->save(archive);
  const auto& p = spec.params;
  archive.write("meta.format", c10::IValue(std::string(kFormatName)));
  archive.write("meta.version", c10::IValue(kFormatVersion));
  archive.write("meta.output", c10::IValue(p.output));
  archive.write("meta.mass_fixer", c10::IValue(p.mass_fixer));
  archive.write("meta.channels", c10::IValue(std::int64_t(p.channels)));
  archive.write("meta.layers", c10::IValue(std::int64_t(p.layers)));
  archive.write("meta.stencil", c10::IValue(std::int64_t(p.stencil)));
  archive.write("meta.threads", c10::IValue(std::int64_t(p.threads)));
  archive.write("meta.limiter", c10::IValue(p.limiter));
  archive.write("meta.inputs", c10::IValue(p.inputs));
  archive.write("meta.q_mean", c10::IValue(spec.q_mean));
  archive.write("meta.q_std", c10::IValue(spec.q_std));
  archive.write("meta.dt_frame", c10::IValue(spec.dt_frame));
  archive.write("meta.dx", c10::IValue(spec.dx));
  archive.write("meta.dy", c10::IValue(spec.dy));
  detail::save_model_archive(archive, path);
}

std::pair<FluxStencilNet, ModelSpec> load_model(const std::string& path) {
  detail::ModelArchive file(path, kFormatName, "Aeolus flux-stencil model");
  const auto read = [&](const char* key) { return file.read(key); };
  file.check_version(kFormatVersion);
  ModelSpec spec;
  file.parse_metadata([&] {
    spec.params.output = read("meta.output").toStringRef();
    spec.params.mass_fixer = read("meta.mass_fixer").toStringRef();
    spec.params.channels = int(read("meta.channels").toInt());
    spec.params.layers = int(read("meta.layers").toInt());
    spec.params.stencil = int(read("meta.stencil").toInt());
    spec.params.threads = int(read("meta.threads").toInt());
    spec.params.limiter = read("meta.limiter").toStringRef();
    spec.params.inputs = read("meta.inputs").toStringRef();
    spec.q_mean = read("meta.q_mean").toDouble();
    spec.q_std = read("meta.q_std").toDouble();
    spec.dt_frame = read("meta.dt_frame").toDouble();
    spec.dx = read("meta.dx").toDouble();
    spec.dy = read("meta.dy").toDouble();
    validate(spec.params);
  });
  FluxStencilNet net(spec.params);
  file.load_weights(*net);
  net->eval();
  return {net, spec};
}

namespace {

// The C API's view of a flux-stencil archive (emulators/array_model.hpp): one emulator step on a
// periodic domain, in [B, 3, ny, nx] = (q, cx, cy) with cx, cy the Courant numbers (u dt / dx,
// v dt / dy) of each cell's low x- and y-face for the trained step -> out [B, ny, nx] q after
// the step. It is advance, the step training uses, on inputs padded periodically (periodic_pad),
// with the archive's mass fixer and without the FCT limiter: the limiter is the stepper's
// (it needs the outgoing Courant numbers of a whole field on its grid, with positivity
// bounds), not the network's. The network runs in the stepper's precision (float64 for
// inputs = courant, else as saved); q's normalisation (q_mean, q_std) is applied inside.
class FluxStencilArrayModel : public ArchiveArrayModel {
 public:
  FluxStencilArrayModel(const std::string& path, std::pair<FluxStencilNet, ModelSpec> m)
      : ArchiveArrayModel(path,
                          "Aeolus flux-stencil CNN archive (" + std::string(kFormatName) + ")",
                          "[B, 3, ny, nx] (q, cx, cy), cx and cy the Courant numbers of each "
                          "cell's low x- and y-face -> [B, ny, nx] q after one periodic step",
                          DType::float64),
        net_(m.first),
        spec_(m.second),
        halo_(halo_width(m.second.params)) {
    if (spec_.params.inputs == "courant") net_->to(torch::kFloat64);
  }

 protected:
  std::vector<std::int64_t> shape_for(const std::vector<std::int64_t>& s) const override {
    if (s.size() != 4 || s[1] != 3) refuse(s);
    if (s[2] < 1 || s[3] < 1) refuse(s, "an empty grid");
    return {s[0], s[2], s[3]};
  }
  torch::Tensor compute(const torch::Tensor& x) const override {
    if (x.size(0) == 0) return torch::zeros({0, x.size(2), x.size(3)}, x.options());
    PeriodicBoundary boundary(spec_.params.mass_fixer);
    const torch::Tensor q = periodic_pad(x.select(1, 0), halo_);
    const torch::Tensor cx = periodic_pad(x.select(1, 1), halo_);
    const torch::Tensor cy = periodic_pad(x.select(1, 2), halo_);
    return advance(const_cast<FluxStencilNet&>(net_), spec_, q, cx, cy, boundary);
  }

 private:
  FluxStencilNet net_;
  ModelSpec spec_;
  int halo_;
};

std::unique_ptr<ArrayModel> load_flux_stencil_array_model(const std::string& path) {
  return std::make_unique<FluxStencilArrayModel>(path, load_model(path));
}

[[maybe_unused]] const bool kArrayModelRegistered =
    register_archive_model(kFormatName, &load_flux_stencil_array_model);

}  // namespace

}  // namespace aeolus::emulators::detail
