// The JSON writers of run records (io/json.hpp): escaping of quotes, backslashes and control
// characters, numbers (non-finite -> null), arrays, and the flat record with its atomic write.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "common/temp_dir.hpp"
#include "io/json.hpp"

using namespace aeolus::io;

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_string(""), "\"\"");
  EXPECT_EQ(json_string("plain"), "\"plain\"");
  EXPECT_EQ(json_string("a \"b\" c\\d"), "\"a \\\"b\\\" c\\\\d\"");
  EXPECT_EQ(json_string("line\nnext\tcol"), "\"line\\nnext\\tcol\"");
  EXPECT_EQ(json_string(std::string("\x01\x1f\r", 3)), "\"\\u0001\\u001f\\u000d\"");
  EXPECT_EQ(json_string(std::string("nul\0x", 5)), "\"nul\\u0000x\"");
  EXPECT_EQ(json_string("caf\xc3\xa9 \x7f"), "\"caf\xc3\xa9 \x7f\"");  // UTF-8 and DEL unchanged
}

TEST(JsonNumber, DigitsAndNonFiniteAsNull) {
  EXPECT_EQ(json_number(0.1), "0.10000000000000001");
  EXPECT_EQ(json_number(0.1, 10), "0.1");
  EXPECT_EQ(json_number(-3), "-3");
  EXPECT_EQ(json_number(1e300), "1.0000000000000001e+300");
  EXPECT_EQ(json_number(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(json_number(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(json_number(-std::numeric_limits<double>::infinity(), 10), "null");
}

TEST(JsonArray, CommaSeparatedNumbers) {
  EXPECT_EQ(json_array({}), "[]");
  EXPECT_EQ(json_array({1, 0.5, std::numeric_limits<double>::quiet_NaN()}), "[1, 0.5, null]");
}

TEST(JsonRecord, KeysInFirstSetOrderAndReplacedInPlace) {
  JsonRecord r;
  r.set_string("name", "a\"b");
  r.set_number("x", 0.5);
  r.set_int("n", 3);
  r.set_raw("list", "[1, 2]");
  r.set_number("x", 2);
  EXPECT_EQ(r.str(),
            "{\n  \"name\": \"a\\\"b\",\n  \"x\": 2,\n  \"n\": 3,\n  \"list\": [1, 2]\n}\n");
  EXPECT_EQ(JsonRecord().str(), "{\n}\n");
}

TEST(JsonRecord, WriteAtomicCreatesTheDirectoryAndLeavesNoPart) {
  aeolus::test::TempDir dir(MPI_COMM_SELF);
  const std::string path = dir.path() + "/logs/run.json";
  JsonRecord r;
  r.set_string("status", "done");
  r.write_atomic(path);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), r.str());
  EXPECT_FALSE(std::filesystem::exists(path + ".part"));
}
