#include "io/yaml_schema.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "grids/error.hpp"

namespace aeolus::io {

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  // Two-row Levenshtein: keys are short, so O(|a||b|) is nothing.
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Shortest text that reads back as the same double, so the resolved config and messages
// show "0.1" rather than "0.10000000000000001".
std::string format_number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  // Whole numbers as integers: a range reads "[1, 1000000000]", not "[1, 1e+09]".
  if (v == std::trunc(v) && std::fabs(v) < 1e15) return std::to_string((long long)v);
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

// YAML's own spellings of the IEEE specials are .inf/.nan; accept those next to plain numbers.
bool parse_double(const std::string& text, double& out) {
  std::string s = text;
  std::string lower = s;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == ".inf" || lower == "+.inf") {
    out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (lower == "-.inf") {
    out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (lower == ".nan") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  if (s.empty()) return false;
  const auto res = std::from_chars(s.data(), s.data() + s.size(), out);
  return res.ec == std::errc() && res.ptr == s.data() + s.size();
}

bool parse_int(const std::string& text, long long& out) {
  std::string s = text;
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  if (s.empty()) return false;
  const auto res = std::from_chars(s.data(), s.data() + s.size(), out);
  return res.ec == std::errc() && res.ptr == s.data() + s.size();
}

// What the user wrote, for "got ..." in messages.
std::string describe_node(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      return "'" + n.Scalar() + "'";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
      return "an empty value";
    default:
      return "nothing";
  }
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

std::string length_expectation(size_t min_len, size_t max_len) {
  if (min_len == max_len) return "exactly " + std::to_string(min_len);
  if (max_len == std::numeric_limits<size_t>::max()) return "at least " + std::to_string(min_len);
  return std::to_string(min_len) + " to " + std::to_string(max_len);
}

// Element or value line when yaml-cpp knows it, else the key's line.
int node_line(const YAML::Node& n, int fallback) {
  const int line = n.Mark().line;
  return line >= 0 ? line : fallback;
}

// Resolved values are written back as YAML, whose infinities are spelled .inf.
std::string yaml_number(double v) {
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  if (std::isnan(v)) return ".nan";
  return format_number(v);
}

constexpr const char* kStrTag = "tag:yaml.org,2002:str";

// Flow style keeps lists on one line in the resolved dump: `n: [64, 64, 1]`.
YAML::Node flow_sequence() {
  YAML::Node seq(YAML::NodeType::Sequence);
  seq.SetStyle(YAML::EmitterStyle::Flow);
  return seq;
}

}  // namespace

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  for (const auto& c : candidates) {
    const size_t d = edit_distance(word, c);
    // A distance equal to the longer length means nothing in common: not a suggestion.
    if (d <= limit && d < std::max(word.size(), c.size()) && d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string Range::describe() const {
  return std::string(min_exclusive || std::isinf(min) ? "(" : "[") + format_number(min) + ", " +
         format_number(max) + (max_exclusive || std::isinf(max) ? ")" : "]");
}

bool Range::contains(double v) const {
  if (std::isnan(v)) return false;
  if (min_exclusive ? !(v > min) : !(v >= min)) return false;
  if (max_exclusive ? !(v < max) : !(v <= max)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Section

Section::Section(std::shared_ptr<Document> doc, YAML::Node node, YAML::Node resolved,
                 std::string path, int line)
    : doc_(std::move(doc)),
      node_(std::move(node)),
      resolved_(std::move(resolved)),
      path_(std::move(path)),
      line_(line) {
  if (!node_.IsDefined() || node_.IsNull()) return;
  if (!node_.IsMap()) {
    throw ConfigError(where_line(node_line(node_, line_)) + ": " +
                      (path_.empty() ? std::string("top level") : path_) +
                      " expects a mapping of keys, got " + describe_node(node_));
  }
  // yaml-cpp keeps the first of two equal keys silently; a repeated key is almost always an
  // editing mistake whose second value would be ignored.
  std::set<std::string> seen;
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (!seen.insert(key).second) {
      throw ConfigError(where_line(kv.first.Mark().line) + ": duplicate key '" + key_path(key) +
                        "'");
    }
  }
}

std::string Section::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

int Section::key_line(const std::string& key) const {
  if (!node_.IsMap()) return -1;
  for (const auto& kv : node_) {
    if (kv.first.Scalar() == key) return kv.first.Mark().line;
  }
  return -1;
}

std::string Section::where_line(int line) const {
  return line >= 0 ? doc_->file_ + ":" + std::to_string(line + 1) : doc_->file_;
}

std::string Section::where(const std::string& key) const {
  if (!key.empty()) {
    const int line = key_line(key);
    if (line >= 0) return where_line(line);
  }
  return where_line(line_);
}

YAML::Node Section::lookup(const std::string& key) {
  if (std::find(used_.begin(), used_.end(), key) == used_.end()) used_.push_back(key);
  // Absent keys come back as a valid Undefined node: yaml-cpp's own "zombie" for a missing key
  // throws on most queries, and a default Node reads as a defined null.
  const YAML::Node absent(YAML::NodeType::Undefined);
  if (!node_.IsMap()) return absent;
  // Const access: a non-const operator[] would insert the key into the input document.
  const YAML::Node& cnode = node_;
  const YAML::Node value = cnode[key];
  return value.IsDefined() ? value : absent;
}

bool Section::has(const std::string& key) const { return key_line(key) >= 0; }

std::vector<std::string> Section::keys() const {
  std::vector<std::string> out;
  if (!node_.IsMap()) return out;
  for (const auto& kv : node_) out.push_back(kv.first.Scalar());
  return out;
}

double Section::get_double(const std::string& key, double def, Range range) {
  const YAML::Node n = lookup(key);
  double v = def;
  if (n.IsDefined()) {
    if (!n.IsScalar() || !parse_double(n.Scalar(), v)) {
      throw ConfigError(where(key) + ": " + key_path(key) + " expects a number, got " +
                        describe_node(n));
    }
    if (!range.contains(v)) {
      throw ConfigError(where(key) + ": " + key_path(key) + " = " + n.Scalar() +
                        " is out of range " + range.describe());
    }
  }
  resolved_[key] = yaml_number(v);
  return v;
}

long long Section::get_int(const std::string& key, long long def, Range range) {
  const YAML::Node n = lookup(key);
  long long v = def;
  if (n.IsDefined()) {
    if (!n.IsScalar() || !parse_int(n.Scalar(), v)) {
      throw ConfigError(where(key) + ": " + key_path(key) + " expects an integer, got " +
                        describe_node(n));
    }
    if (!range.contains(double(v))) {
      throw ConfigError(where(key) + ": " + key_path(key) + " = " + n.Scalar() +
                        " is out of range " + range.describe());
    }
  }
  resolved_[key] = v;
  return v;
}

bool Section::get_bool(const std::string& key, bool def) {
  const YAML::Node n = lookup(key);
  bool v = def;
  if (n.IsDefined() && (!n.IsScalar() || !YAML::convert<bool>::decode(n, v))) {
    throw ConfigError(where(key) + ": " + key_path(key) + " expects true or false, got " +
                      describe_node(n));
  }
  resolved_[key] = v;
  return v;
}

std::string Section::get_string(const std::string& key, const std::string& def) {
  const YAML::Node n = lookup(key);
  std::string v = def;
  if (n.IsDefined()) {
    // Numbers are fine as strings (a name like `001`); lists, mappings and empty values are not.
    if (!n.IsScalar()) {
      throw ConfigError(where(key) + ": " + key_path(key) + " expects a string, got " +
                        describe_node(n));
    }
    v = n.Scalar();
  }
  resolved_[key] = v;
  // Marked so resolved_yaml() can quote strings that would re-read as numbers or booleans.
  resolved_[key].SetTag(kStrTag);
  return v;
}

std::string Section::get_choice(const std::string& key, const std::string& def,
                                const std::vector<std::string>& choices) {
  const std::string v = get_string(key, def);
  if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
    const std::string suggestion = did_you_mean(v, choices);
    throw ConfigError(where(key) + ": " + key_path(key) + " = '" + v + "' is not one of " +
                      join(choices, ", ") +
                      (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"));
  }
  return v;
}

namespace {

// Shared shape check of the list getters; returns the sequence node or an undefined node.
YAML::Node checked_list(const YAML::Node& n, const std::string& where, const std::string& path,
                        const std::string& what, size_t min_len, size_t max_len) {
  if (!n.IsDefined()) return n;
  const std::string expect = length_expectation(min_len, max_len);
  if (!n.IsSequence()) {
    throw ConfigError(where + ": " + path + " expects a list of " + expect + " " + what + ", got " +
                      describe_node(n));
  }
  if (n.size() < min_len || n.size() > max_len) {
    throw ConfigError(where + ": " + path + " has " + std::to_string(n.size()) +
                      " entries, expected " + expect);
  }
  return n;
}

}  // namespace

// One list reader for every element type: length, per-element type and range checks with the
// element's own line, and the resolved value recorded.
template <class T, class Parse, class ToYaml>
std::vector<T> Section::get_list(const std::string& key, const std::vector<T>& def, size_t min_len,
                                 size_t max_len, const char* what, const char* expects, Parse parse,
                                 const Range* range, ToYaml to_yaml) {
  const YAML::Node n = checked_list(lookup(key), where(key), key_path(key), what, min_len, max_len);
  std::vector<T> v = def;
  if (n.IsDefined()) {
    v.clear();
    const int line = key_line(key);
    for (size_t i = 0; i < n.size(); ++i) {
      const YAML::Node e = n[i];
      const std::string at = where_line(node_line(e, line));
      const std::string name = key_path(key) + "[" + std::to_string(i) + "]";
      T x{};
      if (!e.IsScalar() || !parse(e, x)) {
        throw ConfigError(at + ": " + name + " expects " + expects + ", got " + describe_node(e));
      }
      if constexpr (std::is_arithmetic_v<T>) {
        if (range && !range->contains(double(x))) {
          throw ConfigError(at + ": " + name + " = " + e.Scalar() + " is out of range " +
                            range->describe());
        }
      } else {
        (void)range;
      }
      v.push_back(x);
    }
  }
  YAML::Node seq = flow_sequence();
  for (T x : v) seq.push_back(to_yaml(x));
  resolved_[key] = seq;
  return v;
}

std::vector<double> Section::get_doubles(const std::string& key, const std::vector<double>& def,
                                         size_t min_len, size_t max_len, Range range) {
  return get_list<double>(
      key, def, min_len, max_len, "numbers", "a number",
      [](const YAML::Node& e, double& x) { return parse_double(e.Scalar(), x); }, &range,
      [](double x) { return yaml_number(x); });
}

std::vector<long long> Section::get_ints(const std::string& key, const std::vector<long long>& def,
                                         size_t min_len, size_t max_len, Range range) {
  return get_list<long long>(
      key, def, min_len, max_len, "integers", "an integer",
      [](const YAML::Node& e, long long& x) { return parse_int(e.Scalar(), x); }, &range,
      [](long long x) { return YAML::Node(x); });
}

std::vector<bool> Section::get_bools(const std::string& key, const std::vector<bool>& def,
                                     size_t min_len, size_t max_len) {
  const std::vector<char> as_chars(def.begin(), def.end());
  const std::vector<char> got = get_list<char>(
      key, as_chars, min_len, max_len, "booleans", "true or false",
      [](const YAML::Node& e, char& x) {
        bool b = false;
        if (!YAML::convert<bool>::decode(e, b)) return false;
        x = b;
        return true;
      },
      nullptr, [](char x) { return YAML::Node(bool(x)); });
  return std::vector<bool>(got.begin(), got.end());
}

std::vector<std::string> Section::get_choices(const std::string& key,
                                              const std::vector<std::string>& def, size_t min_len,
                                              size_t max_len,
                                              const std::vector<std::string>& choices) {
  const std::vector<std::string> v = get_list<std::string>(
      key, def, min_len, max_len, "names", "a name",
      [](const YAML::Node& e, std::string& x) {
        x = e.Scalar();
        return true;
      },
      nullptr, [](const std::string& x) { return YAML::Node(x); });
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::find(choices.begin(), choices.end(), v[i]) != choices.end()) continue;
    const std::string suggestion = did_you_mean(v[i], choices);
    throw ConfigError(where(key) + ": " + key_path(key) + "[" + std::to_string(i) + "] = '" + v[i] +
                      "' is not one of " + join(choices, ", ") +
                      (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"));
  }
  return v;
}

double Section::require_double(const std::string& key, Range range) {
  if (!has(key)) {
    throw ConfigError(doc_->file_ + ": missing required key '" + key_path(key) + "'");
  }
  return get_double(key, 0.0, range);
}

std::string Section::require_string(const std::string& key) {
  if (!has(key)) {
    throw ConfigError(doc_->file_ + ": missing required key '" + key_path(key) + "'");
  }
  return get_string(key, "");
}

Section Section::section(const std::string& key) {
  const YAML::Node n = lookup(key);
  // The resolved child must be a real mapping inside resolved_, so values recorded through the
  // child Section show up in the dump.
  if (!resolved_[key].IsMap()) resolved_[key] = YAML::Node(YAML::NodeType::Map);
  return Section(doc_, n, resolved_[key], key_path(key), key_line(key));
}

void Section::finish() {
  if (!node_.IsMap()) return;
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (std::find(used_.begin(), used_.end(), key) != used_.end()) continue;
    const std::string suggestion = did_you_mean(key, used_);
    std::string msg = where_line(kv.first.Mark().line) + ": unknown key '" + key_path(key) + "'";
    if (!suggestion.empty()) {
      msg += " (did you mean '" + suggestion + "'?)";
    } else if (!used_.empty()) {
      msg += " (valid keys: " + join(used_, ", ") + ")";
    }
    throw ConfigError(msg);
  }
}

// ---------------------------------------------------------------------------------------------
// Document

std::shared_ptr<Document> Document::load_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file + ": cannot open file (" + std::strerror(errno) + ")");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(file + ": cannot read file (" + std::strerror(errno) + ")");
  return load_string(text.str(), file);
}

std::shared_ptr<Document> Document::load_string(const std::string& text, const std::string& name) {
  auto doc = std::make_shared<Document>();
  doc->file_ = name;
  doc->text_ = text;
  try {
    doc->root_ = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    const std::string where =
        e.mark.is_null() ? name : name + ":" + std::to_string(e.mark.line + 1);
    throw ConfigError(where + ": " + e.msg);
  }
  doc->resolved_ = YAML::Node(YAML::NodeType::Map);
  // Validate the top level now (mapping, no duplicate keys) so a bad file fails at load.
  doc->root();
  return doc;
}

Section Document::root() { return Section(shared_from_this(), root_, resolved_, "", -1); }

namespace {

// A string whose plain spelling would read back as another type ("yes", "null", "1e3", "").
bool needs_quotes(const std::string& s) {
  if (s.empty()) return true;
  double d = 0.0;
  bool b = false;
  if (parse_double(s, d)) return true;
  try {
    const YAML::Node plain = YAML::Load(s);
    return !plain.IsScalar() || YAML::convert<bool>::decode(plain, b);
  } catch (const YAML::Exception&) {
    return true;  // not even valid YAML when plain: quoting is the only safe spelling
  }
}

// Like `out << node`, but strings that would change type on re-reading are quoted, and empty
// sections are written as {} on the key's line.
void emit(YAML::Emitter& out, const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      if (n.size() == 0) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& kv : n) {
        out << YAML::Key << kv.first.Scalar() << YAML::Value;
        emit(out, kv.second);
      }
      out << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      if (n.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& e : n) emit(out, e);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      if (n.Tag() == kStrTag && needs_quotes(n.Scalar())) out << YAML::DoubleQuoted;
      out << n.Scalar();
      break;
    default:
      out << YAML::Null;
      break;
  }
}

}  // namespace

std::string Document::resolved_yaml() const {
  YAML::Emitter out;
  emit(out, resolved_);
  return std::string(out.c_str()) + "\n";
}

}  // namespace aeolus::io
