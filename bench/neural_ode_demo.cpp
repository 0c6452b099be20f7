// Benchmark: the classic spiral neural-ODE demo (torchdiffeq's ode_demo) vs torchdiffeq itself
//
//   tools/bench neural_ode_demo [iterations] [threads]     (default 2000 iterations, 2 threads)
//
// The demo: truth dy/dt = y^3 A, A = [[-0.1, 2], [-2, -0.1]], y0 = (2, 0), 1000 points in
// [0, 25] from dopri5; each iteration draws 20 windows of 10 points (batch_time 10, batch_size
// 20), solves the neural ODE dy/dt = MLP(y^3) (2-50-2, tanh, weights N(0, 0.1), biases 0) from
// their first points with dopri5 at torchdiffeq's default tolerances (rtol 1e-7, atol 1e-9),
// backpropagates through the solver and takes an RMSprop step (lr 1e-3); float32 throughout.
// Ours: odeint (emulators/neural_ode_impl.hpp, gradient = backprop) on our dopri5 on tensors,
// twice: with the I step controller (torchdiffeq's; the like-for-like row) and with our
// default PI controller.
// Peer: bench/neural_ode_demo_torchdiffeq.py, the same demo with torchdiffeq 0.2.x, run in this
// invocation as a subprocess (the first of AEOLUS_PYTHON, python3, /usr/bin/python3 that
// imports torch and torchdiffeq; skipped with a note when none does).
// Timed per iteration, the same in both: gathering the batch, forward solve, backward,
// optimiser step. The final loss is the demo's test loss, mean |pred - true| over the whole
// trajectory from y0, after the last iteration (not timed). NFE: right-hand-side calls per training
// solve. Same start: both seed torch's generator with 0 and initialise the weights in the same
// order (so the initial networks are equal: checked through the sum of the weights), and the peer
// reads the window starts this program drew (--batch-file). The runs then differ only in the
// solvers' arithmetic and step sequences, so the final losses agree to the extent that training
// is insensitive to such differences, not exactly (equal to 6 digits after 20 iterations, 3
// after 100; after 2000 the demo's test loss wanders between about 0.3 and 0.8 in both).
//
// Where our time goes: an iteration is about 8 dopri5 steps (46 evaluations) on [20, 2]
// tensors, so it is all per-op overhead (dispatcher + autograd node), none of it arithmetic:
// about a third forward, two thirds backward, ~1% optimiser. What helped: y.pow(3) (one node,
// as torchdiffeq) rather than y * y * y; no .item() besides the solver's error norm and
// finiteness test; one [20, 2] state for the batch; StateOps<torch::Tensor>::lincomb as one
// torch::add(acc, k_j, h c_j) per stage term (one node instead of a mul and an add) and an
// in-place error norm (forward 3.3 -> 1.6 ms per iteration).
// Reference (2026-11-27, 2 threads, 2000 iterations, the 2-core machine shared with a training
// job): aeolus 4.79 ms/iteration (I control) and 4.84 (PI), torchdiffeq 16.4, i.e. 3.4x
// faster; NFE/solve 59.3, 63.6 and 56.5; final test loss 0.09, 0.52 and 0.72 (the demo's
// test loss wanders between about 0.1 and 0.8 during training in both codes).
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "emulators/neural_ode_impl.hpp"

namespace {

namespace em = aeolus::emulators;
using Clock = std::chrono::steady_clock;

constexpr int kDataSize = 1000;
constexpr int kBatchTime = 10;
constexpr int kBatchSize = 20;
constexpr double kTEnd = 25.0;

struct Result {
  bool ok = false;
  double ms_per_iter = 0, nfe_per_solve = 0, final_loss = 0;
  double ms_forward = 0, ms_backward = 0, ms_step = 0;  // ours only
  double init_checksum = 0;                             // sum of the initial weights
  std::string note;
};

// torchdiffeq's ODEFunc: Linear(2, 50) - Tanh - Linear(50, 2) on y^3. Both layers are built
// (torch's default init) before the demo's N(0, 0.1) weights and zero biases, in the order
// Python's nn.Sequential does it, so the same seed gives the same network.
class DemoFuncImpl : public torch::nn::Module {
 public:
  DemoFuncImpl()
      : in_(register_module("in", torch::nn::Linear(2, 50))),
        out_(register_module("out", torch::nn::Linear(50, 2))) {
    torch::NoGradGuard no_grad;
    for (auto* lin : {&in_, &out_}) {
      (*lin)->weight.normal_(0.0, 0.1);
      (*lin)->bias.zero_();
    }
  }
  torch::Tensor forward(const torch::Tensor& y) { return out_(torch::tanh(in_(y.pow(3)))); }

 private:
  torch::nn::Linear in_, out_;
};
TORCH_MODULE(DemoFunc);

// Window starts for every iteration: batch_size distinct values in [0, data_size - batch_time)
// (np.random.choice without replacement), by a partial Fisher-Yates shuffle.
std::vector<std::vector<std::int64_t>> draw_batches(int iterations) {
  std::mt19937_64 rng(0);
  std::vector<std::int64_t> pool(kDataSize - kBatchTime);
  std::vector<std::vector<std::int64_t>> out;
  for (int it = 0; it < iterations; ++it) {
    std::iota(pool.begin(), pool.end(), std::int64_t(0));
    for (int i = 0; i < kBatchSize; ++i) {
      std::uniform_int_distribution<std::size_t> pick(std::size_t(i), pool.size() - 1);
      std::swap(pool[std::size_t(i)], pool[pick(rng)]);
    }
    out.emplace_back(pool.begin(), pool.begin() + kBatchSize);
  }
  return out;
}

Result run_ours(const std::vector<std::vector<std::int64_t>>& batches, int threads,
                aeolus::StepController controller) {
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  std::vector<double> t(kDataSize);
  for (int i = 0; i < kDataSize; ++i) t[i] = kTEnd * i / (kDataSize - 1);
  // torchdiffeq's default tolerances; Hairer's initial step (torchdiffeq's is the same rule).
  aeolus::AdaptiveParams params;
  params.method = aeolus::RkMethod::dopri5;
  params.rtol = 1e-7;
  params.atol = 1e-9;
  params.controller = controller;

  const torch::Tensor true_a = torch::tensor({-0.1f, 2.0f, -2.0f, -0.1f}, f32).reshape({2, 2});
  const torch::Tensor true_y0 = torch::tensor({2.0f, 0.0f}, f32).reshape({1, 2});
  torch::Tensor true_y;
  {
    torch::NoGradGuard no_grad;
    const em::OdeFunction truth = [&](double, const torch::Tensor& y) {
      return torch::mm(y.pow(3), true_a);
    };
    true_y = em::odeint(truth, true_y0, t, params).y.reshape({kDataSize, 2});
  }

  DemoFunc net;
  Result r;
  for (const auto& p : net->parameters())
    r.init_checksum += p.detach().to(torch::kFloat64).sum().item<double>();
  long nfe = 0;
  const em::OdeFunction func = [&](double, const torch::Tensor& y) {
    ++nfe;
    return net->forward(y);
  };
  torch::optim::RMSprop opt(net->parameters(), torch::optim::RMSpropOptions(1e-3));
  const std::vector<double> batch_t(t.begin(), t.begin() + kBatchTime);
  const torch::Tensor offsets = torch::arange(kBatchTime, torch::kLong).unsqueeze(1);

  double forward = 0, backward = 0, step = 0, total = 0;
  long train_nfe = 0;
  for (const auto& starts : batches) {
    const Clock::time_point t0 = Clock::now();
    opt.zero_grad();
    const torch::Tensor s = torch::tensor(starts);
    const torch::Tensor batch_y0 = true_y.index_select(0, s);
    const torch::Tensor batch_y = true_y.index_select(0, (s.unsqueeze(0) + offsets).reshape({-1}))
                                      .reshape({kBatchTime, kBatchSize, 2});
    const long nfe0 = nfe;
    const torch::Tensor pred = em::odeint(func, batch_y0, batch_t, params).y;
    train_nfe += nfe - nfe0;
    const torch::Tensor loss = (pred - batch_y).abs().mean();
    const Clock::time_point t1 = Clock::now();
    loss.backward();
    const Clock::time_point t2 = Clock::now();
    opt.step();
    const Clock::time_point t3 = Clock::now();
    forward += std::chrono::duration<double>(t1 - t0).count();
    backward += std::chrono::duration<double>(t2 - t1).count();
    step += std::chrono::duration<double>(t3 - t2).count();
    total += std::chrono::duration<double>(t3 - t0).count();
  }
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor pred = em::odeint(func, true_y0, t, params).y.reshape({kDataSize, 2});
    r.final_loss = (pred - true_y).abs().mean().item<double>();
  }
  const double n = std::max<double>(double(batches.size()), 1.0);
  r.ok = true;
  r.ms_per_iter = 1e3 * total / n;
  r.ms_forward = 1e3 * forward / n;
  r.ms_backward = 1e3 * backward / n;
  r.ms_step = 1e3 * step / n;
  r.nfe_per_solve = double(train_nfe) / n;
  return r;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The peer script next to this source (CMake compiles with absolute paths), else under
// $AEOLUS_ROOT/bench.
std::string peer_script() {
  namespace fs = std::filesystem;
  const fs::path here = fs::path(__FILE__).parent_path() / "neural_ode_demo_torchdiffeq.py";
  if (fs::exists(here)) return here.string();
  if (const char* root = std::getenv("AEOLUS_ROOT")) {
    const fs::path p = fs::path(root) / "bench" / "neural_ode_demo_torchdiffeq.py";
    if (fs::exists(p)) return p.string();
  }
  return {};
}

std::string find_python() {
  std::vector<std::string> candidates;
  if (const char* p = std::getenv("AEOLUS_PYTHON")) candidates.emplace_back(p);
  candidates.emplace_back("python3");
  candidates.emplace_back("/usr/bin/python3");
  for (const std::string& py : candidates) {
    const std::string cmd = shell_quote(py) + " -c 'import torch, torchdiffeq' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return py;
  }
  return {};
}

Result run_peer(int iterations, int threads, const std::string& batch_file) {
  Result r;
  const std::string script = peer_script();
  if (script.empty()) {
    r.note = "bench/neural_ode_demo_torchdiffeq.py not found (set AEOLUS_ROOT)";
    return r;
  }
  const std::string py = find_python();
  if (py.empty()) {
    r.note =
        "no python3 with torch and torchdiffeq (apt-get install python3-torch; pip install "
        "torchdiffeq; or set AEOLUS_PYTHON)";
    return r;
  }
  const std::string cmd = shell_quote(py) + " " + shell_quote(script) + " --niters " +
                          std::to_string(iterations) + " --threads " + std::to_string(threads) +
                          " --seed 0 --batch-file " + shell_quote(batch_file) + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) {
    r.note = "cannot start " + cmd;
    return r;
  }
  std::string output;
  char line[4096];
  while (std::fgets(line, sizeof line, pipe)) {
    output += line;
    int iters = 0;
    long eval_nfe = 0;
    if (std::sscanf(line,
                    "RESULT ms_per_iter=%lf nfe_per_solve=%lf final_loss=%lf iterations=%d "
                    "eval_nfe=%ld init_checksum=%lf",
                    &r.ms_per_iter, &r.nfe_per_solve, &r.final_loss, &iters, &eval_nfe,
                    &r.init_checksum) == 6)
      r.ok = true;
  }
  const int rc = pclose(pipe);
  if (!r.ok || rc != 0) {
    r.ok = false;
    r.note = "torchdiffeq run failed (exit " + std::to_string(rc) + "):\n" +
             output.substr(output.size() > 2000 ? output.size() - 2000 : 0);
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  if (iterations < 1 || threads < 1) {
    std::fprintf(stderr, "usage: bench_neural_ode_demo [iterations >= 1] [threads >= 1]\n");
    return 2;
  }
  std::printf(
      "spiral neural-ODE demo: %d iterations, %d threads, float32, dopri5 rtol 1e-7 "
      "atol 1e-9, batch 20 x 10 points\n",
      iterations, threads);
  std::fflush(stdout);
  const auto batches = draw_batches(iterations);
  // The I controller is torchdiffeq's (step factor safety * err^(-1/5), as dopri5's defaults
  // there): the like-for-like comparison. Our default, Hairer's PI controller, is more cautious.
  const Result ours = run_ours(batches, threads, aeolus::StepController::integral);
  std::printf("aeolus (I):  %.3f ms/iteration (forward %.3f, backward %.3f, optimiser %.3f)\n",
              ours.ms_per_iter, ours.ms_forward, ours.ms_backward, ours.ms_step);
  std::fflush(stdout);
  const Result ours_pi = run_ours(batches, threads, aeolus::StepController::pi);
  std::printf("aeolus (PI): %.3f ms/iteration (forward %.3f, backward %.3f, optimiser %.3f)\n",
              ours_pi.ms_per_iter, ours_pi.ms_forward, ours_pi.ms_backward, ours_pi.ms_step);
  std::fflush(stdout);
  namespace fs = std::filesystem;
  const fs::path batch_file =
      fs::temp_directory_path() / ("aeolus_ode_demo_batches_" + std::to_string(getpid()) + ".txt");
  {
    std::ofstream out(batch_file);
    for (const auto& b : batches) {
      for (std::size_t i = 0; i < b.size(); ++i) out << (i ? " " : "") << b[i];
      out << "\n";
    }
  }
  const Result peer = run_peer(iterations, threads, batch_file.string());
  std::error_code ignored;
  fs::remove(batch_file, ignored);

  std::printf("\n%-26s %12s %12s %12s %15s\n", "", "ms/iteration", "NFE/solve", "final loss",
              "vs torchdiffeq");
  const auto row = [&](const char* name, const Result& r) {
    std::printf("%-26s %12.3f %12.1f %12.6f", name, r.ms_per_iter, r.nfe_per_solve, r.final_loss);
    if (peer.ok && &r != &peer) std::printf(" %13.3fx", r.ms_per_iter / peer.ms_per_iter);
    std::printf("\n");
  };
  row("aeolus dopri5, I control", ours);
  row("aeolus dopri5, PI control", ours_pi);
  if (peer.ok) {
    row("torchdiffeq dopri5", peer);
    std::printf(
        "speed-up over torchdiffeq: %.2fx (I control), %.2fx (PI control); initial "
        "networks %s (weight sums %.9g, %.9g)\n",
        peer.ms_per_iter / ours.ms_per_iter, peer.ms_per_iter / ours_pi.ms_per_iter,
        std::abs(ours.init_checksum - peer.init_checksum) < 1e-6 ? "equal" : "DIFFER",
        ours.init_checksum, peer.init_checksum);
  } else {
    std::printf("torchdiffeq: not run: %s\n", peer.note.c_str());
  }
  return 0;
}
