// The CO2 transport data set in memory (emulators/co2_data.hpp).
#include "emulators/co2_data.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <regex>
#include <sstream>
#include <type_traits>
#include <utility>

#include "emulators/param_text.hpp"
#include "grids/error.hpp"
#include "io/co2_dataset_format.hpp"
#include "io/netcdf_file.hpp"

namespace aeolus::emulators {

namespace co2f = io::co2;
namespace fs = std::filesystem;

namespace {

// States read per NetCDF call: bounds the temporary double buffer (64 x 20480 x 8 B = 10 MB on
// the 10 x 32 x 64 grid) while keeping the calls few.
constexpr std::size_t kReadChunk = 64;

template <class T>
std::string str(const T& v) {
  return detail::param_str(v);
}

std::string shape_str(const std::vector<std::string>& dims, const std::vector<std::size_t>& n) {
  std::string out = "(";
  for (std::size_t i = 0; i < dims.size(); ++i)
    out += (i ? ", " : "") + dims[i] + (i < n.size() ? " = " + str(n[i]) : "");
  return out + ")";
}

// The header of one year file, checked: grid, dt_sample, sample times, completeness, and that
// every variable we read has the expected dimensions.
struct FileHeader {
  std::size_t samples = 0;
  int nlev = 0, nlat = 0, nlon = 0;
  double dt = 0;
  std::vector<double> time_hours;
};

FileHeader read_header(const io::NetcdfFile& f, bool meteorology) {
  const std::string& path = f.path();
  if (!f.has_att("", "aeolus_complete") || f.get_att_int64("", "aeolus_complete") != 1)
    throw IoError(path +
                  " lacks the global attribute aeolus_complete = 1: the data set writer did not "
                  "finish it; regenerate the data set (aeolus dataset CASE --overwrite)");
  if (!f.has_att("", co2f::kDtSample))
    throw IoError(path + " lacks the global attribute " + co2f::kDtSample +
                  "; expected the seconds between samples");
  FileHeader h;
  h.dt = f.get_att_double("", co2f::kDtSample);
  if (!(h.dt > 0) || !std::isfinite(h.dt))
    throw IoError(path + ": " + co2f::kDtSample + " = " + str(h.dt) + "; expected > 0 s");
  for (const char* d : {"time", "level", "lat", "lon"}) {
    try {
      (void)f.dim_len(d);
    } catch (const Error&) {
      throw IoError(path + " lacks the dimension '" + d +
                    "'; expected a CO2 data set file (time, level, lat, lon)");
    }
  }
  h.samples = f.dim_len("time");
  h.nlev = int(f.dim_len("level"));
  h.nlat = int(f.dim_len("lat"));
  h.nlon = int(f.dim_len("lon"));
  if (h.samples == 0) throw IoError(path + " holds no sample (time = 0)");
  const std::vector<std::string> d3 = {"time", "level", "lat", "lon"}, d2 = {"time", "lat", "lon"};
  const std::vector<std::size_t> n3 = {h.samples, std::size_t(h.nlev), std::size_t(h.nlat),
                                       std::size_t(h.nlon)},
                                 n2 = {h.samples, std::size_t(h.nlat), std::size_t(h.nlon)};
  const auto need = [&](const std::string& var, const std::vector<std::string>& dims,
                        const std::vector<std::size_t>& n) {
    if (!f.has_var(var))
      throw IoError(path + " lacks the variable '" + var + "'; expected " + shape_str(dims, n));
    const auto got_dims = f.var_dims(var);
    const auto got = f.var_shape(var);
    if (got_dims != dims || got != n)
      throw IoError(path + ": variable '" + var + "' has shape " + shape_str(got_dims, got) +
                    "; expected " + shape_str(dims, n));
  };
  need("time", {"time"}, {h.samples});
  need("lat", {"lat"}, {std::size_t(h.nlat)});
  need("lon", {"lon"}, {std::size_t(h.nlon)});
  need(co2f::kCellArea, {"lat", "lon"}, {std::size_t(h.nlat), std::size_t(h.nlon)});
  for (const char* v : {co2f::kCo2, co2f::kAirmass}) need(v, d3, n3);
  for (const char* v : {co2f::kFluxLand, co2f::kFluxOcean, co2f::kFluxAnthro}) need(v, d2, n2);
  if (meteorology) {
    for (const char* v : {co2f::kU, co2f::kV, co2f::kOmega}) need(v, d3, n3);
    for (const char* v : {co2f::kBlh, co2f::kTisr}) need(v, d2, n2);
  }
  h.time_hours.resize(h.samples);
  f.get("time", {}, {}, h.time_hours.data());
  return h;
}

}  // namespace

std::vector<std::string> co2_split_files(const std::string& data_dir, const std::string& split) {
  const fs::path dir = fs::path(data_dir) / split;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw IoError("CO2 data set: the folder " + dir.string() +
                  " does not exist; expected the year files of the '" + split +
                  "' split there (aeolus dataset CASE writes them)");
  static const std::regex name("co2_year([0-9]+)\\.nc");
  std::vector<std::pair<long long, std::string>> years;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string file = e.path().filename().string();
    if (e.is_regular_file() && std::regex_match(file, m, name))
      years.emplace_back(std::stoll(m[1].str()), e.path().string());
  }
  if (ec) throw IoError("CO2 data set: cannot list " + dir.string() + ": " + ec.message());
  if (years.empty())
    throw IoError("CO2 data set: " + dir.string() +
                  " holds no year file (co2_yearNNNN.nc); expected at least one");
  std::sort(years.begin(), years.end());
  std::vector<std::string> out;
  for (auto& y : years) out.push_back(std::move(y.second));
  return out;
}

Co2SplitData Co2SplitData::read(const std::vector<std::string>& files, const std::string& next_file,
                                const Co2ReadOptions& options) {
  if (files.empty()) throw IoError("CO2 data set: no files to read (an empty split)");
  Co2SplitData d;
  d.meteorology_ = options.meteorology;
  d.files_ = files;
  if (!next_file.empty()) d.files_.push_back(next_file);

  // Pass 1: headers, so that the arrays are allocated once.
  std::vector<FileHeader> headers;
  for (std::size_t fi = 0; fi < d.files_.size(); ++fi) {
    const std::string& path = d.files_[fi];
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
      throw IoError("CO2 data set: file " + path + " does not exist or is not a file");
    const io::NetcdfFile f(path, io::NetcdfFile::Mode::read);
    FileHeader h = read_header(f, options.meteorology);
    if (fi == 0) {
      const auto want = [&](int required, int got, const char* dim) {
        if (required > 0 && required != got)
          throw IoError(path + ": dimension " + dim + " = " + str(got) + "; expected " +
                        str(required) + " (the model's grid)");
      };
      want(options.nlev, h.nlev, "level");
      want(options.nlat, h.nlat, "lat");
      want(options.nlon, h.nlon, "lon");
      d.shape_ = Co2Shape{h.nlev, h.nlat, h.nlon};
      d.dt_ = h.dt;
      d.lat_.resize(std::size_t(h.nlat));
      d.lon_.resize(std::size_t(h.nlon));
      f.get("lat", {}, {}, d.lat_.data());
      f.get("lon", {}, {}, d.lon_.data());
      std::vector<double> area(d.shape_.cells2d());
      f.get(co2f::kCellArea, {}, {}, area.data());
      d.cell_area_.resize(std::size_t(h.nlat));
      for (int j = 0; j < h.nlat; ++j) {
        const double a = area[std::size_t(j) * std::size_t(h.nlon)];
        for (int i = 0; i < h.nlon; ++i) {
          const double b = area[std::size_t(j) * std::size_t(h.nlon) + std::size_t(i)];
          if (!(a > 0) || std::abs(b - a) > 1e-12 * a)
            throw IoError(path + ": cell_area[" + str(j) + "][" + str(i) + "] = " + str(b) +
                          " m2; expected positive and equal along a latitude row (" + str(a) +
                          " at lon index 0)");
        }
        d.cell_area_[std::size_t(j)] = a;
      }
    } else {
      if (h.nlev != d.shape_.nlev || h.nlat != d.shape_.nlat || h.nlon != d.shape_.nlon)
        throw IoError(path + ": grid (level, lat, lon) = (" + str(h.nlev) + ", " + str(h.nlat) +
                      ", " + str(h.nlon) + "); expected (" + str(d.shape_.nlev) + ", " +
                      str(d.shape_.nlat) + ", " + str(d.shape_.nlon) + ") as in " + d.files_[0]);
      if (std::abs(h.dt - d.dt_) > 1e-9 * d.dt_)
        throw IoError(path + ": dt_sample = " + str(h.dt) + " s; expected " + str(d.dt_) +
                      " s as in " + d.files_[0]);
      const double last = headers.back().time_hours.back();
      const double expect = last + d.dt_ / 3600.0;
      if (std::abs(h.time_hours.front() - expect) > 1e-6)
        throw IoError(path + " starts at time " + str(h.time_hours.front()) + " h, but " +
                      d.files_[fi - 1] + " ends at " + str(last) + " h; expected " + str(expect) +
                      " h: the files do not follow each other in time");
    }
    for (std::size_t s = 1; s < h.samples; ++s)
      if (std::abs(h.time_hours[s] - h.time_hours[s - 1] - d.dt_ / 3600.0) > 1e-6)
        throw IoError(path + ": time[" + str(s) + "] = " + str(h.time_hours[s]) + " h; expected " +
                      str(h.time_hours[s - 1] + d.dt_ / 3600.0) + " h (dt_sample apart)");
    headers.push_back(std::move(h));
  }
  std::size_t total = 0;
  for (std::size_t fi = 0; fi < headers.size(); ++fi) {
    d.file_starts_.push_back(total);
    total += fi < files.size() ? headers[fi].samples : 1;
  }
  d.times_ = total;
  const std::size_t n3 = d.shape_.cells3d(), n2 = d.shape_.cells2d();
  d.q_.resize(total * n3);
  d.airmass_.resize(total * n3);
  d.land_.resize(total * n2);
  d.ocean_.resize(total * n2);
  d.anthro_.resize(total * n2);
  if (d.meteorology_) {
    d.u_.resize(total * n3);
    d.v_.resize(total * n3);
    d.omega_.resize(total * n3);
    d.blh_.resize(total * n2);
    d.tisr_.resize(total * n2);
  }

  // Pass 2: the data, in chunks of states.
  std::vector<double> buf;
  std::size_t t0 = 0;
  for (std::size_t fi = 0; fi < headers.size(); ++fi) {
    const io::NetcdfFile f(d.files_[fi], io::NetcdfFile::Mode::read);
    const std::size_t count = fi < files.size() ? headers[fi].samples : 1;
    for (std::size_t s = 0; s < count; ++s) d.time_hours_.push_back(headers[fi].time_hours[s]);
    for (std::size_t s0 = 0; s0 < count; s0 += kReadChunk) {
      const std::size_t c = std::min(kReadChunk, count - s0);
      const auto read3 = [&](const char* var, auto* dst, double scale) {
        buf.resize(c * n3);
        f.get(
            var, {s0, 0, 0, 0},
            {c, std::size_t(d.shape_.nlev), std::size_t(d.shape_.nlat), std::size_t(d.shape_.nlon)},
            buf.data());
        using T = std::remove_pointer_t<decltype(dst)>;
        T* out = dst + (t0 + s0) * n3;
        for (std::size_t i = 0; i < c * n3; ++i) out[i] = T(buf[i] / scale);
      };
      const auto read2 = [&](const char* var, auto* dst) {
        buf.resize(c * n2);
        f.get(var, {s0, 0, 0}, {c, std::size_t(d.shape_.nlat), std::size_t(d.shape_.nlon)},
              buf.data());
        using T = std::remove_pointer_t<decltype(dst)>;
        T* out = dst + (t0 + s0) * n2;
        for (std::size_t i = 0; i < c * n2; ++i) out[i] = T(buf[i]);
      };
      read3(co2f::kCo2, d.q_.data(), co2f::kCo2FileScale);
      read3(co2f::kAirmass, d.airmass_.data(), co2f::kAirmassFileScale);
      read2(co2f::kFluxLand, d.land_.data());
      read2(co2f::kFluxOcean, d.ocean_.data());
      read2(co2f::kFluxAnthro, d.anthro_.data());
      if (d.meteorology_) {
        read3(co2f::kU, d.u_.data(), 1.0);
        read3(co2f::kV, d.v_.data(), 1.0);
        read3(co2f::kOmega, d.omega_.data(), 1.0);
        read2(co2f::kBlh, d.blh_.data());
        read2(co2f::kTisr, d.tisr_.data());
      }
    }
    t0 += count;
  }
  for (std::size_t i = 0; i < d.airmass_.size(); ++i)
    if (!(d.airmass_[i] > 0) || !std::isfinite(d.airmass_[i]) || !std::isfinite(d.q_[i])) {
      const std::size_t t = i / n3;
      std::size_t fi = 0, start = 0;
      while (fi + 1 < headers.size() && start + headers[fi].samples <= t)
        start += headers[fi++].samples;
      throw IoError(d.files_[fi] + ": state " + str(t - start) + " cell " + str(i % n3) +
                    " has airmass = " + str(d.airmass_[i] * co2f::kAirmassFileScale) +
                    " Pg and co2massmix = " + str(d.q_[i] * co2f::kCo2FileScale) +
                    "; expected a positive air mass and finite values");
    }
  return d;
}

std::size_t Co2SplitData::bytes() const {
  return 8 * (q_.size() + airmass_.size() + land_.size() + ocean_.size() + anthro_.size()) +
         4 * (u_.size() + v_.size() + omega_.size() + blh_.size() + tisr_.size());
}

Co2StepInput Co2SplitData::step_input(std::size_t i, bool meteorology) const {
  if (i >= pairs())
    throw ModelError("CO2 data: pair " + str(i) + " requested; the split has " + str(pairs()));
  const std::size_t n3 = shape_.cells3d(), n2 = shape_.cells2d();
  Co2StepInput in;
  in.dt = dt_;
  in.q.assign(q(i), q(i) + n3);
  in.airmass.assign(airmass(i), airmass(i) + n3);
  in.airmass_next.assign(airmass(i + 1), airmass(i + 1) + n3);
  in.co2flux_land.assign(flux_land(i), flux_land(i) + n2);
  in.co2flux_ocean.assign(flux_ocean(i), flux_ocean(i) + n2);
  in.co2flux_anthro.assign(flux_anthro(i), flux_anthro(i) + n2);
  in.cell_area = cell_area_;
  if (meteorology && meteorology_) {
    in.u.assign(u(i), u(i) + n3);
    in.v.assign(v(i), v(i) + n3);
    in.omega.assign(omega(i), omega(i) + n3);
    in.u_next.assign(u(i + 1), u(i + 1) + n3);
    in.v_next.assign(v(i + 1), v(i + 1) + n3);
    in.omega_next.assign(omega(i + 1), omega(i + 1) + n3);
    in.blh.assign(blh(i), blh(i) + n2);
    in.tisr.assign(tisr(i), tisr(i) + n2);
  }
  return in;
}

std::vector<double> Co2SplitData::q_next(std::size_t i) const {
  if (i >= pairs())
    throw ModelError("CO2 data: pair " + str(i) + " requested; the split has " + str(pairs()));
  return std::vector<double>(q(i + 1), q(i + 1) + shape_.cells3d());
}

}  // namespace aeolus::emulators
