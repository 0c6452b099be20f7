#include "tools/app/case_config.hpp"

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <utility>

#include "grids/error.hpp"
#include "io/yaml_schema.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;
using io::Range;

std::string fnv1a64_hex(const std::string& bytes) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string CaseConfig::path(const std::string& rel) const {
  fs::path p(rel);
  if (p.is_absolute()) return p.string();
  return (fs::path(dir) / p).lexically_normal().string();
}

void read_box(io::Section& s, CartesianGridParams& g, long long min_n) {
  g.dim = int(s.get_int("dim", 2, Range::closed(1, 3)));
  const size_t d = size_t(g.dim);
  auto n = s.get_ints("n", std::vector<long long>(d, 64), d, d, Range::closed(double(min_n), 1e9));
  auto lo = s.get_doubles("lo", std::vector<double>(d, 0.0), d, d);
  auto hi = s.get_doubles("hi", std::vector<double>(d, 1.0), d, d);
  g.n = {1, 1, 1};
  g.lo = {0.0, 0.0, 0.0};
  g.hi = {1.0, 1.0, 1.0};
  for (size_t i = 0; i < d; ++i) g.n[i] = n[i], g.lo[i] = lo[i], g.hi[i] = hi[i];
  for (size_t i = 0; i < d; ++i) {
    if (!(g.hi[i] > g.lo[i])) {
      std::ostringstream os;
      os << s.where("hi") << ": grid.hi[" << i << "] = " << g.hi[i] << " must exceed grid.lo[" << i
         << "] = " << g.lo[i];
      throw ConfigError(os.str());
    }
  }
  auto procs = s.get_ints("procs", std::vector<long long>(d, 0), d, d, Range::closed(0, 1e6));
  g.procs = {0, 0, 0};
  for (size_t i = 0; i < d; ++i) g.procs[i] = int(procs[i]);
}

void read_run_sections(io::Section& root, CaseConfig& c, real_t interval, long long every_steps,
                       long long progress_every) {
  {
    auto s = root.section("output");
    c.output.interval = s.get_double("interval", interval, Range::positive());
    read_output_file(s, c);
    s.finish();
  }
  {
    auto s = root.section("checkpoint");
    c.checkpoint.every_steps = s.get_int("every_steps", every_steps, Range::closed(1, 1e15));
    c.checkpoint.keep = int(s.get_int("keep", c.checkpoint.keep, Range::closed(1, 1000)));
    s.finish();
  }
  read_log_section(root, c, progress_every);
}

void read_output_file(io::Section& s, CaseConfig& c) {
  c.output.file = s.get_string("file", c.output.file);
  if (c.output.file.find('/') != std::string::npos || c.output.file.empty()) {
    throw ConfigError(s.where("file") + ": output.file = '" + c.output.file +
                      "' must be a plain file name (it is written under output/)");
  }
}

void read_log_section(io::Section& root, CaseConfig& c, long long progress_every) {
  auto s = root.section("log");
  c.progress_every = s.get_int("progress_every", progress_every, Range::closed(1, 1e15));
  c.progress_seconds =
      s.get_double("progress_seconds", c.progress_seconds, Range{0.0, 86400.0, true, false});
  s.finish();
}

}  // namespace aeolus::app
