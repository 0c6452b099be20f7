#include "tools/app/series_output.hpp"

#include <filesystem>
#include <stdexcept>

#include "grids/error.hpp"
#include "io/netcdf_file.hpp"
#include "tools/app/version.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;

struct SeriesOutput::File {
  explicit File(const std::string& path, io::NetcdfFile::Mode mode) : nc(path, mode) {}
  io::NetcdfFile nc;
};

namespace {

size_t width_of(const SeriesVariable& v) { return v.width > 0 ? v.width : 1; }

}  // namespace

std::unique_ptr<FrameOutput> SeriesModel::open_output(const CartesianGrid&,
                                                      const io::OutputSpec& spec, bool resume,
                                                      size_t next_frame) {
  auto out = std::make_unique<SeriesOutput>(
      series_file(spec), [this](real_t t, std::vector<double>& row) { sample(t, row); }, resume,
      next_frame);
  out_ = out.get();
  return out;
}

std::vector<std::pair<std::string, std::string>> run_file_attributes(const CaseConfig& c) {
  return {{"title", "Aeolus case " + c.name},
          {"source", std::string("aeolus ") + AEOLUS_VERSION + " (" + AEOLUS_GIT_HASH + ")"},
          {"case", c.name},
          {"config_hash", c.config_hash}};
}

SeriesOutput::SeriesOutput(SeriesFileSpec spec, Sampler sample, bool resume, size_t next_sample)
    : spec_(std::move(spec)), sample_(std::move(sample)), part_(spec_.path + ".part") {
  for (const auto& v : spec_.series) row_size_ += width_of(v);
  values_.resize(spec_.series.size());
  if (resume) {
    reopen(next_sample);
  } else {
    create();
  }
}

SeriesOutput::~SeriesOutput() = default;  // an unfinished file stays PATH.part

void SeriesOutput::create() {
  if (fs::exists(spec_.path)) {
    throw IoError(spec_.path + ": exists (a run does not replace results it did not produce)");
  }
  std::error_code ec;
  fs::remove(part_, ec);
  file_ = std::make_unique<File>(part_, io::NetcdfFile::Mode::create);
  io::NetcdfFile& f = file_->nc;
  f.def_dim("time", spec_.samples);
  std::vector<std::string> dims;
  const auto dim = [&](const std::string& name, size_t len) {
    for (const auto& d : dims) {
      if (d == name) return;
    }
    f.def_dim(name, len);
    dims.push_back(name);
  };
  f.def_var("time", "double", {"time"});
  f.put_att("time", "units", spec_.time_units);
  f.put_att("time", "long_name", spec_.time_long_name);
  const auto describe = [&](const SeriesVariable& v) {
    f.put_att(v.name, "units", v.units);
    f.put_att(v.name, "long_name", v.long_name);
  };
  for (const auto& v : spec_.series) {
    if (v.width > 0) dim(v.dim, v.width);
    f.def_var(
        v.name, "double",
        v.width > 0 ? std::vector<std::string>{"time", v.dim} : std::vector<std::string>{"time"});
    describe(v);
  }
  for (const auto& [v, data] : spec_.statics) {
    dim(v.dim, data.size());
    f.def_var(v.name, "double", {v.dim});
    describe(v);
  }
  f.put_att("", "Conventions", "CF-1.8");
  for (const auto& [name, value] : spec_.text_attributes) f.put_att("", name, value);
  for (const auto& [name, value] : spec_.number_attributes) f.put_att("", name, value);
  f.end_def();
  for (const auto& [v, data] : spec_.statics) f.put(v.name, {}, {}, data.data());
  f.sync();
}

void SeriesOutput::reopen(size_t next) {
  if (!fs::exists(part_)) throw IoError(part_ + ": cannot resume output: file not found");
  file_ = std::make_unique<File>(part_, io::NetcdfFile::Mode::write);
  io::NetcdfFile& f = file_->nc;
  const auto mismatch = [&](const std::string& what) {
    return IoError(part_ + ": cannot resume at sample " + std::to_string(next) + ": " + what);
  };
  if (next > spec_.samples) {
    throw mismatch("the case has " + std::to_string(spec_.samples) + " samples");
  }
  if (!f.has_var("time") || f.var_shape("time") != std::vector<size_t>{spec_.samples}) {
    throw mismatch("the file does not have the " + std::to_string(spec_.samples) +
                   " samples of this case");
  }
  times_.resize(next);
  if (next > 0) f.get("time", {0}, {next}, times_.data());
  for (size_t i = 0; i < spec_.series.size(); ++i) {
    const auto& v = spec_.series[i];
    const std::vector<size_t> shape = v.width > 0 ? std::vector<size_t>{spec_.samples, v.width}
                                                  : std::vector<size_t>{spec_.samples};
    if (!f.has_var(v.name) || f.var_shape(v.name) != shape) {
      throw mismatch("variable '" + v.name + "' is missing or has another shape");
    }
    values_[i].resize(next * width_of(v));
    if (next == 0) continue;
    if (v.width > 0) {
      f.get(v.name, {0, 0}, {next, v.width}, values_[i].data());
    } else {
      f.get(v.name, {0}, {next}, values_[i].data());
    }
  }
  written_ = next;
}

void SeriesOutput::write_frame(real_t t) {
  if (written_ >= spec_.samples) {
    throw std::logic_error(part_ + ": more samples than the " + std::to_string(spec_.samples) +
                           " the run was sized for");
  }
  row_.assign(row_size_, 0.0);
  sample_(t, row_);
  io::NetcdfFile& f = file_->nc;
  const size_t k = written_;
  size_t at = 0;
  for (size_t i = 0; i < spec_.series.size(); ++i) {
    const auto& v = spec_.series[i];
    const double* x = row_.data() + at;
    if (v.width > 0) {
      f.put(v.name, {k, 0}, {1, v.width}, x);
    } else {
      f.put(v.name, {k}, {1}, x);
    }
    values_[i].insert(values_[i].end(), x, x + width_of(v));
    at += width_of(v);
  }
  f.put("time", {k}, {1}, &t);
  times_.push_back(t);
  ++written_;
}

void SeriesOutput::flush() { file_->nc.sync(); }

void SeriesOutput::finalize() {
  if (written_ != spec_.samples) {
    throw std::logic_error(part_ + ": " + std::to_string(written_) + " samples written, " +
                           std::to_string(spec_.samples) + " expected");
  }
  file_->nc.close();
  file_.reset();
  std::error_code ec;
  fs::rename(part_, spec_.path, ec);
  if (ec) throw IoError(part_ + ": cannot rename to " + spec_.path + " (" + ec.message() + ")");
}

}  // namespace aeolus::app
