// The learned part of DCDM (Kaneda, Akar, Chen, Kim, Teran; ICML 2023): network, training data,
// training and the DirectionModel adapter. See emulators/dcdm_model.hpp.
//
// Network (2D or 3D by the operator; "conv" is 3^dim, "1x1" pointwise):
//   conv 1 -> C (linear)
//   `blocks` residual blocks at full resolution, C channels      -> skip
//   average-pool by 2; conv C -> 2C (linear); `blocks` residual blocks, 2C channels
//   1x1 2C -> C (linear), nearest upsampling by 2, + skip
//   `blocks` residual blocks at full resolution
//   1x1 C -> 1 (linear)
// Residual block: x + relu(conv(relu(conv(x)))), as the authors' network (their first layer is
// linear, the others ReLU, with additive skips; one pooling level, nearest upsampling added to
// the full-resolution features, a linear 1x1 output). ReLU rather than tanh/GELU: it is what the
// paper used and cheap on CPUs. The coarse level doubles the channels (cheap: 1/2^dim of the
// cells) to carry the smooth, low-eigenvalue part of A^{-1} r that CG resolves slowest.
//
// No biases (unlike the authors' Keras layers): the ideal direction A^{-1} r is linear in r,
// and without biases a ReLU network is positively homogeneous, q(s r) = s q(r) for s > 0, so it
// has no r-independent output to unlearn. With biases, training sat on a plateau at loss ~ 1
// (q carrying no information about b) for the first epochs: 64 x 64, 300 samples, 4 epochs
// ended at 0.996 with biases and 0.156 without; 16^3 reached 0.041 with and 0.014 without.
//
// Boundaries: every conv sees its input padded by one cell per face by the operator's boundary
// kind: zero (Dirichlet: u = 0 beyond the boundary), circular (periodic), replicate (Neumann:
// zero normal derivative). Pooling needs even sizes along every used dimension.
//
// Orders: tensors are [batch, 1, (z,) y, x], flattened x fastest = the natural order of the
// grid's DMDA; PETSc vectors are brought to that order with DMDAGlobalToNatural and the matrix
// with the DMDA's AO, so the sparse A of the loss is the very matrix the solver uses.
#include "emulators/dcdm_model.hpp"

#include <petscdmda.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <sstream>

#include "emulators/array_model_impl.hpp"
#include "emulators/device_impl.hpp"
#include "emulators/model_archive.hpp"
#include "grids/error.hpp"
#include "grids/format.hpp"
#include "grids/petsc_util.hpp"
#include "grids/random.hpp"
#include "io/collective.hpp"
#include "io/netcdf_file.hpp"

namespace aeolus::emulators {

namespace {

namespace fs = std::filesystem;
using torch::indexing::Slice;

constexpr const char* kFormatName = "aeolus.dcdm_cnn";
// Bumped whenever the saved layout or the meaning of a saved value changes.
constexpr std::int64_t kFormatVersion = 1;
constexpr const char* kFaceNames[3][2] = {{"x_lo", "x_hi"}, {"y_lo", "y_hi"}, {"z_lo", "z_hi"}};

// ---------------------------------------------------------------------------------------------
// Errors raised on rank 0 while the other ranks wait: rethrown with the same type everywhere
// (io/collective.hpp); torch's own errors as ModelError "torch: ...", without torch's backtrace.

using io::Failure;

template <class F>
void torch_errors_as_model_errors(F&& f) {
  try {
    f();
  } catch (const c10::Error& e) {
    throw ModelError(std::string("torch: ") + e.what_without_backtrace());
  }
}

template <class F>
Failure capture(F&& f) {
  return io::capture([&] { torch_errors_as_model_errors(f); });
}

// Collective: rank 0's failure (if any) is thrown on every rank.
void rethrow_everywhere(MPI_Comm comm, const Failure& f) {
  io::rethrow_everywhere<ModelError>(comm, f);
}

// Runs f on rank 0 only; its exception, if any, is thrown on every rank. `patient`: f runs for
// long (training), so the other ranks wait in a sleeping barrier instead of spinning in a
// collective, which would take the cores that rank 0's torch threads need.
template <class F>
void on_root(MPI_Comm comm, F&& f, bool patient = false) {
  io::on_root<ModelError>(
      comm, [&] { torch_errors_as_model_errors(f); },
      patient ? io::Wait::sleeping : io::Wait::busy);
}

// ---------------------------------------------------------------------------------------------
// What the network depends on in the operator.

struct NetSpec {
  int dim = 2;
  int channels = 16;
  int blocks = 2;
  std::array<std::array<BoundaryKind, 2>, 3> boundary{};
  Centering centering = Centering::cell;
  std::array<std::int64_t, 3> train_n{1, 1, 1};
  std::array<double, 3> train_h{0, 0, 0};
  double helmholtz = 0;
};

NetSpec spec_of(const EllipticOperator& op, const DcdmNetParams& net) {
  const EllipticProblem& p = op.problem();
  NetSpec s;
  s.dim = p.dim;
  s.channels = net.channels;
  s.blocks = net.blocks;
  for (int d = 0; d < 3; ++d) {
    for (int side = 0; side < 2; ++side) s.boundary[d][side] = p.boundary[d][side].kind;
    s.train_n[d] = op.grid().n(d);
    s.train_h[d] = d < p.dim ? p.spacing(d) : 0.0;
  }
  s.centering = p.centering;
  s.helmholtz = p.helmholtz;
  return s;
}

// Grid sizes of the operator's unknowns, [z, y, x] order for tensors of its dimension.
std::vector<std::int64_t> tensor_shape(const EllipticOperator& op, std::int64_t batch) {
  std::vector<std::int64_t> shape{batch, 1};
  for (int d = op.problem().dim - 1; d >= 0; --d) shape.push_back(op.grid().n(d));
  return shape;
}

// ModelError unless the network can run on this operator's grid (2D/3D, even sizes).
void check_network_grid(const EllipticOperator& op, const std::string& who) {
  const int dim = op.problem().dim;
  if (dim != 2 && dim != 3) {
    throw ModelError(who + ": the DCDM network is 2D or 3D, the operator is " +
                     std::to_string(dim) + "D");
  }
  for (int d = 0; d < dim; ++d) {
    if (op.grid().n(d) % 2 != 0 || op.grid().n(d) < 2) {
      throw ModelError(who + ": the DCDM network pools by 2 and needs even grid sizes; " +
                       std::string(1, "xyz"[d]) + " has " + std::to_string(op.grid().n(d)) +
                       " unknowns");
    }
  }
}

// One line that identifies the training operator (datasets are checked against it).
std::string describe_operator(const EllipticOperator& op) {
  const EllipticProblem& p = op.problem();
  std::ostringstream os;
  os << "dim " << p.dim << ", unknowns";
  for (int d = 0; d < p.dim; ++d) os << (d ? " x " : " ") << op.grid().n(d);
  os << ", " << centering_name(p.centering) << "-centred, boundary";
  for (int d = 0; d < p.dim; ++d) {
    os << ' ' << "xyz"[d] << ' ' << boundary_kind_name(p.boundary[d][0].kind) << '/'
       << boundary_kind_name(p.boundary[d][1].kind);
  }
  os << ", spacing";
  for (int d = 0; d < p.dim; ++d) os << ' ' << fmt_exact(p.spacing(d));
  os << ", helmholtz " << fmt_exact(p.helmholtz);
  if (op.constant_coefficient()) {
    os << ", k " << fmt_exact(op.constant_k());
  } else {
    os << ", variable k";
  }
  return os.str();
}

// ---------------------------------------------------------------------------------------------
// The network.

// [B, C, (z,) y, x] -> one more cell on every face of the used dimensions, by boundary kind.
torch::Tensor pad_faces(torch::Tensor x, const NetSpec& s) {
  namespace F = torch::nn::functional;
  bool uniform = true;
  for (int d = 0; d < s.dim; ++d)
    for (int side = 0; side < 2; ++side)
      uniform = uniform && s.boundary[d][side] == s.boundary[0][0];
  if (uniform && s.boundary[0][0] != BoundaryKind::dirichlet) {
    // One kind on every face: torch's own padding, a single copy.
    const std::vector<int64_t> widths(size_t(2 * s.dim), 1);
    const auto options = s.boundary[0][0] == BoundaryKind::periodic
                             ? F::PadFuncOptions(widths).mode(torch::kCircular)
                             : F::PadFuncOptions(widths).mode(torch::kReplicate);
    return F::pad(x, options);
  }
  // Mixed kinds: face by face.
  for (int d = 0; d < s.dim; ++d) {
    const int64_t axis = x.dim() - 1 - d;
    const int64_t n = x.size(axis);
    torch::Tensor sides[2];
    for (int side = 0; side < 2; ++side) {
      const int64_t edge = side == 0 ? 0 : n - 1;
      switch (s.boundary[d][side]) {
        case BoundaryKind::periodic:
          sides[side] = x.narrow(axis, n - 1 - edge, 1);
          break;
        case BoundaryKind::neumann:
          sides[side] = x.narrow(axis, edge, 1);
          break;
        case BoundaryKind::dirichlet:
        default:
          sides[side] = torch::zeros_like(x.narrow(axis, edge, 1));
          break;
      }
    }
    x = torch::cat({sides[0], x, sides[1]}, axis);
  }
  return x;
}

// A 3^dim (or 1x1) convolution with the boundary padding of the operator; weights registered
// as plain parameters so one module serves 2D and 3D (torch::nn::Conv2d/3d are distinct types).
class ConvImpl : public torch::nn::Module {
 public:
  ConvImpl(const NetSpec& s, int in, int out, int kernel) : spec_(s), kernel_(kernel) {
    std::vector<int64_t> shape{out, in};
    for (int d = 0; d < s.dim; ++d) shape.push_back(kernel);
    const double fan_in = double(in) * std::pow(double(kernel), s.dim);
    // torch's default conv initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)). No bias: see
    // the file comment.
    const double bound = 1.0 / std::sqrt(fan_in);
    weight_ = register_parameter("weight", torch::empty(shape).uniform_(-bound, bound));
    all_dirichlet_ = true;
    for (int d = 0; d < s.dim; ++d)
      for (int side = 0; side < 2; ++side)
        all_dirichlet_ = all_dirichlet_ && s.boundary[d][side] == BoundaryKind::dirichlet;
  }
  torch::Tensor forward(const torch::Tensor& x) {
    if (kernel_ == 1) return convolve(x, 0);
    // Zero padding on every face is the convolution's own (no copy of the input); any other
    // mix of kinds is padded explicitly.
    return all_dirichlet_ ? convolve(x, 1) : convolve(pad_faces(x, spec_), 0);
  }

 private:
  torch::Tensor convolve(const torch::Tensor& x, int64_t padding) {
    if (x.is_cpu() && x.scalar_type() == torch::kFloat32 && at::hasMKLDNN()) {
      // oneDNN directly: torch's conv3d dispatch takes a slow path for a batch of one (the
      // solver's case), 37 ms against 3 ms for 16 -> 16 channels on 32^3 with 2 threads; for
      // training batches and in 2D both are as fast. Differentiable like conv2d/conv3d.
      const std::vector<int64_t> pad(size_t(spec_.dim), padding), one(size_t(spec_.dim), 1);
      return torch::mkldnn_convolution(x, weight_, {}, pad, one, one, 1);
    }
    return spec_.dim == 2 ? torch::conv2d(x, weight_, {}, 1, padding)
                          : torch::conv3d(x, weight_, {}, 1, padding);
  }
  NetSpec spec_;
  int kernel_;
  bool all_dirichlet_ = false;
  torch::Tensor weight_;
};
TORCH_MODULE(Conv);

class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(const NetSpec& s, int channels)
      : a_(register_module("a", Conv(s, channels, channels, 3))),
        b_(register_module("b", Conv(s, channels, channels, 3))) {}
  torch::Tensor forward(const torch::Tensor& x) { return x + torch::relu(b_(torch::relu(a_(x)))); }

 private:
  Conv a_, b_;
};
TORCH_MODULE(ResidualBlock);

class DcdmNetImpl : public torch::nn::Module {
 public:
  explicit DcdmNetImpl(const NetSpec& s) : spec_(s) {
    const int c = s.channels;
    input_ = register_module("input", Conv(s, 1, c, 3));
    down_ = register_module("down", Conv(s, c, 2 * c, 3));
    up_ = register_module("up", Conv(s, 2 * c, c, 1));
    output_ = register_module("output", Conv(s, c, 1, 1));
    fine_in_ = register_module("fine_in", torch::nn::ModuleList());
    coarse_ = register_module("coarse", torch::nn::ModuleList());
    fine_out_ = register_module("fine_out", torch::nn::ModuleList());
    for (int b = 0; b < s.blocks; ++b) {
      fine_in_->push_back(ResidualBlock(s, c));
      coarse_->push_back(ResidualBlock(s, 2 * c));
      fine_out_->push_back(ResidualBlock(s, c));
    }
  }

  torch::Tensor forward(const torch::Tensor& r) {
    torch::Tensor x = input_(r);
    for (auto& block : *fine_in_) x = block->as<ResidualBlock>()->forward(x);
    const torch::Tensor skip = x;
    torch::Tensor y =
        spec_.dim == 2 ? torch::avg_pool2d(x, {2, 2}) : torch::avg_pool3d(x, {2, 2, 2});
    y = down_(y);
    for (auto& block : *coarse_) y = block->as<ResidualBlock>()->forward(y);
    // The pointwise 1x1 commutes with nearest upsampling: applied on the coarse grid, it costs
    // 1/2^dim of the same layer at full resolution.
    y = up_(y);
    for (int d = 0; d < spec_.dim; ++d) y = y.repeat_interleave(2, y.dim() - 1 - d);
    x = skip + y;
    for (auto& block : *fine_out_) x = block->as<ResidualBlock>()->forward(x);
    return output_(x);
  }

  long long parameter_count() const {
    long long n = 0;
    for (const auto& t : parameters()) n += t.numel();
    return n;
  }
  const NetSpec& spec() const { return spec_; }

 private:
  NetSpec spec_;
  Conv input_{nullptr}, down_{nullptr}, up_{nullptr}, output_{nullptr};
  torch::nn::ModuleList fine_in_{nullptr}, coarse_{nullptr}, fine_out_{nullptr};
};
TORCH_MODULE(DcdmNet);

// ---------------------------------------------------------------------------------------------
// PETSc <-> rank 0 in natural order.

class NaturalGather {
 public:
  explicit NaturalGather(const EllipticOperator& op)
      : dm_(op.grid().dm()), comm_(op.grid().comm()) {
    AEOLUS_PETSC(DMDACreateNaturalVector(dm_, &natural_));
    AEOLUS_PETSC(VecScatterCreateToZero(natural_, &scatter_, &root_));
  }
  ~NaturalGather() {
    VecScatterDestroy(&scatter_);
    VecDestroy(&root_);
    VecDestroy(&natural_);
  }
  NaturalGather(const NaturalGather&) = delete;
  NaturalGather& operator=(const NaturalGather&) = delete;

  // All values of v in natural order on rank 0 (empty elsewhere), in a buffer kept by this
  // object (valid until the next call): no allocation per solver iteration. Collective.
  const std::vector<double>& to_root(Vec v) {
    AEOLUS_PETSC(DMDAGlobalToNaturalBegin(dm_, v, INSERT_VALUES, natural_));
    AEOLUS_PETSC(DMDAGlobalToNaturalEnd(dm_, v, INSERT_VALUES, natural_));
    AEOLUS_PETSC(VecScatterBegin(scatter_, natural_, root_, INSERT_VALUES, SCATTER_FORWARD));
    AEOLUS_PETSC(VecScatterEnd(scatter_, natural_, root_, INSERT_VALUES, SCATTER_FORWARD));
    PetscInt n = 0;
    AEOLUS_PETSC(VecGetLocalSize(root_, &n));
    const PetscScalar* a = nullptr;
    AEOLUS_PETSC(VecGetArrayRead(root_, &a));
    buffer_.assign(a, a + n);
    AEOLUS_PETSC(VecRestoreArrayRead(root_, &a));
    return buffer_;
  }
  // The inverse: rank 0's values (natural order; ignored elsewhere) into v. Collective.
  void from_root(const std::vector<double>& values, Vec v) {
    PetscInt n = 0;
    AEOLUS_PETSC(VecGetLocalSize(root_, &n));
    if (n > 0) {
      if (values.size() != size_t(n)) {
        throw ModelError("dcdm: " + std::to_string(values.size()) + " values for " +
                         std::to_string(n) + " unknowns");
      }
      PetscScalar* a = nullptr;
      AEOLUS_PETSC(VecGetArray(root_, &a));
      std::copy(values.begin(), values.end(), a);
      AEOLUS_PETSC(VecRestoreArray(root_, &a));
    }
    AEOLUS_PETSC(VecScatterBegin(scatter_, root_, natural_, INSERT_VALUES, SCATTER_REVERSE));
    AEOLUS_PETSC(VecScatterEnd(scatter_, root_, natural_, INSERT_VALUES, SCATTER_REVERSE));
    AEOLUS_PETSC(DMDANaturalToGlobalBegin(dm_, natural_, INSERT_VALUES, v));
    AEOLUS_PETSC(DMDANaturalToGlobalEnd(dm_, natural_, INSERT_VALUES, v));
  }
  MPI_Comm comm() const { return comm_; }

 private:
  DM dm_;
  MPI_Comm comm_;
  Vec natural_ = nullptr, root_ = nullptr;
  VecScatter scatter_ = nullptr;
  std::vector<double> buffer_;
};

// op.matrix() on rank 0 as a coalesced sparse COO tensor [N, N] (double) in natural order; an
// undefined tensor on the other ranks. Collective.
torch::Tensor sparse_operator(const EllipticOperator& op) {
  Mat A = op.matrix();
  PetscInt n = 0;
  AEOLUS_PETSC(MatGetSize(A, &n, nullptr));
  const bool root = comm_rank(op.grid().comm()) == 0;
  // Every rank asks for a sequential submatrix: rank 0 all of A, the others nothing.
  IS all = nullptr;
  AEOLUS_PETSC(ISCreateStride(PETSC_COMM_SELF, root ? n : 0, 0, 1, &all));
  Mat* sub = nullptr;
  const PetscErrorCode ierr = MatCreateSubMatrices(A, 1, &all, &all, MAT_INITIAL_MATRIX, &sub);
  ISDestroy(&all);
  AEOLUS_PETSC(ierr);
  // PETSc global index -> natural index, by the grid's application ordering (collective).
  AO ao = nullptr;
  AEOLUS_PETSC(DMDAGetAO(op.grid().dm(), &ao));
  std::vector<PetscInt> natural(root ? size_t(n) : 0);
  for (size_t i = 0; i < natural.size(); ++i) natural[i] = PetscInt(i);
  AEOLUS_PETSC(AOPetscToApplication(ao, PetscInt(natural.size()), natural.data()));
  torch::Tensor result;
  if (root) {
    std::vector<int64_t> rows, cols;
    std::vector<double> values;
    for (PetscInt i = 0; i < n; ++i) {
      PetscInt count = 0;
      const PetscInt* c = nullptr;
      const PetscScalar* v = nullptr;
      AEOLUS_PETSC(MatGetRow(sub[0], i, &count, &c, &v));
      for (PetscInt k = 0; k < count; ++k) {
        rows.push_back(natural[size_t(i)]);
        cols.push_back(natural[size_t(c[k])]);
        values.push_back(v[k]);
      }
      AEOLUS_PETSC(MatRestoreRow(sub[0], i, &count, &c, &v));
    }
    const int64_t nnz = int64_t(values.size());
    torch::Tensor index = torch::empty({2, nnz}, torch::kLong);
    std::copy(rows.begin(), rows.end(), index[0].data_ptr<int64_t>());
    std::copy(cols.begin(), cols.end(), index[1].data_ptr<int64_t>());
    const torch::Tensor vals = torch::from_blob(values.data(), {nnz}, torch::kFloat64).clone();
    result = torch::sparse_coo_tensor(index, vals, {n, n}, torch::kFloat64).coalesce();
  }
  AEOLUS_PETSC(MatDestroySubMatrices(1, &sub));
  return result;
}

// Mean over the batch of ||b - A q (q^T b)/(q^T A q)||^2; A sparse [N, N], b and q [B, N].
// This is the paper's loss: the residual left after the exact line search along q, so it
// does not depend on the scale of q and is zero for q parallel to A^{-1} b.
torch::Tensor dcdm_loss_tensor(const torch::Tensor& a, const torch::Tensor& b,
                               const torch::Tensor& q) {
  const torch::Tensor aq = torch::mm(a, q.t().contiguous()).t();
  const torch::Tensor qb = (q * b).sum(1, true);
  const torch::Tensor qaq = (q * aq).sum(1, true);
  return (b - aq * (qb / qaq)).pow(2).sum(1).mean();
}

// ---------------------------------------------------------------------------------------------
// Saving and loading.

void save_model(const std::string& path, DcdmNet& net, const std::vector<double>& train_loss,
                const std::vector<double>& valid_loss) {
  const NetSpec& s = net->spec();
  torch::serialize::OutputArchive archive;
  net->save(archive);
  archive.write("meta.format", c10::IValue(std::string(kFormatName)));
  archive.write("meta.version", c10::IValue(kFormatVersion));
  archive.write("meta.dim", c10::IValue(std::int64_t(s.dim)));
  archive.write("meta.channels", c10::IValue(std::int64_t(s.channels)));
  archive.write("meta.blocks", c10::IValue(std::int64_t(s.blocks)));
  for (int d = 0; d < 3; ++d)
    for (int side = 0; side < 2; ++side) {
      archive.write(std::string("meta.boundary.") + kFaceNames[d][side],
                    c10::IValue(std::string(boundary_kind_name(s.boundary[d][side]))));
    }
  archive.write("meta.centering", c10::IValue(std::string(centering_name(s.centering))));
  archive.write("meta.train_n",
                c10::IValue(std::vector<int64_t>(s.train_n.begin(), s.train_n.end())));
  archive.write("meta.train_h",
                c10::IValue(std::vector<double>(s.train_h.begin(), s.train_h.end())));
  archive.write("meta.helmholtz", c10::IValue(s.helmholtz));
  archive.write("meta.train_loss", c10::IValue(train_loss));
  archive.write("meta.valid_loss", c10::IValue(valid_loss));
  detail::save_model_archive(archive, path);
}

struct LoadedModel {
  DcdmNet net{nullptr};
  NetSpec spec;
};

// Reads the metadata (every rank) and, if `weights`, the network. IoError / ModelError.
LoadedModel load_model(const std::string& path, bool weights) {
  detail::ModelArchive file(path, kFormatName, "Aeolus DCDM model");
  const auto read = [&](const std::string& key) { return file.read(key); };
  file.check_version(kFormatVersion);
  LoadedModel m;
  file.parse_metadata([&] {
    NetSpec& s = m.spec;
    s.dim = int(read("meta.dim").toInt());
    s.channels = int(read("meta.channels").toInt());
    s.blocks = int(read("meta.blocks").toInt());
    for (int d = 0; d < 3; ++d)
      for (int side = 0; side < 2; ++side) {
        s.boundary[d][side] = boundary_kind_from_name(
            read(std::string("meta.boundary.") + kFaceNames[d][side]).toStringRef());
      }
    s.centering = centering_from_name(read("meta.centering").toStringRef());
    const auto n = read("meta.train_n").toIntVector();
    const auto h = read("meta.train_h").toDoubleVector();
    if (n.size() != 3 || h.size() != 3) throw ModelError("train_n / train_h are not 3 values");
    for (int d = 0; d < 3; ++d) {
      s.train_n[d] = n[size_t(d)];
      s.train_h[d] = h[size_t(d)];
    }
    s.helmholtz = read("meta.helmholtz").toDouble();
    if ((s.dim != 2 && s.dim != 3) || s.channels < 1 || s.blocks < 0) {
      throw ModelError("dim " + std::to_string(s.dim) + ", channels " + std::to_string(s.channels) +
                       ", blocks " + std::to_string(s.blocks));
    }
  });
  if (weights) {
    m.net = DcdmNet(m.spec);
    file.load_weights(*m.net);
    m.net->eval();
  }
  return m;
}

// ModelError unless the saved network fits `op` (dimension, boundary kinds, centring, sizes).
void check_compatible(const std::string& path, const NetSpec& s, const EllipticOperator& op) {
  const EllipticProblem& p = op.problem();
  const std::string who = "model " + path;
  if (s.dim != p.dim) {
    throw ModelError(who + " was trained in " + std::to_string(s.dim) + "D, the operator is " +
                     std::to_string(p.dim) + "D");
  }
  for (int d = 0; d < p.dim; ++d)
    for (int side = 0; side < 2; ++side) {
      if (s.boundary[d][side] != p.boundary[d][side].kind) {
        throw ModelError(who + ": boundary " + kFaceNames[d][side] + " is " +
                         boundary_kind_name(p.boundary[d][side].kind) +
                         " in the operator but the model was trained with " +
                         boundary_kind_name(s.boundary[d][side]));
      }
    }
  if (s.centering != p.centering) {
    throw ModelError(who + " was trained " + centering_name(s.centering) +
                     "-centred, the operator is " + centering_name(p.centering) + "-centred");
  }
  check_network_grid(op, who);
}

// ---------------------------------------------------------------------------------------------
// The DirectionModel.

class CnnDirection final : public DirectionModel {
 public:
  CnnDirection(LoadedModel model, const EllipticOperator& op, int threads, torch::Device device)
      : model_(std::move(model)),
        gather_(op),
        shape_(tensor_shape(op, 1)),
        threads_(threads),
        device_(device) {
    if (model_.net) model_.net->to(device_);
  }

  void direction(Vec r, Vec q) override {
    const std::vector<double>& values = gather_.to_root(r);
    on_root(gather_.comm(), [&] {
      detail::ThreadScope threads(threads_);
      torch::NoGradGuard no_grad;
      // float32: the precision the network was trained in, and about twice as fast as double;
      // the solver only needs a direction, its line search and orthogonalisation are in double.
      const torch::Tensor x =
          torch::from_blob(const_cast<double*>(values.data()), shape_, torch::kFloat64)
              .to(device_, torch::kFloat32);
      const torch::Tensor y =
          model_.net->forward(x).to(torch::Device(torch::kCPU), torch::kFloat64).contiguous();
      out_.assign(y.data_ptr<double>(), y.data_ptr<double>() + y.numel());
    });
    gather_.from_root(out_, q);
  }

 private:
  LoadedModel model_;
  NaturalGather gather_;
  std::vector<double> out_;  // the direction on rank 0, kept between iterations
  std::vector<std::int64_t> shape_;
  int threads_;
  torch::Device device_;
};

// The C API's view of a DCDM archive (emulators/array_model.hpp): the network's search
// direction for residuals, in [B, ny, nx] (2D model) or [B, nz, ny, nx] (3D), x fastest as the
// operator's natural order, each extent even -> out of the same shape, the direction
// CnnDirection gives the solver (float32 network, unnormalised: dcdm_solve scales it by its
// line search). The padding follows the trained boundary kinds; any even grid size runs (the
// network is convolutional), the trained one is what it learned on.
class DcdmArrayModel : public ArchiveArrayModel {
 public:
  DcdmArrayModel(const std::string& path, LoadedModel m)
      : ArchiveArrayModel(path, "Aeolus DCDM archive (" + std::string(kFormatName) + ")",
                          contract_of(m.spec), DType::float32),
        model_(std::move(m)) {}

  static std::string contract_of(const NetSpec& s) {
    const std::string dims = s.dim == 2 ? "[B, ny, nx]" : "[B, nz, ny, nx]";
    return dims + " residuals, even extents -> " + dims + " search directions";
  }

 protected:
  std::vector<std::int64_t> shape_for(const std::vector<std::int64_t>& s) const override {
    if (s.size() != std::size_t(model_.spec.dim + 1)) refuse(s);
    for (std::size_t d = 1; d < s.size(); ++d) {
      if (s[d] < 2 || s[d] % 2 != 0) refuse(s, "the network pools by 2: extents must be even");
    }
    return s;
  }
  torch::Tensor compute(const torch::Tensor& x) const override {
    if (x.size(0) == 0) return x.clone();
    DcdmNet& net = const_cast<DcdmNet&>(model_.net);  // forward is const in meaning
    return net->forward(x.unsqueeze(1)).squeeze(1);
  }

 private:
  LoadedModel model_;
};

std::unique_ptr<ArrayModel> load_dcdm_array_model(const std::string& path) {
  return std::make_unique<DcdmArrayModel>(path, load_model(path, true));
}

[[maybe_unused]] const bool kArrayModelRegistered =
    register_archive_model(kFormatName, &load_dcdm_array_model);

// ---------------------------------------------------------------------------------------------
// The dataset.

std::vector<std::string> spatial_dims(int dim) {
  if (dim == 1) return {"x"};
  if (dim == 2) return {"y", "x"};
  return {"z", "y", "x"};
}

void check_dataset_params(const DcdmDatasetParams& p) {
  const auto fail = [](const std::string& what) { throw ConfigError("dcdm dataset: " + what); };
  if (p.ritz < 2) fail("ritz = " + std::to_string(p.ritz) + ", expected >= 2");
  if (p.samples < 1) fail("samples = " + std::to_string(p.samples) + ", expected >= 1");
  if (p.valid < 1) fail("valid = " + std::to_string(p.valid) + ", expected >= 1");
  if (!(p.low_weight > 0) || !std::isfinite(p.low_weight)) fail("low_weight must be > 0");
  if (!(p.low_fraction >= 0 && p.low_fraction <= 1)) fail("low_fraction must be in [0, 1]");
}

// The right-hand sides of one split on rank 0, as float [count, 1, (z,) y, x].
torch::Tensor read_split(const io::NetcdfFile& f, const std::string& var,
                         const EllipticOperator& op) {
  const std::vector<size_t> shape = f.var_shape(var);
  const std::vector<std::int64_t> expected = tensor_shape(op, 0);
  bool ok = shape.size() == expected.size() - 1;
  for (size_t i = 1; ok && i < shape.size(); ++i) ok = std::int64_t(shape[i]) == expected[i + 1];
  if (!ok || shape[0] < 1) {
    std::ostringstream os;
    os << "dataset " << f.path() << ": variable " << var << " has shape (";
    for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
    os << "), expected (samples >= 1";
    for (size_t i = 2; i < expected.size(); ++i) os << ", " << expected[i];
    os << ") for the operator";
    throw IoError(os.str());
  }
  const std::int64_t count = std::int64_t(shape[0]);
  const std::int64_t cells = op.grid().global_cells();
  std::vector<std::int64_t> tshape = tensor_shape(op, count);
  torch::Tensor out = torch::empty({count, cells}, torch::kFloat32);
  // Blocks of samples: the double buffer stays small for 3D grids.
  const std::int64_t block = std::max<std::int64_t>(1, (1 << 22) / cells);
  std::vector<double> buffer;
  for (std::int64_t s = 0; s < count; s += block) {
    const std::int64_t e = std::min(count, s + block);
    buffer.resize(size_t((e - s) * cells));
    std::vector<size_t> start(shape.size(), 0), extent(shape);
    start[0] = size_t(s);
    extent[0] = size_t(e - s);
    f.get(var, start, extent, buffer.data());
    out.index_put_(
        {Slice(s, e)},
        torch::from_blob(buffer.data(), {e - s, cells}, torch::kFloat64).to(torch::kFloat32));
  }
  if (!torch::isfinite(out).all().item<bool>()) {
    throw IoError("dataset " + f.path() + ": variable " + var + " has non-finite values");
  }
  return out.view(tshape);
}

// Opens a dataset on rank 0 and checks that it was made for this operator.
std::unique_ptr<io::NetcdfFile> open_dataset(const std::string& path, const EllipticOperator& op) {
  if (!fs::exists(path)) throw IoError("dataset " + path + " does not exist");
  auto f = std::make_unique<io::NetcdfFile>(path, io::NetcdfFile::Mode::read);
  if (!f->has_att("", "dcdm_operator")) {
    throw IoError("dataset " + path +
                  " lacks the global attribute dcdm_operator: not a DCDM "
                  "dataset (aeolus dataset writes one)");
  }
  const std::string made_for = f->get_att_string("", "dcdm_operator");
  const std::string here = describe_operator(op);
  if (made_for != here) {
    throw ConfigError("dataset " + path + " was made for the operator '" + made_for +
                      "', training is on '" + here + "'; regenerate it");
  }
  return f;
}

// Mean loss of `net` over the samples of x (float), in minibatches, without gradients.
double evaluate(DcdmNet& net, const torch::Tensor& a, const torch::Tensor& x, int batch_size) {
  torch::NoGradGuard no_grad;
  const std::int64_t count = x.size(0);
  double total = 0;
  for (std::int64_t s = 0; s < count; s += batch_size) {
    const std::int64_t e = std::min(count, s + std::int64_t(batch_size));
    const torch::Tensor b = x.index({Slice(s, e)});
    const torch::Tensor q = net->forward(b);
    total += dcdm_loss_tensor(a, b.reshape({e - s, -1}), q.reshape({e - s, -1})).item<double>() *
             double(e - s);
  }
  return total / double(count);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

double dcdm_forward_macs(int dim, double cells, const DcdmNetParams& net) {
  const double k = std::pow(3.0, dim);  // 3^dim kernel
  const double coarse = cells / std::pow(2.0, dim);
  const double c = net.channels, b = net.blocks;
  return k * c * cells                     // input conv 1 -> C
         + 2 * b * 2 * k * c * c * cells   // residual blocks before and after the skip
         + k * c * 2 * c * coarse          // down conv C -> 2C
         + b * 2 * k * 4 * c * c * coarse  // coarse residual blocks
         + 2 * c * c * coarse              // 1x1 2C -> C
         + c * cells;                      // 1x1 output
}

void generate_dcdm_dataset(const EllipticOperator& op, const DcdmDatasetParams& p,
                           const std::string& path, const ProgressSink& progress) {
  check_dataset_params(p);
  const MPI_Comm comm = op.grid().comm();
  const int dim = op.problem().dim;
  RitzPairs pairs = lanczos_ritz(op.matrix(), p.ritz, p.seed, op.grid().dm(), progress);
  const int k = int(pairs.values.size());
  // The low part of the spectrum (lowest Ritz values first) weighted by low_weight: the
  // authors' dataset script draws c_i ~ 9 N(0, 1) for i < m/2 + theta (theta = 500, m = 10000)
  // and N(0, 1) above, so that right-hand sides lean on the smooth modes CG is slowest on.
  const int low = int(std::lround(p.low_fraction * k));
  const std::string part = path + ".part";
  std::unique_ptr<io::NetcdfFile> file;
  const std::vector<std::string> space = spatial_dims(dim);
  on_root(comm, [&] {
    const fs::path parent = fs::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) fs::create_directories(parent, ec);
    fs::remove(part, ec);  // a stale .part is an interrupted write: nothing worth keeping
    file = std::make_unique<io::NetcdfFile>(part, io::NetcdfFile::Mode::create);
    io::NetcdfFile& f = *file;
    f.def_dim("sample", size_t(p.samples));
    f.def_dim("valid_sample", size_t(p.valid));
    f.def_dim("ritz", size_t(k));
    std::vector<size_t> chunks{1};
    for (int d = dim - 1; d >= 0; --d) {
      f.def_dim(space[size_t(dim - 1 - d)], size_t(op.grid().n(d)));
      chunks.push_back(size_t(op.grid().n(d)));
    }
    for (int d = 0; d < dim; ++d) {
      const std::string name = space[size_t(dim - 1 - d)];
      f.def_var(name, "double", {name});
      f.put_att(name, "units", "m");
      f.put_att(name, "long_name", std::string("position of the unknowns along ") + name);
      f.put_att(name, "axis", std::string(1, char(std::toupper(name[0]))));
    }
    std::vector<std::string> train_dims{"sample"}, valid_dims{"valid_sample"};
    train_dims.insert(train_dims.end(), space.begin(), space.end());
    valid_dims.insert(valid_dims.end(), space.begin(), space.end());
    // float: the network trains in float32; halves the file.
    f.def_var("b", "float", train_dims, 0, chunks);
    f.def_var("b_valid", "float", valid_dims, 0, chunks);
    for (const char* v : {"b", "b_valid"}) {
      f.put_att(v, "long_name",
                std::string(v == std::string("b") ? "training" : "validation") +
                    " right-hand side: Ritz-vector combination of unit 2-norm");
      f.put_att(v, "units", "1");
    }
    f.def_var("ritz_value", "double", {"ritz"});
    f.put_att("ritz_value", "long_name", "Ritz values of the operator A (ascending)");
    f.put_att("ritz_value", "units", "m-2");
    f.def_var("ritz_residual", "double", {"ritz"});
    f.put_att("ritz_residual", "long_name",
              "estimated ||A v - theta v|| of each Ritz pair (unit v): beta_m |s_mi|");
    f.put_att("ritz_residual", "units", "m-2");
    f.put_att("", "Conventions", "CF-1.8");
    f.put_att("", "title", "Aeolus DCDM training right-hand sides");
    f.put_att("", "source",
              "Aeolus generate_dcdm_dataset: Lanczos with full reorthogonalisation on the "
              "assembled operator A from a seeded random start; b = sum_i c_i v_i over the Ritz "
              "vectors v_i, c_i ~ N(0, 1) times low_weight for the lowest low_fraction of the "
              "Ritz values, normalised to unit 2-norm (Kaneda et al., ICML 2023)");
    f.put_att("", "references",
              "Kaneda, Akar, Chen, Kim, Teran (2023): A Deep Conjugate Direction Method for "
              "Iteratively Solving Linear Systems, ICML, PMLR 202");
    f.put_att("", "comment",
              "b holds the training samples, b_valid the validation samples (drawn after them "
              "from the same stream); values in the natural order of the unknowns, x fastest");
    f.put_att("", "dcdm_operator", describe_operator(op));
    f.put_att("", "dcdm_ritz_requested", p.ritz);
    f.put_att("", "dcdm_ritz", k);
    f.put_att("", "dcdm_low_weight", double(p.low_weight));
    f.put_att("", "dcdm_low_fraction", double(p.low_fraction));
    f.put_att("", "dcdm_low_count", low);
    f.put_att("", "dcdm_seed", (long long)p.seed);
    f.end_def();
    for (int d = 0; d < dim; ++d) {
      std::vector<double> x(size_t(op.grid().n(d)));
      for (size_t i = 0; i < x.size(); ++i) x[i] = op.grid().center(d, index_t(i));
      f.put(space[size_t(dim - 1 - d)], {}, {}, x.data());
    }
    f.put("ritz_value", {}, {}, pairs.values.data());
    f.put("ritz_residual", {}, {}, pairs.residuals.data());
  });

  // Every rank draws the same coefficients and forms its part of b; rank 0 writes. A write
  // error on rank 0 is kept until the loop ends, so the other ranks never wait on it alone.
  Failure write_failure;
  const bool root = comm_rank(comm) == 0;
  Vec b = nullptr;
  AEOLUS_PETSC(VecDuplicate(pairs.vectors[0], &b));
  try {
    NaturalGather gather(op);
    // A stream distinct from Lanczos's start vector (same seed, decorrelated).
    NormalStream draws(p.seed ^ 0x9E3779B97F4A7C15ull);
    std::vector<PetscScalar> c(static_cast<size_t>(k));
    std::vector<size_t> start(size_t(dim) + 1, 0), count(size_t(dim) + 1, 0);
    count[0] = 1;
    for (int d = 0; d < dim; ++d) count[size_t(dim - d)] = size_t(op.grid().n(d));
    ProgressMeter meter(progress, "sample", p.samples + p.valid);
    for (int s = 0; s < p.samples + p.valid; ++s) {
      for (int i = 0; i < k; ++i) c[size_t(i)] = draws.next() * (i < low ? p.low_weight : 1.0);
      AEOLUS_PETSC(VecSet(b, 0.0));
      AEOLUS_PETSC(VecMAXPY(b, k, c.data(), pairs.vectors.data()));
      PetscReal norm = 0;
      AEOLUS_PETSC(VecNormalize(b, &norm));
      const std::vector<double>& values = gather.to_root(b);
      if (root && write_failure.kind == Failure::Kind::none) {
        write_failure = capture([&] {
          const bool train = s < p.samples;
          start[0] = size_t(train ? s : s - p.samples);
          file->put(train ? "b" : "b_valid", start, count, values.data());
        });
      }
      if (meter.due(s + 1)) meter.emit(s + 1, "right-hand sides");
    }
  } catch (...) {
    VecDestroy(&b);
    destroy(pairs);
    throw;
  }
  VecDestroy(&b);
  destroy(pairs);
  rethrow_everywhere(comm, write_failure);
  on_root(comm, [&] {
    file->close();
    file.reset();
    std::error_code ec;
    fs::rename(part, path, ec);
    if (ec)
      throw IoError("dataset " + part + ": cannot rename to " + path + " (" + ec.message() + ")");
  });
}

DcdmTrainReport train_dcdm(const EllipticOperator& op, const std::string& dataset,
                           const DcdmNetParams& net, const DcdmTrainingParams& training,
                           const std::string& model_path, const ProgressSink& progress) {
  const auto fail = [](const std::string& what) { throw ConfigError("dcdm training: " + what); };
  if (net.channels < 1) fail("channels = " + std::to_string(net.channels) + ", expected >= 1");
  if (net.blocks < 0) fail("blocks = " + std::to_string(net.blocks) + ", expected >= 0");
  if (training.epochs < 1) fail("epochs = " + std::to_string(training.epochs) + ", expected >= 1");
  if (training.batch_size < 1) {
    fail("batch_size = " + std::to_string(training.batch_size) + ", expected >= 1");
  }
  if (!(training.learning_rate > 0)) fail("learning_rate must be > 0");
  if (!(training.max_minutes > 0)) fail("max_minutes must be > 0");
  if (training.threads < 1)
    fail("threads = " + std::to_string(training.threads) + ", expected >= 1");
  check_network_grid(op, "dcdm training on " + dataset);
  const torch::Device device = detail::torch_device(training.device, "dcdm training device");

  const MPI_Comm comm = op.grid().comm();
  const torch::Tensor a_double = sparse_operator(op);  // collective
  DcdmTrainReport report;
  on_root(
      comm,
      [&] {
        const auto start = std::chrono::steady_clock::now();
        const auto elapsed = [&] {
          return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        };
        detail::ThreadScope threads(training.threads);
        torch::manual_seed(training.seed);
        torch::Tensor train_x, valid_x;
        {
          const auto f = open_dataset(dataset, op);
          train_x = read_split(*f, "b", op).to(device);
          valid_x = read_split(*f, "b_valid", op).to(device);
        }
        // float32 throughout training: about twice the speed of double on CPUs; the loss is a
        // ratio of O(1) quantities (b has unit norm), well within float's range.
        const torch::Tensor a = a_double.to(device, torch::kFloat32);
        const NetSpec spec = spec_of(op, net);
        DcdmNet model(spec);
        model->to(device);
        // Constant learning rate, as the authors (Adam, 1e-4 there): the wall-clock cap may end
        // training at any epoch, and a decaying schedule would then stop at an arbitrary point.
        torch::optim::Adam optimizer(model->parameters(),
                                     torch::optim::AdamOptions(training.learning_rate));
        const std::string log_path = model_path + ".csv";
        {
          const fs::path parent = fs::path(log_path).parent_path();
          std::error_code ec;
          if (!parent.empty()) fs::create_directories(parent, ec);
        }
        std::ofstream log(log_path);
        if (!log) throw IoError("cannot write training log " + log_path);
        log << "epoch,train_loss,valid_loss,seconds\n";
        log.precision(9);

        report.parameters = model->parameter_count();
        report.flops_per_sample =
            3 * 2 * dcdm_forward_macs(spec.dim, double(op.grid().global_cells()), net);
        std::vector<double> train_history, valid_history;
        model->eval();
        report.initial_valid_loss = evaluate(model, a, valid_x, training.batch_size);
        log << 0 << ",," << report.initial_valid_loss << ',' << elapsed() << '\n' << std::flush;

        double best_valid = std::numeric_limits<double>::infinity();
        std::mt19937_64 rng(training.seed);
        const std::int64_t count = train_x.size(0);
        std::vector<std::int64_t> order(static_cast<size_t>(count));
        for (std::int64_t i = 0; i < count; ++i) order[size_t(i)] = i;
        double training_seconds = 0;
        long long samples_seen = 0;
        bool out_of_time = false;
        const long long batches_per_epoch = (count + training.batch_size - 1) / training.batch_size;
        ProgressMeter meter(progress, "batch", batches_per_epoch * training.epochs);
        long long batches_done = 0;
        std::string last_valid;  // ", valid LOSS" of the last epoch, for the progress lines
        for (int epoch = 1; epoch <= training.epochs && !out_of_time; ++epoch) {
          model->train();
          // Fisher-Yates with our own draws: std::shuffle's algorithm is implementation-defined.
          for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
          const double epoch_start = elapsed();
          double sum = 0;
          std::int64_t seen = 0;
          for (std::int64_t s = 0; s < count; s += training.batch_size) {
            const std::int64_t e = std::min(count, s + std::int64_t(training.batch_size));
            const torch::Tensor index =
                torch::from_blob(order.data() + s, {e - s}, torch::kLong).clone().to(device);
            const torch::Tensor b = train_x.index_select(0, index);
            optimizer.zero_grad();
            const torch::Tensor q = model->forward(b);
            torch::Tensor loss =
                dcdm_loss_tensor(a, b.reshape({e - s, -1}), q.reshape({e - s, -1}));
            loss.backward();
            optimizer.step();
            sum += loss.item<double>() * double(e - s);
            seen += e - s;
            if (meter.due(++batches_done)) {
              meter.emit(batches_done, "epoch " + std::to_string(epoch) + "/" +
                                           std::to_string(training.epochs) + ", loss " +
                                           format_sci(sum / double(seen)) + last_valid);
            }
            // The cap is checked per minibatch: one epoch of a large 3D set can take many minutes.
            if (elapsed() > training.max_minutes * 60.0) {
              out_of_time = true;
              break;
            }
          }
          training_seconds += elapsed() - epoch_start;
          samples_seen += seen;
          const double train_loss = sum / double(seen);
          model->eval();
          const double valid_loss = evaluate(model, a, valid_x, training.batch_size);
          if (!std::isfinite(train_loss) || !std::isfinite(valid_loss)) {
            std::ostringstream os;
            os << "dcdm training diverged at epoch " << epoch << ": train loss " << train_loss
               << ", valid loss " << valid_loss << "; lower learning_rate ("
               << training.learning_rate << ")";
            throw NumericsError(os.str());
          }
          train_history.push_back(train_loss);
          valid_history.push_back(valid_loss);
          if (valid_loss < best_valid) {
            best_valid = valid_loss;
            report.train_loss = train_loss;
            report.valid_loss = valid_loss;
            save_model(model_path, model, train_history, valid_history);
          }
          report.epochs = epoch;
          last_valid = ", valid " + format_sci(valid_loss);
          log << epoch << ',' << train_loss << ',' << valid_loss << ',' << elapsed() << '\n'
              << std::flush;
        }
        report.seconds = elapsed();
        report.seconds_per_sample = samples_seen > 0 ? training_seconds / double(samples_seen) : 0;
      },
      true);
  // The report to every rank.
  double values[7] = {report.seconds,           report.train_loss,
                      report.valid_loss,        report.initial_valid_loss,
                      report.flops_per_sample,  report.seconds_per_sample,
                      double(report.parameters)};
  int epochs = report.epochs;
  AEOLUS_MPI(MPI_Bcast(values, 7, MPI_DOUBLE, 0, comm));
  AEOLUS_MPI(MPI_Bcast(&epochs, 1, MPI_INT, 0, comm));
  report.seconds = values[0];
  report.train_loss = values[1];
  report.valid_loss = values[2];
  report.initial_valid_loss = values[3];
  report.flops_per_sample = values[4];
  report.seconds_per_sample = values[5];
  report.parameters = (long long)values[6];
  report.epochs = epochs;
  return report;
}

std::unique_ptr<DirectionModel> load_dcdm_model(const std::string& model_path,
                                                const EllipticOperator& op, int threads,
                                                const std::string& device) {
  if (threads < 1) {
    throw ConfigError("dcdm model: threads = " + std::to_string(threads) + ", expected >= 1");
  }
  const MPI_Comm comm = op.grid().comm();
  // Every rank reads the metadata and checks it, so that all ranks throw alike; only rank 0
  // keeps the weights (it runs the network).
  const torch::Device where = detail::torch_device(device, "dcdm model device");
  LoadedModel model = load_model(model_path, comm_rank(comm) == 0);
  check_compatible(model_path, model.spec, op);
  return std::make_unique<CnnDirection>(std::move(model), op, threads, where);
}

double evaluate_dcdm_model(const std::string& model_path, const EllipticOperator& op,
                           const std::string& dataset, int threads) {
  const MPI_Comm comm = op.grid().comm();
  const torch::Tensor a_double = sparse_operator(op);
  double loss = 0;
  on_root(comm, [&] {
    LoadedModel model = load_model(model_path, true);
    check_compatible(model_path, model.spec, op);
    detail::ThreadScope scope(threads);
    const auto f = open_dataset(dataset, op);
    const torch::Tensor valid_x = read_split(*f, "b_valid", op);
    // The batch size does not change the mean (each sample's loss is its own).
    loss = evaluate(model.net, a_double.to(torch::kFloat32), valid_x, 16);
  });
  AEOLUS_MPI(MPI_Bcast(&loss, 1, MPI_DOUBLE, 0, comm));
  return loss;
}

double dcdm_loss(const EllipticOperator& op, Vec b, Vec q) {
  const torch::Tensor a = sparse_operator(op);
  NaturalGather gather(op);
  std::vector<double> bv = gather.to_root(b);  // copies: the buffer is reused by the next call
  std::vector<double> qv = gather.to_root(q);
  double loss = 0;
  on_root(op.grid().comm(), [&] {
    const std::int64_t n = std::int64_t(bv.size());
    const torch::Tensor bt = torch::from_blob(bv.data(), {1, n}, torch::kFloat64);
    const torch::Tensor qt = torch::from_blob(qv.data(), {1, n}, torch::kFloat64);
    loss = dcdm_loss_tensor(a, bt, qt).item<double>();
  });
  AEOLUS_MPI(MPI_Bcast(&loss, 1, MPI_DOUBLE, 0, op.grid().comm()));
  return loss;
}

void dcdm_training_operator_apply(const EllipticOperator& op, Vec v, Vec out) {
  const torch::Tensor a = sparse_operator(op);
  NaturalGather gather(op);
  std::vector<double> values = gather.to_root(v), result;
  on_root(op.grid().comm(), [&] {
    const std::int64_t n = std::int64_t(values.size());
    const torch::Tensor y =
        torch::mm(a, torch::from_blob(values.data(), {n, 1}, torch::kFloat64)).contiguous();
    result.assign(y.data_ptr<double>(), y.data_ptr<double>() + n);
  });
  gather.from_root(result, out);
}

}  // namespace aeolus::emulators
