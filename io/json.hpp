#pragma once
// Small JSON writers for the records a run leaves (logs/run.json, eval/metrics.json): strings,
// numbers, flat arrays and a flat object written atomically. Aeolus writes JSON for people and
// plotting scripts and never reads it back, so there is no parser here.
#include <string>
#include <utility>
#include <vector>

namespace aeolus::io {

// s as a JSON string, quotes included: '"', '\\', newline and tab escaped, any other control
// character as \u00XX; other bytes (UTF-8 included) pass unchanged.
std::string json_string(const std::string& s);

// v as a JSON number with `digits` significant digits (printf %.*g; 17 reads back as the same
// double); null for NaN and the infinities, which JSON cannot spell.
std::string json_number(double v, int digits = 17);

// [a, b, ...] of json_number(v[i]).
std::string json_array(const std::vector<double>& v);

// A flat JSON object, one key a line, in the order keys were first set (setting a key again
// replaces its value in place); values are stored encoded.
class JsonRecord {
 public:
  void set_string(const std::string& key, const std::string& value);
  void set_number(const std::string& key, double value);
  void set_int(const std::string& key, long long value);
  // `json` must already be JSON (an object, an array, a number, ...).
  void set_raw(const std::string& key, const std::string& json);
  std::string str() const;
  // Writes PATH.part and renames it to PATH (creating the parent directory), so a reader never
  // sees half a record. IoError naming PATH.part if it cannot be written.
  void write_atomic(const std::string& path) const;

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

}  // namespace aeolus::io
