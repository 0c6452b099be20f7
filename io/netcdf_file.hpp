#pragma once
// RAII wrapper over a NetCDF-4 file (serial; the MPI-aware writers call it on rank 0 only).
// Every netCDF call is checked; errors name the file, the variable and the call.
#include <cstddef>
#include <string>
#include <vector>

namespace aeolus::io {

class NetcdfFile {
 public:
  enum class Mode { read, write, create };  // create fails if the file exists
  NetcdfFile(const std::string& path, Mode mode);
  ~NetcdfFile();
  NetcdfFile(const NetcdfFile&) = delete;
  NetcdfFile& operator=(const NetcdfFile&) = delete;

  const std::string& path() const { return path_; }
  int id() const { return ncid_; }

  // Definitions (create mode). len 0 = unlimited.
  int def_dim(const std::string& name, size_t len);
  // type: "double" | "float" | "int" | "int64"; chunking/compression optional (deflate level 0..9)
  int def_var(const std::string& name, const std::string& type,
              const std::vector<std::string>& dims, int deflate_level = 0,
              const std::vector<size_t>& chunks = {});
  void put_att(const std::string& var, const std::string& name,
               const std::string& value);  // var "" = global
  void put_att(const std::string& var, const std::string& name, double value);
  void put_att(const std::string& var, const std::string& name, long long value);  // NC_INT64
  void put_att(const std::string& var, const std::string& name, int value);        // NC_INT
  void end_def();
  void redef();

  // Data (hyperslab start/count; empty start/count = whole variable).
  void put(const std::string& var, const std::vector<size_t>& start,
           const std::vector<size_t>& count, const double* data);
  void put(const std::string& var, const std::vector<size_t>& start,
           const std::vector<size_t>& count, const long long* data);
  void get(const std::string& var, const std::vector<size_t>& start,
           const std::vector<size_t>& count, double* data) const;
  void get(const std::string& var, const std::vector<size_t>& start,
           const std::vector<size_t>& count, long long* data) const;

  // Queries.
  bool has_var(const std::string& var) const;
  bool has_att(const std::string& var, const std::string& name) const;
  std::vector<std::string> var_dims(const std::string& var) const;
  std::vector<size_t> var_shape(const std::string& var) const;
  size_t dim_len(const std::string& dim) const;
  std::string get_att_string(const std::string& var, const std::string& name) const;
  double get_att_double(const std::string& var, const std::string& name) const;
  // Any integer attribute, read exactly (a double attribute is converted by netCDF).
  long long get_att_int64(const std::string& var, const std::string& name) const;
  std::vector<std::string> att_names(const std::string& var) const;  // var "" = global
  std::vector<std::string> var_names() const;
  void sync();
  void close();  // idempotent; errors on close (data not flushed) throw

 private:
  template <class T, class Get>
  T get_att_scalar(const std::string& var, const std::string& name, Get get) const;
  [[noreturn]] void fail(int status, const char* call, const std::string& what) const;
  int var_id(const std::string& var) const;  // "" -> NC_GLOBAL
  std::string path_;
  int ncid_ = -1;
};

}  // namespace aeolus::io
