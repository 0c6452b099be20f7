#include "io/netcdf_file.hpp"

#include <netcdf.h>

#include "grids/error.hpp"

// Check a netCDF return code; the message names the file, the variable (or attribute owner)
// and the call, which is what one needs to find the failing write in a large output.
#define AEOLUS_NC(call, what)                                                  \
  do {                                                                         \
    const int aeolus_nc_status_ = (call);                                      \
    if (aeolus_nc_status_ != NC_NOERR) fail(aeolus_nc_status_, #call, (what)); \
  } while (0)

namespace aeolus::io {

namespace {

nc_type type_from_name(const std::string& type, const std::string& path, const std::string& var) {
  if (type == "double") return NC_DOUBLE;
  if (type == "float") return NC_FLOAT;
  if (type == "int") return NC_INT;
  if (type == "int64") return NC_INT64;
  throw IoError(path + ": variable '" + var + "': unknown type '" + type +
                "' (expected double, float, int or int64)");
}

// What a failing call was about, for messages.
std::string of_var(const std::string& var) { return var.empty() ? "" : "variable '" + var + "'"; }
std::string of_dim(const std::string& dim) { return "dimension '" + dim + "'"; }
std::string of_att(const std::string& var, const std::string& name) {
  return var.empty() ? "global attribute '" + name + "'"
                     : "attribute '" + name + "' of variable '" + var + "'";
}

// "nc_put_vara_double(ncid_, ...)" -> "nc_put_vara_double": the arguments are noise.
std::string call_name(const char* call) {
  std::string s(call);
  const auto paren = s.find('(');
  return paren == std::string::npos ? s : s.substr(0, paren);
}

}  // namespace

void NetcdfFile::fail(int status, const char* call, const std::string& what) const {
  throw IoError(path_ + ": " + (what.empty() ? "" : what + ": ") + call_name(call) +
                " failed: " + nc_strerror(status));
}

NetcdfFile::NetcdfFile(const std::string& path, Mode mode) : path_(path) {
  switch (mode) {
    case Mode::read:
      AEOLUS_NC(nc_open(path.c_str(), NC_NOWRITE, &ncid_), "");
      break;
    case Mode::write:
      AEOLUS_NC(nc_open(path.c_str(), NC_WRITE, &ncid_), "");
      break;
    case Mode::create:
      AEOLUS_NC(nc_create(path.c_str(), NC_NETCDF4 | NC_NOCLOBBER, &ncid_), "");
      break;
  }
}

NetcdfFile::~NetcdfFile() {
  // A destructor cannot report; whoever needs the close checked calls close() first.
  if (ncid_ >= 0) nc_close(ncid_);
}

int NetcdfFile::var_id(const std::string& var) const {
  if (var.empty()) return NC_GLOBAL;
  int id = -1;
  AEOLUS_NC(nc_inq_varid(ncid_, var.c_str(), &id), of_var(var));
  return id;
}

int NetcdfFile::def_dim(const std::string& name, size_t len) {
  int id = -1;
  AEOLUS_NC(nc_def_dim(ncid_, name.c_str(), len == 0 ? NC_UNLIMITED : len, &id), of_dim(name));
  return id;
}

int NetcdfFile::def_var(const std::string& name, const std::string& type,
                        const std::vector<std::string>& dims, int deflate_level,
                        const std::vector<size_t>& chunks) {
  const nc_type t = type_from_name(type, path_, name);
  if (deflate_level < 0 || deflate_level > 9) {
    throw IoError(path_ + ": variable '" + name + "': deflate level " +
                  std::to_string(deflate_level) + " is out of range [0, 9]");
  }
  if (!chunks.empty() && chunks.size() != dims.size()) {
    throw IoError(path_ + ": variable '" + name + "': " + std::to_string(chunks.size()) +
                  " chunk sizes for " + std::to_string(dims.size()) + " dimensions");
  }
  std::vector<int> dim_ids(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    AEOLUS_NC(nc_inq_dimid(ncid_, dims[i].c_str(), &dim_ids[i]), of_var(name));
  }
  int id = -1;
  AEOLUS_NC(nc_def_var(ncid_, name.c_str(), t, int(dims.size()), dim_ids.data(), &id),
            of_var(name));
  if (!chunks.empty()) {
    AEOLUS_NC(nc_def_var_chunking(ncid_, id, NC_CHUNKED, chunks.data()), of_var(name));
  }
  if (deflate_level > 0) {
    AEOLUS_NC(nc_def_var_deflate(ncid_, id, 1, 1, deflate_level), of_var(name));
  }
  return id;
}

void NetcdfFile::put_att(const std::string& var, const std::string& name,
                         const std::string& value) {
  AEOLUS_NC(nc_put_att_text(ncid_, var_id(var), name.c_str(), value.size(), value.data()),
            of_att(var, name));
}

void NetcdfFile::put_att(const std::string& var, const std::string& name, double value) {
  AEOLUS_NC(nc_put_att_double(ncid_, var_id(var), name.c_str(), NC_DOUBLE, 1, &value),
            of_att(var, name));
}

void NetcdfFile::put_att(const std::string& var, const std::string& name, long long value) {
  AEOLUS_NC(nc_put_att_longlong(ncid_, var_id(var), name.c_str(), NC_INT64, 1, &value),
            of_att(var, name));
}

void NetcdfFile::put_att(const std::string& var, const std::string& name, int value) {
  AEOLUS_NC(nc_put_att_int(ncid_, var_id(var), name.c_str(), NC_INT, 1, &value), of_att(var, name));
}

// NetCDF-4 files switch between define and data mode on demand, so an explicit switch into the
// mode the file is already in is harmless and not an error.
void NetcdfFile::end_def() {
  const int status = nc_enddef(ncid_);
  if (status != NC_NOERR && status != NC_ENOTINDEFINE) fail(status, "nc_enddef", "");
}

void NetcdfFile::redef() {
  const int status = nc_redef(ncid_);
  if (status != NC_NOERR && status != NC_EINDEFINE) fail(status, "nc_redef", "");
}

namespace {

// Empty start/count means the whole variable at its current shape.
void whole_if_empty(const NetcdfFile& f, const std::string& var, std::vector<size_t>& start,
                    std::vector<size_t>& count) {
  const std::vector<size_t> shape = f.var_shape(var);
  if (start.empty() && count.empty()) {
    start.assign(shape.size(), 0);
    count = shape;
  }
  if (start.size() != shape.size() || count.size() != shape.size()) {
    throw IoError(f.path() + ": variable '" + var + "': hyperslab of rank " +
                  std::to_string(start.size()) + "/" + std::to_string(count.size()) +
                  " for a variable of rank " + std::to_string(shape.size()));
  }
}

}  // namespace

void NetcdfFile::put(const std::string& var, const std::vector<size_t>& start,
                     const std::vector<size_t>& count, const double* data) {
  std::vector<size_t> s = start, c = count;
  whole_if_empty(*this, var, s, c);
  AEOLUS_NC(nc_put_vara_double(ncid_, var_id(var), s.data(), c.data(), data), of_var(var));
}

void NetcdfFile::put(const std::string& var, const std::vector<size_t>& start,
                     const std::vector<size_t>& count, const long long* data) {
  std::vector<size_t> s = start, c = count;
  whole_if_empty(*this, var, s, c);
  AEOLUS_NC(nc_put_vara_longlong(ncid_, var_id(var), s.data(), c.data(), data), of_var(var));
}

void NetcdfFile::get(const std::string& var, const std::vector<size_t>& start,
                     const std::vector<size_t>& count, double* data) const {
  std::vector<size_t> s = start, c = count;
  whole_if_empty(*this, var, s, c);
  AEOLUS_NC(nc_get_vara_double(ncid_, var_id(var), s.data(), c.data(), data), of_var(var));
}

void NetcdfFile::get(const std::string& var, const std::vector<size_t>& start,
                     const std::vector<size_t>& count, long long* data) const {
  std::vector<size_t> s = start, c = count;
  whole_if_empty(*this, var, s, c);
  AEOLUS_NC(nc_get_vara_longlong(ncid_, var_id(var), s.data(), c.data(), data), of_var(var));
}

bool NetcdfFile::has_var(const std::string& var) const {
  int id = -1;
  const int status = nc_inq_varid(ncid_, var.c_str(), &id);
  if (status == NC_ENOTVAR) return false;
  AEOLUS_NC(status, of_var(var));
  return true;
}

bool NetcdfFile::has_att(const std::string& var, const std::string& name) const {
  int id = -1;
  const int status = nc_inq_attid(ncid_, var_id(var), name.c_str(), &id);
  if (status == NC_ENOTATT) return false;
  AEOLUS_NC(status, of_att(var, name));
  return true;
}

std::vector<std::string> NetcdfFile::var_dims(const std::string& var) const {
  const int id = var_id(var);
  int ndims = 0;
  AEOLUS_NC(nc_inq_varndims(ncid_, id, &ndims), of_var(var));
  std::vector<int> dim_ids(size_t(ndims), 0);
  AEOLUS_NC(nc_inq_vardimid(ncid_, id, dim_ids.data()), of_var(var));
  std::vector<std::string> names;
  for (int d : dim_ids) {
    char name[NC_MAX_NAME + 1] = {};
    AEOLUS_NC(nc_inq_dimname(ncid_, d, name), of_var(var));
    names.emplace_back(name);
  }
  return names;
}

std::vector<size_t> NetcdfFile::var_shape(const std::string& var) const {
  const int id = var_id(var);
  int ndims = 0;
  AEOLUS_NC(nc_inq_varndims(ncid_, id, &ndims), of_var(var));
  std::vector<int> dim_ids(size_t(ndims), 0);
  AEOLUS_NC(nc_inq_vardimid(ncid_, id, dim_ids.data()), of_var(var));
  std::vector<size_t> shape;
  for (int d : dim_ids) {
    size_t len = 0;
    AEOLUS_NC(nc_inq_dimlen(ncid_, d, &len), of_var(var));
    shape.push_back(len);
  }
  return shape;
}

size_t NetcdfFile::dim_len(const std::string& dim) const {
  int id = -1;
  size_t len = 0;
  AEOLUS_NC(nc_inq_dimid(ncid_, dim.c_str(), &id), of_dim(dim));
  AEOLUS_NC(nc_inq_dimlen(ncid_, id, &len), of_dim(dim));
  return len;
}

std::string NetcdfFile::get_att_string(const std::string& var, const std::string& name) const {
  const int id = var_id(var);
  const std::string who = of_att(var, name);
  nc_type type = NC_NAT;
  size_t len = 0;
  AEOLUS_NC(nc_inq_att(ncid_, id, name.c_str(), &type, &len), who);
  if (type == NC_CHAR) {
    std::string value(len, '\0');
    AEOLUS_NC(nc_get_att_text(ncid_, id, name.c_str(), value.data()), who);
    // Some writers include the C terminator in the length.
    while (!value.empty() && value.back() == '\0') value.pop_back();
    return value;
  }
  if (type == NC_STRING && len == 1) {
    char* value = nullptr;
    AEOLUS_NC(nc_get_att_string(ncid_, id, name.c_str(), &value), who);
    std::string out = value ? value : "";
    nc_free_string(1, &value);
    return out;
  }
  throw IoError(path_ + ": " + who + " is not text");
}

// One numeric attribute value, converted by netCDF to T through `get` (nc_get_att_double, ...).
template <class T, class Get>
T NetcdfFile::get_att_scalar(const std::string& var, const std::string& name, Get get) const {
  const std::string who = of_att(var, name);
  const int id = var_id(var);
  size_t len = 0;
  AEOLUS_NC(nc_inq_attlen(ncid_, id, name.c_str(), &len), who);
  if (len != 1) {
    throw IoError(path_ + ": " + who + " has " + std::to_string(len) + " values, expected 1");
  }
  T value{};
  AEOLUS_NC(get(ncid_, id, name.c_str(), &value), who);
  return value;
}

double NetcdfFile::get_att_double(const std::string& var, const std::string& name) const {
  return get_att_scalar<double>(var, name, nc_get_att_double);
}

long long NetcdfFile::get_att_int64(const std::string& var, const std::string& name) const {
  return get_att_scalar<long long>(var, name, nc_get_att_longlong);
}

std::vector<std::string> NetcdfFile::att_names(const std::string& var) const {
  const int id = var_id(var);
  int natts = 0;
  if (id == NC_GLOBAL) {
    AEOLUS_NC(nc_inq_natts(ncid_, &natts), "");
  } else {
    AEOLUS_NC(nc_inq_varnatts(ncid_, id, &natts), of_var(var));
  }
  std::vector<std::string> names;
  for (int i = 0; i < natts; ++i) {
    char name[NC_MAX_NAME + 1] = {};
    AEOLUS_NC(nc_inq_attname(ncid_, id, i, name), of_var(var));
    names.emplace_back(name);
  }
  return names;
}

std::vector<std::string> NetcdfFile::var_names() const {
  int nvars = 0;
  AEOLUS_NC(nc_inq_nvars(ncid_, &nvars), "");
  std::vector<int> ids(size_t(nvars), 0);
  AEOLUS_NC(nc_inq_varids(ncid_, &nvars, ids.data()), "");
  std::vector<std::string> names;
  for (int id : ids) {
    char name[NC_MAX_NAME + 1] = {};
    AEOLUS_NC(nc_inq_varname(ncid_, id, name), "");
    names.emplace_back(name);
  }
  return names;
}

void NetcdfFile::sync() { AEOLUS_NC(nc_sync(ncid_), ""); }

void NetcdfFile::close() {
  if (ncid_ < 0) return;
  const int id = ncid_;
  ncid_ = -1;  // a failed close must not be retried by the destructor
  AEOLUS_NC(nc_close(id), "");
}

}  // namespace aeolus::io
