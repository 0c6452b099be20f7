#include "io/co2_year_writer.hpp"

#include <cmath>
#include <filesystem>
#include <sstream>

#include "grids/error.hpp"
#include "grids/format.hpp"
#include "io/co2_dataset_format.hpp"

namespace aeolus::io {

namespace fs = std::filesystem;
namespace co2f = io::co2;

Co2YearWriter::Co2YearWriter(const std::string& path, const SphereGrid& g,
                             const Co2YearFileInfo& info)
    : path_(path), part_(path + ".part") {
  nlev_ = size_t(g.nlev()), nlat_ = size_t(g.nlat()), nlon_ = size_t(g.nlon());
  if (info.hyai.size() != nlev_ + 1 || info.hybi.size() != nlev_ + 1) {
    std::ostringstream os;
    os << path << ": " << info.hyai.size() << " hyai and " << info.hybi.size()
       << " hybi coefficients for a grid of " << nlev_ << " levels; expected " << nlev_ + 1;
    throw Error(os.str());
  }
  fs::create_directories(fs::path(path).parent_path());
  f_ = std::make_unique<NetcdfFile>(part_, NetcdfFile::Mode::create);
  define(info);
  put_coordinates(g, info);
}

Co2YearWriter::~Co2YearWriter() = default;

void Co2YearWriter::define(const Co2YearFileInfo& info) {
  auto& f = *f_;
  f.def_dim("time", 0);
  f.def_dim("level", nlev_);
  f.def_dim("lat", nlat_);
  f.def_dim("lon", nlon_);
  f.def_dim("ilev", nlev_ + 1);
  f.def_dim("nv", 2);
  auto coord = [&](const std::string& name, const std::vector<std::string>& dims,
                   const std::string& units, const std::string& long_name,
                   const std::string& standard_name) {
    f.def_var(name, "double", dims);
    // Boundary variables take their units from their coordinate (CF 7.1).
    if (!units.empty()) f.put_att(name, "units", units);
    f.put_att(name, "long_name", long_name);
    if (!standard_name.empty()) f.put_att(name, "standard_name", standard_name);
  };
  coord("time", {"time"}, "hours since 2000-01-01 00:00:00", "time of the sample", "time");
  f.put_att("time", "calendar", "noleap");
  f.put_att("time", "axis", "T");
  f.put_att("time", "bounds", "time_bnds");
  coord("time_bnds", {"time", "nv"}, "", "interval [t, t + dt_sample] the fluxes average over", "");
  coord("level", {"level"}, "Pa", "reference pressure at the layer's mid point (ps = p0)",
        "air_pressure");
  f.put_att("level", "positive", "down");
  f.put_att("level", "axis", "Z");
  f.put_att("level", "bounds", "level_bnds");
  coord("level_bnds", {"level", "nv"}, "", "reference pressure at the layer's edges", "");
  coord("lat", {"lat"}, "degrees_north", "latitude", "latitude");
  f.put_att("lat", "bounds", "lat_bnds");
  coord("lat_bnds", {"lat", "nv"}, "", "latitude of the cell edges", "");
  coord("lon", {"lon"}, "degrees_east", "longitude", "longitude");
  f.put_att("lon", "bounds", "lon_bnds");
  coord("lon_bnds", {"lon", "nv"}, "", "longitude of the cell edges", "");
  coord("hyai", {"ilev"}, "1", "hybrid A coefficient at layer interfaces (p = hyai p0 + hybi ps)",
        "");
  coord("hybi", {"ilev"}, "1", "hybrid B coefficient at layer interfaces", "");
  coord(co2f::kCellArea, {"lat", "lon"}, "m2", "area of the grid cell", "cell_area");

  const std::vector<std::string> d3 = {"time", "level", "lat", "lon"}, d2 = {"time", "lat", "lon"};
  const std::vector<size_t> c3 = {1, nlev_, nlat_, nlon_}, c2 = {1, nlat_, nlon_};
  const int z = info.deflate;
  auto var = [&](const char* name, const std::string& type, bool three_d, const std::string& units,
                 const std::string& long_name, const std::string& standard_name) {
    f.def_var(name, type, three_d ? d3 : d2, z, three_d ? c3 : c2);
    f.put_att(name, "units", units);
    f.put_att(name, "long_name", long_name);
    if (!standard_name.empty()) f.put_att(name, "standard_name", standard_name);
    f.put_att(name, "cell_measures", "area: cell_area");
  };
  var(co2f::kCo2, "double", true, "1e-6 kg/kg", "CO2 mass mixing ratio (cell mean)",
      "mass_fraction_of_carbon_dioxide_in_air");
  var(co2f::kAirmass, "double", true, "Pg", "air mass of the cell", "");
  var(co2f::kPBottom, "float", true, "hPa", "pressure at the lower edge of the layer",
      "air_pressure");
  var(co2f::kPTop, "float", true, "hPa", "pressure at the upper edge of the layer", "air_pressure");
  var(co2f::kU, "float", true, "m s-1", "eastward wind (prescribed part)", "eastward_wind");
  var(co2f::kV, "float", true, "m s-1", "northward wind (prescribed part)", "northward_wind");
  var(co2f::kOmega, "float", true, "Pa s-1", "vertical pressure velocity (positive down)",
      "lagrangian_tendency_of_air_pressure");
  var(co2f::kBlh, "float", false, "m", "boundary-layer height",
      "atmosphere_boundary_layer_thickness");
  var(co2f::kTisr, "float", false, "J m-2",
      "TOA incident solar radiation accumulated over the hour ending at the sample time",
      "integral_wrt_time_of_toa_incoming_shortwave_flux");
  const char* flux_names[3] = {co2f::kFluxLand, co2f::kFluxOcean, co2f::kFluxAnthro};
  const char* flux_long[3] = {"CO2 flux from the land biosphere (net ecosystem exchange)",
                              "CO2 flux from the ocean", "anthropogenic (fossil) CO2 flux"};
  for (int i = 0; i < 3; ++i) {
    // No CF standard name: CF's CO2 surface fluxes are expressed as carbon, these as CO2.
    var(flux_names[i], "double", false, "kg m-2 s-1", flux_long[i], "");
    f.put_att(flux_names[i], "cell_methods",
              "time: mean (interval: " + fmt("%g", info.sample_interval) + " s)");
    f.put_att(flux_names[i], "comment",
              "mass of CO2 (not carbon), positive upward; the mean over [t, t + dt_sample] of "
              "what the solver applied");
  }
  f.put_att("", "Conventions", "CF-1.8");
  f.put_att("", "title", "Aeolus synthetic CO2 transport data set (CarbonBench layout)");
  f.put_att("", "source", info.source);
  f.put_att("", "case_name", info.case_name);
  f.put_att("", "config_hash", info.config_hash);
  f.put_att("", "split", info.split);
  f.put_att("", "year", info.year);
  f.put_att("", co2f::kDtSample, info.sample_interval);
  f.put_att("", "meteorology_seed", info.meteorology_seed);
  f.put_att("", "flux_seed", info.flux_seed);
  f.put_att("", "ranks", info.ranks);
  f.end_def();
}

void Co2YearWriter::put_coordinates(const SphereGrid& g, const Co2YearFileInfo& info) {
  auto& f = *f_;
  // Reference levels: p_kf = hyai p0 + hybi ps at ps = p0 (HybridCoordinate::p_interface).
  const double p0 = info.p0;
  std::vector<double> lev(nlev_), lev_b(2 * nlev_);
  for (size_t k = 0; k < nlev_; ++k) {
    const double pu = info.hyai[k] * p0 + info.hybi[k] * p0,
                 pl = info.hyai[k + 1] * p0 + info.hybi[k + 1] * p0;
    lev[k] = 0.5 * (pu + pl);
    lev_b[2 * k] = pu, lev_b[2 * k + 1] = pl;
  }
  std::vector<double> lat(nlat_), lat_b(2 * nlat_), lon(nlon_), lon_b(2 * nlon_);
  std::vector<double> area(nlat_ * nlon_);
  const double deg = 180.0 / M_PI;
  for (size_t j = 0; j < nlat_; ++j) {
    lat[j] = g.lat_center(index_t(j)) * deg;
    lat_b[2 * j] = g.lat_edge(index_t(j)) * deg;
    lat_b[2 * j + 1] = g.lat_edge(index_t(j) + 1) * deg;
    for (size_t i = 0; i < nlon_; ++i) area[j * nlon_ + i] = g.area(index_t(j));
  }
  for (size_t i = 0; i < nlon_; ++i) {
    lon[i] = g.lon_center(index_t(i)) * deg;
    lon_b[2 * i] = g.lon_edge(index_t(i)) * deg;
    lon_b[2 * i + 1] = g.lon_edge(index_t(i) + 1) * deg;
  }
  f.put("level", {}, {}, lev.data());
  f.put("level_bnds", {}, {}, lev_b.data());
  f.put("hyai", {}, {}, info.hyai.data());
  f.put("hybi", {}, {}, info.hybi.data());
  f.put("lat", {}, {}, lat.data());
  f.put("lat_bnds", {}, {}, lat_b.data());
  f.put("lon", {}, {}, lon.data());
  f.put("lon_bnds", {}, {}, lon_b.data());
  f.put(co2f::kCellArea, {}, {}, area.data());
}

void Co2YearWriter::put3(const char* var, size_t n, const std::vector<double>& v) {
  f_->put(var, {n, 0, 0, 0}, {1, nlev_, nlat_, nlon_}, v.data());
}

void Co2YearWriter::put2(const char* var, size_t n, const std::vector<double>& v) {
  f_->put(var, {n, 0, 0}, {1, nlat_, nlon_}, v.data());
}

void Co2YearWriter::put_time(size_t n, double hours, double interval_hours) {
  f_->put("time", {n}, {1}, &hours);
  const double b[2] = {hours, hours + interval_hours};
  f_->put("time_bnds", {n, 0}, {1, 2}, b);
}

void Co2YearWriter::finish() {
  f_->put_att("", "aeolus_complete", (long long)1);
  f_->close();
  fs::rename(part_, path_);
}

}  // namespace aeolus::io
