#include "io/json.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "grids/error.hpp"

namespace aeolus::io {

namespace fs = std::filesystem;

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        o += "\\\"";
        break;
      case '\\':
        o += "\\\\";
        break;
      case '\n':
        o += "\\n";
        break;
      case '\t':
        o += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          o += b;
        } else {
          o += c;
        }
    }
  }
  return o + "\"";
}

std::string json_number(double v, int digits) {
  if (!std::isfinite(v)) return "null";  // JSON has no NaN/Inf
  char b[40];
  std::snprintf(b, sizeof b, "%.*g", digits, v);
  return b;
}

std::string json_array(const std::vector<double>& v) {
  std::string o = "[";
  for (size_t i = 0; i < v.size(); ++i) o += (i ? ", " : "") + json_number(v[i]);
  return o + "]";
}

void JsonRecord::set_string(const std::string& k, const std::string& v) {
  set_raw(k, json_string(v));
}
void JsonRecord::set_number(const std::string& k, double v) { set_raw(k, json_number(v)); }
void JsonRecord::set_int(const std::string& k, long long v) { set_raw(k, std::to_string(v)); }
void JsonRecord::set_raw(const std::string& k, const std::string& json) {
  for (auto& kv : items_) {
    if (kv.first == k) {
      kv.second = json;
      return;
    }
  }
  items_.emplace_back(k, json);
}

std::string JsonRecord::str() const {
  std::ostringstream os;
  os << "{\n";
  for (size_t i = 0; i < items_.size(); ++i) {
    os << "  " << json_string(items_[i].first) << ": " << items_[i].second
       << (i + 1 < items_.size() ? ",\n" : "\n");
  }
  os << "}\n";
  return os.str();
}

void JsonRecord::write_atomic(const std::string& path) const {
  fs::create_directories(fs::path(path).parent_path());
  const std::string tmp = path + ".part";
  {
    std::ofstream f(tmp, std::ios::trunc);
    if (!f) throw IoError(tmp + ": cannot open for writing");
    f << str();
    if (!f) throw IoError(tmp + ": write failed");
  }
  fs::rename(tmp, path);
}

}  // namespace aeolus::io
