#pragma once
// Schema-checked reading of YAML configuration (case.yaml).
//
// Each component reads its section through a Section: typed getters with defaults and ranges,
// then finish(), which rejects every key nobody asked for, naming the key, its line and the
// closest valid key ("did you mean"). Errors are ConfigError with file:line, the key path, the
// offending value and what was expected. The resolved configuration (every key read, with
// defaults filled in) can be dumped as YAML for the run logs.
#include <yaml-cpp/yaml.h>

#include <array>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace aeolus::io {

// Closest candidate to `word` by edit distance (empty if nothing is reasonably close).
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

struct Range {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_exclusive = false;
  bool max_exclusive = false;
  static Range positive() { return {0.0, std::numeric_limits<double>::infinity(), true, false}; }
  static Range non_negative() { return {0.0, std::numeric_limits<double>::infinity()}; }
  static Range closed(double lo, double hi) { return {lo, hi}; }
  std::string describe() const;  // e.g. "(0, 1]"
  bool contains(double v) const;
};

class Document;

// A mapping node of the document under a key path ("" for the root).
class Section {
 public:
  // Scalars. Missing -> default (recorded in the resolved config). Wrong type or out of range
  // -> ConfigError naming file:line, path, value and the expectation.
  double get_double(const std::string& key, double def, Range range = {});
  long long get_int(const std::string& key, long long def, Range range = {});
  bool get_bool(const std::string& key, bool def);
  std::string get_string(const std::string& key, const std::string& def);
  // A string that must be one of `choices` (error lists them and suggests the closest).
  std::string get_choice(const std::string& key, const std::string& def,
                         const std::vector<std::string>& choices);
  // Fixed or variable length lists: length must be in [min_len, max_len].
  std::vector<double> get_doubles(const std::string& key, const std::vector<double>& def,
                                  size_t min_len, size_t max_len, Range range = {});
  std::vector<long long> get_ints(const std::string& key, const std::vector<long long>& def,
                                  size_t min_len, size_t max_len, Range range = {});
  std::vector<bool> get_bools(const std::string& key, const std::vector<bool>& def, size_t min_len,
                              size_t max_len);
  // A list of names, each one of `choices` (an element that is not gets the list of choices
  // and the closest one in its error).
  std::vector<std::string> get_choices(const std::string& key, const std::vector<std::string>& def,
                                       size_t min_len, size_t max_len,
                                       const std::vector<std::string>& choices);
  // Required variants: missing -> ConfigError "missing required key".
  double require_double(const std::string& key, Range range = {});
  std::string require_string(const std::string& key);

  bool has(const std::string& key) const;
  // Keys of this mapping in document order (for user-named entries, e.g. tracers by name).
  std::vector<std::string> keys() const;
  // Sub-section (a mapping); a missing section reads as empty (all defaults).
  Section section(const std::string& key);

  // Reject keys that were never read, with line and closest valid key. Call after all reads.
  void finish();

  const std::string& path() const { return path_; }
  // file:line of `key` (or of this section when key is empty), for messages.
  std::string where(const std::string& key = "") const;

 private:
  friend class Document;
  Section(std::shared_ptr<Document> doc, YAML::Node node, YAML::Node resolved, std::string path,
          int line);
  std::string key_path(const std::string& key) const;
  template <class T, class Parse, class ToYaml>
  std::vector<T> get_list(const std::string& key, const std::vector<T>& def, size_t min_len,
                          size_t max_len, const char* what, const char* expects, Parse parse,
                          const Range* range, ToYaml to_yaml);
  YAML::Node lookup(const std::string& key);   // marks key as used
  int key_line(const std::string& key) const;  // 0-based line of `key`, -1 if absent
  std::string where_line(int line) const;

  std::shared_ptr<Document> doc_;
  YAML::Node node_;      // may be undefined/null for a missing section
  YAML::Node resolved_;  // where resolved values are recorded
  std::string path_;
  std::vector<std::string> used_;
  int line_ = -1;  // 0-based line of this section's key (-1: root or absent)
};

class Document : public std::enable_shared_from_this<Document> {
 public:
  // Parse a file. Missing file / YAML syntax error / top level not a mapping -> ConfigError.
  static std::shared_ptr<Document> load_file(const std::string& file);
  static std::shared_ptr<Document> load_string(const std::string& text,
                                               const std::string& name = "<string>");

  Section root();
  const std::string& file() const { return file_; }
  // Resolved configuration (everything read, defaults included) as YAML text.
  std::string resolved_yaml() const;
  // Text of the input file (for hashing in provenance).
  const std::string& text() const { return text_; }

 private:
  friend class Section;
  std::string file_;
  std::string text_;
  YAML::Node root_;
  YAML::Node resolved_;
};

}  // namespace aeolus::io
