// Schema-checked YAML: every error is one line with file:line, the key path, the value and the
// expectation (plus the nearest valid key or choice); the resolved dump holds defaults.
#include <gtest/gtest.h>

#include <fstream>
#include <utility>

#include "common/error_of.hpp"
#include "common/temp_dir.hpp"
#include "grids/error.hpp"
#include "io/yaml_schema.hpp"

using aeolus::ConfigError;
using namespace aeolus::io;

namespace {

std::shared_ptr<Document> doc(const std::string& text) {
  return Document::load_string(text, "case.yaml");
}

// Message of the ConfigError `fn` throws ("" if none), so tests can compare it whole.
template <class Fn>
std::string error_of(Fn&& fn) {
  return aeolus::test::error_of<ConfigError>(std::forward<Fn>(fn));
}

const char* kCase =
    "grid:\n"              // 1
    "  dim: 2\n"           // 2
    "  n: [32, 16]\n"      // 3
    "  lo: [0.0, -1.5]\n"  // 4
    "time:\n"              // 5
    "  t_end: 2.5\n"       // 6
    "  cfl: 0.4\n"         // 7
    "stepper:\n"           // 8
    "  type: classical\n"  // 9
    "  name: 0042\n"       // 10
    "  limiter: true\n";   // 11

}  // namespace

TEST(DidYouMean, PicksClosestWithinDistanceLimit) {
  EXPECT_EQ(did_you_mean("nx", {"dim", "n", "lo", "hi"}), "n");
  EXPECT_EQ(did_you_mean("clasical", {"classical", "emulator"}), "classical");
  EXPECT_EQ(did_you_mean("periodc", {"periodic", "procs"}), "periodic");
  // len 9 allows distance 3; "zzzzzzzzz" is nothing like either.
  EXPECT_EQ(did_you_mean("zzzzzzzzz", {"classical", "emulator"}), "");
  // Two letters replaced in a two-letter word share nothing: no suggestion.
  EXPECT_EQ(did_you_mean("ab", {"xy"}), "");
  EXPECT_EQ(did_you_mean("t_edn", {"t_end", "dt"}), "t_end");
}

TEST(Range, DescribeAndContains) {
  EXPECT_EQ(Range::positive().describe(), "(0, inf)");
  EXPECT_EQ(Range::closed(0.5, 1).describe(), "[0.5, 1]");
  EXPECT_EQ(Range::closed(1, 1e9).describe(), "[1, 1000000000]");
  Range r{0.0, 1.0, true, false};
  EXPECT_EQ(r.describe(), "(0, 1]");
  EXPECT_FALSE(r.contains(0.0));
  EXPECT_TRUE(r.contains(1.0));
  EXPECT_FALSE(r.contains(1.0000001));
  EXPECT_EQ((Range{1, std::numeric_limits<double>::infinity()}).describe(), "[1, inf)");
}

TEST(YamlSchema, ReadsTypedValues) {
  auto d = doc(kCase);
  Section root = d->root();
  Section grid = root.section("grid");
  EXPECT_EQ(grid.get_int("dim", 1, Range::closed(1, 3)), 2);
  EXPECT_EQ(grid.get_ints("n", {8, 8, 1}, 1, 3, {1}), (std::vector<long long>{32, 16}));
  EXPECT_EQ(grid.get_doubles("lo", {0, 0, 0}, 1, 3), (std::vector<double>{0.0, -1.5}));
  EXPECT_EQ(grid.get_bools("periodic", {true, false}, 1, 3), (std::vector<bool>{true, false}));
  grid.finish();
  Section time = root.section("time");
  EXPECT_EQ(time.require_double("t_end", Range::positive()), 2.5);
  EXPECT_EQ(time.get_double("cfl", 0.9, {0, 1, true, false}), 0.4);
  time.finish();
  Section stepper = root.section("stepper");
  EXPECT_EQ(stepper.get_choice("type", "classical", {"classical", "emulator"}), "classical");
  EXPECT_EQ(stepper.get_string("name", "x"), "0042");  // a number is fine as a string
  EXPECT_TRUE(stepper.get_bool("limiter", false));
  stepper.finish();
  root.finish();
  EXPECT_EQ(root.where("time"), "case.yaml:5");
  EXPECT_EQ(time.where("cfl"), "case.yaml:7");
  EXPECT_EQ(time.where(), "case.yaml:5");
}

TEST(YamlSchema, UnknownKeyNamesLineAndSuggestion) {
  auto d = doc("grid:\n  dim: 2\n  nx: 4\n");
  Section grid = d->root().section("grid");
  grid.get_int("dim", 2);
  grid.get_ints("n", {8}, 1, 3);
  EXPECT_EQ(error_of([&] { grid.finish(); }),
            "case.yaml:3: unknown key 'grid.nx' (did you mean 'n'?)");
}

TEST(YamlSchema, UnknownKeyWithoutCloseMatchListsValidKeys) {
  auto d = doc("dim: 2\nbanana: 1\n");
  Section root = d->root();
  root.get_int("dim", 2);
  EXPECT_EQ(error_of([&] { root.finish(); }),
            "case.yaml:2: unknown key 'banana' (valid keys: dim)");
}

TEST(YamlSchema, FinishReportsFirstUnknownKeyInDocumentOrder) {
  auto d = doc("zeta: 1\nalpha: 2\nbeta: 3\n");
  Section root = d->root();
  root.get_int("beta", 0);
  const std::string msg = error_of([&] { root.finish(); });
  EXPECT_EQ(msg.rfind("case.yaml:1: unknown key 'zeta'", 0), 0u) << msg;
}

TEST(YamlSchema, SubSectionsAreFinishedByTheirReaders) {
  auto d = doc("grid:\n  bogus: 1\n");
  Section root = d->root();
  Section grid = root.section("grid");
  EXPECT_NO_THROW(root.finish());  // 'grid' was read; its content is grid's business
  EXPECT_NE(error_of([&] { grid.finish(); }).find("case.yaml:2: unknown key 'grid.bogus'"),
            std::string::npos);
}

TEST(YamlSchema, OutOfRangeDouble) {
  auto d = doc("a: 1\nb: 2\nc: 3\nd: 4\ne: 5\nf: 6\ntime:\n  cfl: 1.7\n");
  Section time = d->root().section("time");
  EXPECT_EQ(error_of([&] {
              time.get_double("cfl", 0.5, {0, 1, true, false});
            }),
            "case.yaml:8: time.cfl = 1.7 is out of range (0, 1]");
}

TEST(YamlSchema, OutOfRangeListElementNamesIndex) {
  auto d = doc("x: 1\ngrid:\n  n: [-4, 8]\n");
  Section grid = d->root().section("grid");
  EXPECT_EQ(error_of([&] { grid.get_ints("n", {8}, 1, 3, {1}); }),
            "case.yaml:3: grid.n[0] = -4 is out of range [1, inf)");
}

TEST(YamlSchema, BlockListElementUsesItsOwnLine) {
  auto d = doc("grid:\n  lo:\n    - 0.0\n    - abc\n");
  Section grid = d->root().section("grid");
  EXPECT_EQ(error_of([&] { grid.get_doubles("lo", {0}, 1, 3); }),
            "case.yaml:4: grid.lo[1] expects a number, got 'abc'");
}

TEST(YamlSchema, ListLengthAndShape) {
  auto d = doc("n: [1, 2, 3, 4]\nm: 5\n");
  Section root = d->root();
  EXPECT_EQ(error_of([&] { root.get_ints("n", {1}, 1, 3); }),
            "case.yaml:1: n has 4 entries, expected 1 to 3");
  EXPECT_EQ(error_of([&] { root.get_ints("m", {1}, 3, 3); }),
            "case.yaml:2: m expects a list of exactly 3 integers, got '5'");
}

TEST(YamlSchema, ChoiceListsOptionsAndSuggests) {
  auto d = doc("a: 1\nb: 2\nc: 3\nstepper:\n  type: clasical\n");
  Section s = d->root().section("stepper");
  EXPECT_EQ(error_of([&] {
              s.get_choice("type", "classical", {"classical", "emulator"});
            }),
            "case.yaml:5: stepper.type = 'clasical' is not one of classical, emulator "
            "(did you mean 'classical'?)");
}

TEST(YamlSchema, MissingRequiredKey) {
  auto d = doc("time:\n  cfl: 0.5\n");
  Section time = d->root().section("time");
  EXPECT_EQ(error_of([&] { time.require_double("t_end"); }),
            "case.yaml: missing required key 'time.t_end'");
  EXPECT_EQ(error_of([&] { time.require_string("name"); }),
            "case.yaml: missing required key 'time.name'");
}

TEST(YamlSchema, TypeErrors) {
  auto d = doc("a: 1\nb: 2\nc: 3\ndim: two\nn: 2.0\nx: [1]\nflag: maybe\ns: {k: v}\nz:\n");
  Section root = d->root();
  EXPECT_EQ(error_of([&] { root.get_int("dim", 2); }),
            "case.yaml:4: dim expects an integer, got 'two'");
  EXPECT_EQ(error_of([&] { root.get_int("n", 2); }),
            "case.yaml:5: n expects an integer, got '2.0'");
  EXPECT_EQ(error_of([&] { root.get_double("x", 2); }),
            "case.yaml:6: x expects a number, got a list");
  EXPECT_EQ(error_of([&] { root.get_bool("flag", true); }),
            "case.yaml:7: flag expects true or false, got 'maybe'");
  EXPECT_EQ(error_of([&] { root.get_string("s", ""); }),
            "case.yaml:8: s expects a string, got a mapping");
  EXPECT_EQ(error_of([&] { root.get_double("z", 1.0); }),
            "case.yaml:9: z expects a number, got an empty value");
}

TEST(YamlSchema, SectionThatIsNotAMapping) {
  auto d = doc("title: x\ngrid: 5\n");
  EXPECT_EQ(error_of([&] { d->root().section("grid"); }),
            "case.yaml:2: grid expects a mapping of keys, got '5'");
  EXPECT_EQ(error_of([] { doc("- a\n- b\n"); }),
            "case.yaml:1: top level expects a mapping of keys, got a list");
}

TEST(YamlSchema, DuplicateKey) {
  EXPECT_EQ(error_of([] { doc("grid:\n  n: 1\n  n: 2\n")->root().section("grid"); }),
            "case.yaml:3: duplicate key 'grid.n'");
}

TEST(YamlSchema, SyntaxErrorHasLine) {
  const std::string msg = error_of([] { doc("grid:\n  n: [1, 2\n  lo: 3\ntime: {\n"); });
  EXPECT_EQ(msg.rfind("case.yaml:", 0), 0u) << msg;
  EXPECT_NE(msg.find_first_of("0123456789"), std::string::npos);
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  EXPECT_EQ(error_of([] { doc("a: 1\nb: [\n"); }).rfind("case.yaml:", 0), 0u);
  const std::string tab = error_of([] { doc("a: 1\nb:\n  c: 1\n d: 2\n"); });
  EXPECT_EQ(tab.rfind("case.yaml:4: ", 0), 0u) << tab;
}

TEST(YamlSchema, MissingFile) {
  EXPECT_EQ(error_of([] { Document::load_file("/nonexistent/dir/case.yaml"); }),
            "/nonexistent/dir/case.yaml: cannot open file (No such file or directory)");
}

TEST(YamlSchema, LoadFileKeepsTextAndName) {
  aeolus::test::TempDir tmp;
  const std::string path = tmp.file("case.yaml");
  { std::ofstream(path) << "grid:\n  dim: 1\n  dum: 2\n"; }
  auto d = Document::load_file(path);
  EXPECT_EQ(d->file(), path);
  EXPECT_EQ(d->text(), "grid:\n  dim: 1\n  dum: 2\n");
  Section grid = d->root().section("grid");
  grid.get_int("dim", 2);
  EXPECT_EQ(error_of([&] { grid.finish(); }),
            path + ":3: unknown key 'grid.dum' (did you mean 'dim'?)");
}

TEST(YamlSchema, ResolvedYamlHoldsValuesAndDefaults) {
  auto d = doc("grid:\n  n: [32, 16]\ntime:\n  cfl: 1e-1\n");
  Section root = d->root();
  Section grid = root.section("grid");
  grid.get_int("dim", 2);
  grid.get_ints("n", {8}, 1, 3);
  grid.get_doubles("hi", {1.0, 2.5}, 1, 3);
  grid.get_bools("periodic", {true, false}, 1, 3);
  Section time = root.section("time");
  time.get_double("cfl", 0.5);
  time.get_double("t_end", 0.1);
  time.get_double("max", std::numeric_limits<double>::infinity());
  Section out = root.section("output");  // absent: all defaults
  out.get_string("path", "output/run.nc");
  out.get_choice("format", "netcdf", {"netcdf"});

  const std::string text = d->resolved_yaml();
  const YAML::Node r = YAML::Load(text);
  EXPECT_EQ(r["grid"]["dim"].as<int>(), 2);
  EXPECT_EQ(r["grid"]["n"].as<std::vector<long long>>(), (std::vector<long long>{32, 16}));
  EXPECT_EQ(r["grid"]["hi"].as<std::vector<double>>(), (std::vector<double>{1.0, 2.5}));
  EXPECT_EQ(r["grid"]["periodic"].as<std::vector<bool>>(), (std::vector<bool>{true, false}));
  EXPECT_EQ(r["time"]["cfl"].as<double>(), 0.1);
  EXPECT_EQ(r["time"]["t_end"].as<double>(), 0.1);
  EXPECT_TRUE(std::isinf(r["time"]["max"].as<double>()));
  EXPECT_EQ(r["output"]["path"].as<std::string>(), "output/run.nc");
  EXPECT_EQ(r["output"]["format"].as<std::string>(), "netcdf");
  // Shortest round-trip text and one-line lists keep the log readable.
  EXPECT_NE(text.find("cfl: 0.1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("n: [32, 16]"), std::string::npos) << text;
  EXPECT_EQ(text.find("0.10000000000000001"), std::string::npos) << text;
}

TEST(YamlSchema, EmptyDocumentReadsAsAllDefaults) {
  auto d = doc("");
  Section root = d->root();
  Section grid = root.section("grid");
  EXPECT_EQ(grid.get_int("dim", 3), 3);
  EXPECT_FALSE(root.has("grid"));
  EXPECT_NO_THROW(root.finish());
}
