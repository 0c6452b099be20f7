#include "tools/app/case_model.hpp"

#include <cmath>
#include <filesystem>

#include "grids/error.hpp"
#include "io/collective.hpp"
#include "io/netcdf_file.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;

namespace {

// The default output: the model's fields on the grid, through io::OutputWriter.
class GridFrameOutput : public FrameOutput {
 public:
  GridFrameOutput(CaseModel& model, const CartesianGrid& grid, const io::OutputSpec& spec,
                  bool resume, size_t next_frame)
      : model_(model),
        writer_(resume ? io::OutputWriter::resume(grid, spec, next_frame)
                       : std::make_unique<io::OutputWriter>(grid, spec)),
        fields_(model.output_fields()) {}
  void write_frame(real_t t) override { writer_->write_frame(t, fields_, model_.frame_scalars(t)); }
  size_t frames_written() const override { return writer_->frames_written(); }
  void finalize() override { writer_->finalize(); }

 private:
  CaseModel& model_;
  std::unique_ptr<io::OutputWriter> writer_;
  std::vector<const Field*> fields_;
};

}  // namespace

std::unique_ptr<FrameOutput> CaseModel::open_output(const CartesianGrid& grid,
                                                    const io::OutputSpec& spec, bool resume,
                                                    size_t next_frame) {
  return std::make_unique<GridFrameOutput>(*this, grid, spec, resume, next_frame);
}

void read_initial_field(const std::string& path, const std::string& var, const std::string& units,
                        const std::string& key, Field& q) {
  // A NetCDF variable with the grid's shape (slowest first: z, y, x), the expected units and
  // finite values. Checked on rank 0; the verdict is broadcast so every rank throws the same
  // error.
  const auto& grid = q.grid();
  std::vector<real_t> values;
  std::string error;
  if (grid.rank() == 0) {
    try {
      if (!fs::exists(path))
        throw IoError(path + ": initial-condition file not found (" + key + ")");
      io::NetcdfFile f(path, io::NetcdfFile::Mode::read);
      if (!f.has_var(var)) throw IoError(path + ": no variable '" + var + "' (" + key + ")");
      std::vector<size_t> want;
      for (int d = grid.dim() - 1; d >= 0; --d) want.push_back(size_t(grid.n(d)));
      auto shape = f.var_shape(var);
      if (shape != want) {
        auto show = [](const std::vector<size_t>& s) {
          std::string o = "(";
          for (size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
          return o + ")";
        };
        throw IoError(path + ": variable '" + var + "' has shape " + show(shape) +
                      ", the grid needs " + show(want) + " (z, y, x order)");
      }
      const std::string have = f.has_att(var, "units") ? f.get_att_string(var, "units") : "";
      if (have != units) {
        throw IoError(path + ": variable '" + var + "' has units '" + have + "', expected '" +
                      units + "'");
      }
      values.resize(size_t(grid.global_cells()));
      f.get(var, {}, {}, values.data());
      for (size_t i = 0; i < values.size(); ++i) {
        if (!std::isfinite(values[i])) {
          throw IoError(path + ": variable '" + var + "' has a non-finite value at index " +
                        std::to_string(i));
        }
      }
    } catch (const Error& e) {
      error = e.what();
    }
  }
  error = io::broadcast_string(grid.comm(), error);
  if (!error.empty()) throw IoError(error);
  q.scatter_from_root(values);
}

}  // namespace aeolus::app
