// Aeolus C++ API: a thin header-only layer over the C API (aeolus.h), for C++17 host codes.
//
//   #include <aeolus.hpp>
//   namespace ae = aeolus::host;
//   ae::Model model("model.pt");                            // throws ae::Error
//   ae::Shape out_shape = model.output_shape({4, 3});       // {4, 2}: one forward on zeros
//   std::vector<double> y = model.forward(x, {4, 3}, out_shape);
//   ae::Trainer tr(model, "train.yaml", "training");        // comm: MPI_Comm_c2f(comm)
//   double loss = tr.step(x, {4, 3}, target, {4, 2});       // one optimizer step
//   tr.save("trained.pt", "trained.state");                 // "" skips either
//   ae::set_num_threads(1);                                 // LibTorch's, process-wide
//   std::string w = ae::last_warnings();                    // LibTorch's, kept, not printed
//   ae::Stepper st("my_case", MPI_Comm_c2f(comm), {nx, ny}, {i0, j0}, {nxl, nyl});
//   double dt = st.max_dt(q, t);
//   st.step(q, t, dt);                                      // q, t updated
//
// Namespace aeolus::host, not aeolus: Aeolus's own C++ library (libaeolus_app.so, which
// libaeolus_api.so loads) has its own aeolus::Error and aeolus::Stepper, and a host may include
// both headers; classes of the same name in one namespace would also share their type
// information across the libraries of one process (exceptions caught as the wrong type).
// - Handles are RAII: Model, Trainer and Stepper free their C handle in the destructor; they
//   move but do not copy. A Stepper's destructor is collective (aeolus_stepper_free): let every
//   rank's Stepper go out of scope at the same point, before aeolus::host::finalize() and
//   MPI_Finalize; so is a Trainer's with a communicator (before MPI_Finalize). A Trainer works
//   on its Model, which must outlive it: declare the Model first.
// - Every failing call throws aeolus::host::Error, which carries the status (AEOLUS_ERROR_*) and
//   aeolus_last_error()'s message; destructors never throw.
// - Arrays: a pointer and a shape (std::vector<int64_t>, the logical extents), or a
//   std::vector whose size is checked against the shape before the C call. No MPI header is
//   needed: communicators are Fortran handles (MPI_Comm_c2f(comm)), as in aeolus.h.
#ifndef AEOLUS_HPP
#define AEOLUS_HPP

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "aeolus.h"

namespace aeolus::host {

using Shape = std::vector<int64_t>;

enum class Layout : int { C = AEOLUS_LAYOUT_C, Fortran = AEOLUS_LAYOUT_FORTRAN };

// A failed call: status() is the C status, what() the C API's message.
class Error : public std::runtime_error {
 public:
  Error(aeolus_status status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  aeolus_status status() const noexcept { return status_; }

 private:
  aeolus_status status_;
};

namespace detail {

inline void check(aeolus_status status) {
  if (status != AEOLUS_OK) throw Error(status, aeolus_last_error());
}

template <class T>
constexpr aeolus_dtype dtype_of() {
  static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value,
                "aeolus::host: arrays of float or double");
  return std::is_same<T, float>::value ? AEOLUS_FLOAT32 : AEOLUS_FLOAT64;
}

inline std::string to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t d = 0; d < shape.size(); ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
  return s + "]";
}

// Elements of `shape`; a negative extent is left to the C API to name.
inline size_t elements(const Shape& shape) {
  size_t n = 1;
  for (int64_t e : shape) n *= e > 0 ? size_t(e) : 0;
  return n;
}

inline void check_size(const char* call, const char* name, size_t size, const Shape& shape) {
  if (size != elements(shape)) {
    throw Error(AEOLUS_ERROR_ARGUMENT, std::string(call) + ": " + name + " has " +
                                           std::to_string(size) + " elements; its shape " +
                                           to_string(shape) + " needs " +
                                           std::to_string(elements(shape)));
  }
}

}  // namespace detail

struct Version {
  int major, minor, patch;
};

inline Version version() {
  Version v{0, 0, 0};
  detail::check(aeolus_version(&v.major, &v.minor, &v.patch));
  return v;
}

// PETSc for the steppers, if nobody has started it (collective over MPI_COMM_WORLD); only
// needed where the first Stepper is not created on every rank of MPI_COMM_WORLD.
inline void initialize() { detail::check(aeolus_initialize()); }
// After every Stepper is destroyed, before MPI_Finalize (collective over MPI_COMM_WORLD).
inline void finalize() { detail::check(aeolus_finalize()); }

// LibTorch's intra-op threads (aeolus_set_num_threads): one setting of the process, n >= 1.
// With R ranks per node keep R x n <= the node's cores.
inline void set_num_threads(int n) { detail::check(aeolus_set_num_threads(n)); }
// The intra-op thread count LibTorch uses on the calling thread.
inline int num_threads() {
  int n = 0;
  detail::check(aeolus_get_num_threads(&n));
  return n;
}

// LibTorch's warnings during Aeolus's calls (aeolus_last_warnings): kept per thread, not
// printed, unless set_warnings(Warnings::Print) (process-wide).
enum class Warnings : int { Capture = AEOLUS_WARNINGS_CAPTURE, Print = AEOLUS_WARNINGS_PRINT };
inline void set_warnings(Warnings mode) { detail::check(aeolus_set_warnings(int(mode))); }
inline Warnings warnings_mode() {
  int mode = AEOLUS_WARNINGS_CAPTURE;
  detail::check(aeolus_get_warnings(&mode));
  return Warnings(mode);
}
// This thread's captured warnings since clear_warnings(), one per line ("" if none).
inline std::string last_warnings() { return aeolus_last_warnings(); }
inline void clear_warnings() { detail::check(aeolus_clear_warnings()); }

// A TorchScript model (aeolus_model_load), run on the caller's arrays.
class Model {
 public:
  explicit Model(const std::string& path) { detail::check(aeolus_model_load(path.c_str(), &m_)); }
  ~Model() { aeolus_model_free(m_); }
  Model(Model&& other) noexcept : m_(std::exchange(other.m_, nullptr)) {}
  Model& operator=(Model&& other) noexcept {
    std::swap(m_, other.m_);
    return *this;
  }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // out = forward(in): both of element type T (float or double), in `layout`, shapes as the
  // arrays are declared (see aeolus_model_forward). `in` is read in place, not copied.
  template <class T>
  void forward(const T* in, const Shape& in_shape, T* out, const Shape& out_shape,
               Layout layout = Layout::C) const {
    detail::check(aeolus_model_forward(m_, in, int(in_shape.size()), in_shape.data(),
                                       detail::dtype_of<T>(), int(layout), out,
                                       int(out_shape.size()), out_shape.data()));
  }

  // The same on std::vectors, whose sizes must match the shapes; returns the output.
  template <class T>
  std::vector<T> forward(const std::vector<T>& in, const Shape& in_shape, const Shape& out_shape,
                         Layout layout = Layout::C) const {
    detail::check_size("aeolus::host::Model::forward", "in", in.size(), in_shape);
    std::vector<T> out(detail::elements(out_shape));
    forward(in.data(), in_shape, out.data(), out_shape, layout);
    return out;
  }

  // The shape forward gives the output for an input of shape in_shape in `layout` (both
  // logical): one forward on zeros, without gradient (aeolus_model_output_shape).
  Shape output_shape(const Shape& in_shape, Layout layout = Layout::C) const {
    int rank = 0;
    int64_t out[AEOLUS_MAX_RANK] = {0};
    detail::check(aeolus_model_output_shape(m_, int(in_shape.size()), in_shape.data(), int(layout),
                                            &rank, out));
    return Shape(out, out + rank);
  }

  aeolus_model* get() const noexcept { return m_; }

 private:
  aeolus_model* m_ = nullptr;
};

// Online training of a Model (aeolus_trainer_create): the optimizer of the YAML mapping at the
// dotted path `section` of `config_path`; comm: a Fortran handle (MPI_Comm_c2f(comm)) over which
// gradients are averaged, or AEOLUS_COMM_NONE (no MPI). With a communicator the constructor,
// step, save, restore and the destructor are collective. The model must outlive the trainer;
// between steps model.forward runs the current weights.
class Trainer {
 public:
  Trainer(Model& model, const std::string& config_path, const std::string& section,
          int comm = AEOLUS_COMM_NONE) {
    detail::check(
        aeolus_trainer_create(model.get(), config_path.c_str(), section.c_str(), comm, &t_));
  }
  ~Trainer() { aeolus_trainer_free(t_); }
  Trainer(Trainer&& other) noexcept : t_(std::exchange(other.t_, nullptr)) {}
  Trainer& operator=(Trainer&& other) noexcept {
    std::swap(t_, other.t_);
    return *this;
  }
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // One optimizer step on `in` against `target` (the output's shape), both of element type T
  // (float or double) in `layout`; returns the loss before the step (averaged over the ranks).
  template <class T>
  double step(const T* in, const Shape& in_shape, const T* target, const Shape& target_shape,
              Layout layout = Layout::C) {
    double loss = 0;
    detail::check(aeolus_trainer_step(t_, in, int(in_shape.size()), in_shape.data(), target,
                                      int(target_shape.size()), target_shape.data(),
                                      detail::dtype_of<T>(), int(layout), &loss));
    return loss;
  }

  // The same on std::vectors, whose sizes must match the shapes.
  template <class T>
  double step(const std::vector<T>& in, const Shape& in_shape, const std::vector<T>& target,
              const Shape& target_shape, Layout layout = Layout::C) {
    detail::check_size("aeolus::host::Trainer::step", "in", in.size(), in_shape);
    detail::check_size("aeolus::host::Trainer::step", "target", target.size(), target_shape);
    return step(in.data(), in_shape, target.data(), target_shape, layout);
  }

  // Writes the model (TorchScript) to model_path and the training state to state_path; ""
  // skips either. Rank 0 writes, each file atomically.
  void save(const std::string& model_path, const std::string& state_path = "") const {
    detail::check(aeolus_trainer_save(t_, model_path.c_str(), state_path.c_str()));
  }
  // The optimizer's state and the step count of a file written by save().
  void restore(const std::string& state_path) {
    detail::check(aeolus_trainer_restore(t_, state_path.c_str()));
  }
  // The optimizer steps taken (with those of a restored state).
  int64_t steps() const {
    int64_t n = 0;
    detail::check(aeolus_trainer_steps(t_, &n));
    return n;
  }

  aeolus_trainer* get() const noexcept { return t_; }

 private:
  aeolus_trainer* t_ = nullptr;
};

// A case's stepper on the host's decomposition (aeolus_stepper_create): global_n, start
// (0-based) and count per dimension, x first. comm: a Fortran handle, MPI_Comm_c2f(comm).
// stepper: "" for the case's stepper.type, or "classical", "emulator", a registered name.
class Stepper {
 public:
  Stepper(const std::string& case_dir, int comm, const Shape& global_n, const Shape& start,
          const Shape& count, const std::string& stepper = "") {
    if (start.size() != global_n.size() || count.size() != global_n.size()) {
      throw Error(AEOLUS_ERROR_ARGUMENT,
                  "aeolus::host::Stepper: global_n " + detail::to_string(global_n) + ", start " +
                      detail::to_string(start) + " and count " + detail::to_string(count) +
                      " must have one entry per dimension each");
    }
    detail::check(aeolus_stepper_create(
        case_dir.c_str(), stepper.empty() ? nullptr : stepper.c_str(), comm, int(global_n.size()),
        global_n.data(), start.data(), count.data(), &s_));
  }
  ~Stepper() { aeolus_stepper_free(s_); }
  Stepper(Stepper&& other) noexcept : s_(std::exchange(other.s_, nullptr)) {}
  Stepper& operator=(Stepper&& other) noexcept {
    std::swap(s_, other.s_);
    return *this;
  }
  Stepper(const Stepper&) = delete;
  Stepper& operator=(const Stepper&) = delete;

  // The largest step from the owned cells q at time t (the same on every rank). Collective.
  double max_dt(const double* q, double t) const {
    double dt = 0;
    detail::check(aeolus_stepper_max_dt(s_, q, t, &dt));
    return dt;
  }
  // The same on a std::vector, whose size the C API checks against the owned box.
  double max_dt(const std::vector<double>& q, double t) const {
    const int64_t n = int64_t(q.size());
    double dt = 0;
    detail::check(aeolus_stepper_max_dt_shaped(s_, q.data(), 1, &n, t, &dt));
    return dt;
  }

  // Advances q by one step of dt from t; t becomes the new time. Returns the step taken.
  // Collective.
  double step(double* q, double& t, double dt) const {
    detail::check(aeolus_stepper_step(s_, q, &t, &dt));
    return dt;
  }
  double step(std::vector<double>& q, double& t, double dt) const {
    const int64_t n = int64_t(q.size());
    detail::check(aeolus_stepper_step_shaped(s_, q.data(), 1, &n, &t, &dt));
    return dt;
  }

  // True for a stepper that takes exactly max_dt (a trained emulator).
  bool fixed_step() const {
    int fixed = 0;
    detail::check(aeolus_stepper_fixed_step(s_, &fixed));
    return fixed != 0;
  }
  std::string name() const {
    const char* n = nullptr;
    detail::check(aeolus_stepper_name(s_, &n));
    return n;
  }

  aeolus_stepper* get() const noexcept { return s_; }

 private:
  aeolus_stepper* s_ = nullptr;
};

}  // namespace aeolus::host

#endif  // AEOLUS_HPP
