// Reading one dataset split (io/dataset_format.hpp) into memory, with the checks that make a
// bad file fail here, naming the variable, rather than as a shape error deep inside torch.
#include <cmath>
#include <sstream>

#include "emulators/flux_cnn.hpp"
#include "grids/error.hpp"
#include "io/dataset_format.hpp"
#include "io/netcdf_file.hpp"

namespace aeolus::emulators {

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s + ")";
}

std::string join(const std::vector<size_t>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + ")";
}

class Reader {
 public:
  explicit Reader(const std::string& path) : file_(path, io::NetcdfFile::Mode::read) {}

  [[noreturn]] void fail(const std::string& var, const std::string& what) const {
    throw IoError("dataset " + file_.path() + ", " + (var.empty() ? "" : "variable " + var + ": ") +
                  what);
  }

  // Checks name, dimension names and units; returns the shape.
  std::vector<size_t> require_var(const std::string& var, const std::vector<std::string>& dims,
                                  const std::string& units) const {
    if (!file_.has_var(var)) fail(var, "missing; expected " + var + join(dims));
    const auto got_dims = file_.var_dims(var);
    if (got_dims != dims) fail(var, "dimensions " + join(got_dims) + ", expected " + join(dims));
    if (!file_.has_att(var, "units")) fail(var, "no units attribute, expected '" + units + "'");
    const std::string got_units = file_.get_att_string(var, "units");
    if (got_units != units) fail(var, "units '" + got_units + "', expected '" + units + "'");
    return file_.var_shape(var);
  }

  double require_global(const std::string& name) const {
    if (!file_.has_att("", name)) fail("", "global attribute " + name + " is missing");
    const double v = file_.get_att_double("", name);
    if (!std::isfinite(v) || !(v > 0)) {
      std::ostringstream os;
      os << "global attribute " << name << " = " << v << ", expected a positive number";
      fail("", os.str());
    }
    return v;
  }

  std::vector<double> read_finite(const std::string& var, size_t n) const {
    std::vector<double> out(n);
    file_.get(var, {}, {}, out.data());
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(out[i])) {
        std::ostringstream os;
        os << "non-finite value " << out[i] << " at flat index " << i;
        fail(var, os.str());
      }
    }
    return out;
  }

  const io::NetcdfFile& file() const { return file_; }

 private:
  io::NetcdfFile file_;
};

}  // namespace

FluxCnnDataset read_flux_cnn_dataset(const std::string& nc_path) {
  namespace ds = io::dataset;
  Reader r(nc_path);
  // Writers set aeolus_complete last, so a file from an interrupted `aeolus dataset` is refused.
  if (!r.file().has_att("", "aeolus_complete") ||
      r.file().get_att_double("", "aeolus_complete") != 1.0) {
    r.fail("", "not marked complete (global attribute aeolus_complete != 1); regenerate it");
  }
  const auto q_shape = r.require_var(ds::kTracer, {"trajectory", "time", "y", "x"}, "1");
  const std::vector<size_t> face_shape{q_shape[0], q_shape[2], q_shape[3]};
  for (const char* var : {ds::kUFace, ds::kVFace}) {
    const auto shape = r.require_var(var, {"trajectory", "y", "x"}, "m s-1");
    if (shape != face_shape) {
      r.fail(var, "shape " + join(shape) + ", expected " + join(face_shape) + " to match q" +
                      join(q_shape));
    }
  }
  if (q_shape[1] < 2)
    r.fail(ds::kTracer, "has " + std::to_string(q_shape[1]) + " frames, expected >= 2");
  FluxCnnDataset d;
  d.trajectories = int(q_shape[0]);
  d.frames = int(q_shape[1]);
  d.ny = int(q_shape[2]);
  d.nx = int(q_shape[3]);
  d.dt_frame = r.require_global(ds::kDtFrame);
  d.dx = r.require_global("dx");
  d.dy = r.require_global("dy");
  const size_t cells = q_shape[2] * q_shape[3];
  d.q = r.read_finite(ds::kTracer, q_shape[0] * q_shape[1] * cells);
  d.u_face = r.read_finite(ds::kUFace, q_shape[0] * cells);
  d.v_face = r.read_finite(ds::kVFace, q_shape[0] * cells);
  return d;
}

FluxCnnTrainReport train_flux_cnn(const FluxCnnParams& params,
                                  const FluxCnnTrainingParams& training,
                                  const std::string& data_dir, const std::string& model_path,
                                  const std::string& log_path, const ProgressSink& progress) {
  const FluxCnnDataset train = read_flux_cnn_dataset(data_dir + "/train.nc");
  const FluxCnnDataset valid = read_flux_cnn_dataset(data_dir + "/valid.nc");
  return train_flux_cnn(params, training, train, valid, model_path, log_path, progress);
}

}  // namespace aeolus::emulators
