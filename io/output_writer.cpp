#include "io/output_writer.hpp"

#include <filesystem>
#include <set>

#include "grids/error.hpp"
#include "io/collective.hpp"
#include "io/grid_layout.hpp"
#include "io/netcdf_file.hpp"

namespace aeolus::io {

namespace fs = std::filesystem;

namespace {

constexpr const char* kTime = "time";
constexpr const char* kComplete = "aeolus_complete";
// Time series are tiny; one chunk holds many frames so a long run does not create
// thousands of chunks.
constexpr size_t kSeriesChunk = 512;

void put_meta(NetcdfFile& file, const VariableMeta& m) {
  file.put_att(m.name, "units", m.units);
  file.put_att(m.name, "long_name", m.long_name);
  if (!m.standard_name.empty()) file.put_att(m.name, "standard_name", m.standard_name);
}

// Deterministic checks of the spec, run on every rank so every rank throws the same error.
void check_spec(const OutputSpec& spec) {
  if (spec.path.empty()) throw IoError("output: empty path");
  std::set<std::string> names{kTime, "nv"};
  for (const auto& a : spec.axes) names.insert(a.name), names.insert(a.name + "_bnds");
  std::vector<VariableMeta> statics;
  for (const auto& sf : spec.static_fields) {
    if (!sf.second) throw IoError(spec.path + ": static field '" + sf.first.name + "' is null");
    statics.push_back(sf.first);
  }
  for (const auto& a : spec.static_arrays) statics.push_back(a.meta);
  for (const auto& c : spec.column_sums) {
    statics.push_back(c.meta);
    bool found = false;
    for (const auto& f : spec.fields) found = found || f.name == c.of;
    if (!found) {
      throw IoError(spec.path + ": column sum '" + c.meta.name + "' of '" + c.of +
                    "', which is not an output field");
    }
  }
  const std::vector<VariableMeta>* lists[] = {&spec.fields, &spec.scalars, &statics};
  for (const std::vector<VariableMeta>* list : lists) {
    for (const auto& m : *list) {
      if (m.name.empty() || !names.insert(m.name).second) {
        throw IoError(spec.path + ": variable name '" + m.name +
                      "' is empty or used twice (the axis names, their bounds and time are taken)");
      }
    }
  }
}

}  // namespace

struct OutputWriter::Impl {
  const CartesianGrid* grid = nullptr;
  OutputSpec spec;
  std::string part_path;
  std::unique_ptr<NetcdfFile> file;                // rank 0 only
  std::vector<std::vector<real_t>> static_values;  // gathered static fields (rank 0)
  bool finalized = false;

  MPI_Comm comm() const { return grid->comm(); }

  // (time, y, x) of a column sum.
  std::vector<std::string> column_dims() const {
    const auto d = detail::spatial_dims(spec.axes, grid->dim());
    return {kTime, d[1], d[2]};
  }

  void create() {
    if (fs::exists(spec.path)) {
      throw IoError(spec.path + ": output file exists (remove it or run with --overwrite)");
    }
    if (fs::exists(part_path)) {
      throw IoError(part_path + ": exists, left by an interrupted run (resume it or remove it)");
    }
    const fs::path parent = fs::path(spec.path).parent_path();
    std::error_code ec;
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (ec) throw IoError(parent.string() + ": cannot create directory (" + ec.message() + ")");

    file = std::make_unique<NetcdfFile>(part_path, NetcdfFile::Mode::create);
    try {
      define_new();
    } catch (...) {
      // A half-defined .part would make the next attempt refuse to start; it holds nothing.
      file.reset();
      std::error_code ignored;
      fs::remove(part_path, ignored);
      throw;
    }
  }

  void define_new() {
    NetcdfFile& f = *file;
    for (const auto& [name, value] : spec.attributes) f.put_att("", name, value);
    f.put_att("", "Conventions", "CF-1.8");
    f.put_att("", kComplete, 0);

    f.def_dim(kTime, 0);
    f.def_var(kTime, "double", {kTime}, 0, {kSeriesChunk});
    f.put_att(kTime, "units", spec.time_units);
    f.put_att(kTime, "calendar", spec.calendar);
    f.put_att(kTime, "standard_name", "time");
    f.put_att(kTime, "axis", "T");
    f.put_att(kTime, "long_name", "time");
    detail::define_grid(f, *grid, spec.axes);

    std::vector<std::string> dims{kTime};
    std::vector<size_t> chunks{1};  // one frame per chunk: a frame is written and read whole
    for (const auto& d : detail::spatial_dims(spec.axes, grid->dim())) dims.push_back(d);
    for (size_t n : detail::spatial_shape(*grid)) chunks.push_back(n);
    for (const auto& m : spec.fields) {
      f.def_var(m.name, "double", dims, 1, chunks);
      put_meta(f, m);
      if (!spec.cell_measures.empty()) f.put_att(m.name, "cell_measures", spec.cell_measures);
    }
    for (const auto& [m, field] : spec.static_fields) {
      f.def_var(m.name, "double", detail::spatial_dims(spec.axes, grid->dim()));
      put_meta(f, m);
    }
    for (const auto& m : spec.scalars) {
      f.def_var(m.name, "double", {kTime}, 0, {kSeriesChunk});
      put_meta(f, m);
    }
    for (const auto& a : spec.static_arrays) {
      f.def_var(a.meta.name, "double", a.dims);
      put_meta(f, a.meta);
    }
    for (const auto& c : spec.column_sums) {
      f.def_var(c.meta.name, "double", column_dims(), 1, {1, chunks[2], chunks[3]});
      put_meta(f, c.meta);
    }
    f.end_def();
    detail::write_coordinates(f, *grid, spec.axes);
    for (size_t i = 0; i < spec.static_fields.size(); ++i) {
      f.put(spec.static_fields[i].first.name, {}, {}, static_values[i].data());
    }
    for (const auto& a : spec.static_arrays) {
      size_t n = 1;
      for (const auto& d : a.dims) n *= f.dim_len(d);
      if (a.values.size() != n) {
        throw IoError(part_path + ": static array '" + a.meta.name + "' has " +
                      std::to_string(a.values.size()) + " values for dimensions " +
                      detail::names_string(a.dims) + " (" + std::to_string(n) + ")");
      }
      f.put(a.meta.name, {}, {}, a.values.data());
    }
    f.sync();
  }

  void reopen(size_t next_frame) {
    if (!fs::exists(part_path)) {
      throw IoError(part_path + ": cannot resume output: file not found");
    }
    file = std::make_unique<NetcdfFile>(part_path, NetcdfFile::Mode::write);
    NetcdfFile& f = *file;
    if (!f.has_att("", kComplete)) {
      throw IoError(part_path + ": not an Aeolus output file (no attribute " + kComplete + ")");
    }
    detail::check_grid(f, *grid, spec.axes);
    std::vector<std::string> field_dims{kTime};
    for (const auto& d : detail::spatial_dims(spec.axes, grid->dim())) field_dims.push_back(d);
    auto expect_var = [&](const std::string& name, const std::vector<std::string>& dims) {
      if (!f.has_var(name)) throw IoError(part_path + ": variable '" + name + "' not found");
      const auto have = f.var_dims(name);
      if (have != dims) {
        throw IoError(part_path + ": variable '" + name + "' has dimensions " +
                      detail::names_string(have) + ", expected " + detail::names_string(dims));
      }
    };
    expect_var(kTime, {kTime});
    for (const auto& m : spec.fields) expect_var(m.name, field_dims);
    for (const auto& m : spec.scalars) expect_var(m.name, {kTime});
    for (const auto& c : spec.column_sums) expect_var(c.meta.name, column_dims());
    const size_t frames = f.dim_len(kTime);
    if (next_frame > frames) {
      throw IoError(part_path + ": cannot resume at frame " + std::to_string(next_frame) +
                    ", the file has only " + std::to_string(frames) + " frames");
    }
  }
};

OutputWriter::OutputWriter(const CartesianGrid& grid, OutputSpec spec)
    : OutputWriter(grid, std::move(spec), false, 0) {}

OutputWriter::OutputWriter(const CartesianGrid& grid, OutputSpec spec, bool resume,
                           size_t next_frame)
    : impl_(std::make_unique<Impl>()) {
  check_spec(spec);
  if (!spec.column_sums.empty() && grid.dim() != 3) {
    throw IoError(spec.path + ": column sums (" + spec.column_sums.front().meta.name +
                  ") need a 3D grid, not a " + std::to_string(grid.dim()) + "D one");
  }
  impl_->grid = &grid;
  impl_->spec = std::move(spec);
  impl_->part_path = impl_->spec.path + ".part";
  if (!resume) {  // collective gathers before rank 0 alone creates the file
    for (const auto& sf : impl_->spec.static_fields) {
      impl_->static_values.push_back(sf.second->gather_to_root());
    }
  }
  on_root(grid.comm(), [&] {
    if (resume) {
      impl_->reopen(next_frame);
    } else {
      impl_->create();
    }
  });
  frames_ = resume ? next_frame : 0;
}

std::unique_ptr<OutputWriter> OutputWriter::resume(const CartesianGrid& grid, OutputSpec spec,
                                                   size_t next_frame) {
  // The constructor is private; make_unique cannot reach it.
  return std::unique_ptr<OutputWriter>(new OutputWriter(grid, std::move(spec), true, next_frame));
}

OutputWriter::~OutputWriter() = default;

void OutputWriter::write_frame(double t, const std::vector<const Field*>& fields,
                               const std::vector<double>& scalars) {
  Impl& m = *impl_;
  const std::string& where = m.part_path;
  if (m.finalized) throw IoError(m.spec.path + ": write_frame after finalize");
  if (fields.size() != m.spec.fields.size() || scalars.size() != m.spec.scalars.size()) {
    throw IoError(where + ": write_frame got " + std::to_string(fields.size()) + " fields and " +
                  std::to_string(scalars.size()) + " scalars, the spec has " +
                  std::to_string(m.spec.fields.size()) + " and " +
                  std::to_string(m.spec.scalars.size()));
  }
  const auto shape = detail::spatial_shape(*m.grid);
  for (size_t i = 0; i < fields.size(); ++i) {
    if (!fields[i] || detail::spatial_shape(fields[i]->grid()) != shape) {
      throw IoError(where + ": variable '" + m.spec.fields[i].name + "': field of shape " +
                    (fields[i] ? detail::shape_string(detail::spatial_shape(fields[i]->grid()))
                               : std::string("(null)")) +
                    ", file expects " + detail::shape_string(shape));
    }
  }

  // Gather one field at a time (only one global copy in memory on rank 0). Every rank takes
  // part in every gather even after a write failed on rank 0, so the ranks stay in lockstep;
  // the first error is shared at the end.
  const bool root = m.grid->rank() == 0;
  std::string error;
  std::vector<size_t> start{frames_}, count{1};
  for (size_t i = 1; i <= shape.size(); ++i) {
    start.push_back(0);
    count.push_back(shape[i - 1]);
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::vector<real_t> values = fields[i]->gather_to_root();
    if (!root || !error.empty()) continue;
    try {
      m.file->put(m.spec.fields[i].name, start, count, values.data());
      for (const auto& c : m.spec.column_sums) {
        if (c.of != m.spec.fields[i].name) continue;
        // Natural order, x fastest: values[(k ny + j) nx + i].
        const size_t nz = shape[0], n2 = shape[1] * shape[2];
        std::vector<double> sum(n2, 0.0);
        for (size_t k = 0; k < nz; ++k)
          for (size_t c2 = 0; c2 < n2; ++c2) sum[c2] += values[k * n2 + c2];
        for (double& v : sum) v = c.offset + c.scale * v;
        m.file->put(c.meta.name, {frames_, 0, 0}, {1, shape[1], shape[2]}, sum.data());
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  if (root && error.empty()) {
    try {
      for (size_t i = 0; i < scalars.size(); ++i) {
        m.file->put(m.spec.scalars[i].name, {frames_}, {1}, &scalars[i]);
      }
      // Time last: a frame whose time is written is complete; sync so that a killed run keeps
      // it in the .part file.
      m.file->put(kTime, {frames_}, {1}, &t);
      m.file->sync();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  broadcast_error(m.comm(), error);
  ++frames_;
}

void OutputWriter::finalize() {
  Impl& m = *impl_;
  if (m.finalized) return;
  on_root(m.comm(), [&] {
    m.file->put_att("", kComplete, 1);
    m.file->close();
    m.file.reset();
    std::error_code ec;
    fs::rename(m.part_path, m.spec.path, ec);
    if (ec) {
      throw IoError(m.part_path + ": cannot rename to " + m.spec.path + " (" + ec.message() + ")");
    }
  });
  m.finalized = true;
}

void describe_hybrid_sigma_pressure(OutputSpec& spec, const std::vector<double>& a_iface,
                                    const std::vector<double>& b_iface, double p0,
                                    const std::string& thickness) {
  const size_t n = a_iface.size() - 1;
  if (a_iface.size() < 2 || b_iface.size() != a_iface.size() || spec.axes.size() < 3 ||
      !(b_iface.back() != b_iface.front())) {
    throw IoError(spec.path +
                  ": a hybrid sigma-pressure coordinate needs nlev + 1 >= 2 "
                  "interface values of a and b (b changing across the column) and a 3D spec");
  }
  AxisMeta& lev = spec.axes[2];
  lev.units = "1";
  lev.standard_name = "atmosphere_hybrid_sigma_pressure_coordinate";
  lev.long_name =
      "hybrid sigma-pressure coordinate a + b at the layer mid point (level 0 is "
      "the model top; p = a p0 + b ps)";
  lev.positive = "down";
  lev.bounds = true;
  lev.values.assign(n, 0.0);
  lev.edges.assign(n + 1, 0.0);
  std::vector<double> a_mid(n), b_mid(n), a_bnds(2 * n), b_bnds(2 * n);
  for (size_t k = 0; k <= n; ++k) lev.edges[k] = a_iface[k] + b_iface[k];
  for (size_t k = 0; k < n; ++k) {
    a_mid[k] = 0.5 * (a_iface[k] + a_iface[k + 1]);
    b_mid[k] = 0.5 * (b_iface[k] + b_iface[k + 1]);
    lev.values[k] = a_mid[k] + b_mid[k];
    a_bnds[2 * k] = a_iface[k], a_bnds[2 * k + 1] = a_iface[k + 1];
    b_bnds[2 * k] = b_iface[k], b_bnds[2 * k + 1] = b_iface[k + 1];
  }
  lev.attributes["formula_terms"] = "a: a b: b ps: ps p0: p0";
  lev.bounds_attributes["formula_terms"] = "a: a_bnds b: b_bnds ps: ps p0: p0";
  const std::string z = lev.name;
  spec.static_arrays.push_back(
      {{"a", "1", "vertical coordinate formula term: a(k) at the layer mid point", ""},
       {z},
       a_mid});
  spec.static_arrays.push_back(
      {{"b", "1", "vertical coordinate formula term: b(k) at the layer mid point", ""},
       {z},
       b_mid});
  spec.static_arrays.push_back(
      {{"a_bnds", "1", "vertical coordinate formula term: a(k) at the layer edges", ""},
       {z, "nv"},
       a_bnds});
  spec.static_arrays.push_back(
      {{"b_bnds", "1", "vertical coordinate formula term: b(k) at the layer edges", ""},
       {z, "nv"},
       b_bnds});
  spec.static_arrays.push_back(
      {{"p0", "Pa", "vertical coordinate formula term: reference pressure", ""}, {}, {p0}});
  // sum(dp) = p(bottom) - p(top) = (a_N - a_0) p0 + (b_N - b_0) ps.
  const double db = b_iface.back() - b_iface.front(), da = a_iface.back() - a_iface.front();
  spec.column_sums.push_back(
      {{"ps", "Pa", "surface pressure (from the column sum of " + thickness + ")",
        "surface_air_pressure"},
       thickness,
       -da * p0 / db,
       1.0 / db});
}

}  // namespace aeolus::io
