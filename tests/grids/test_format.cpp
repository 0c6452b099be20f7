// Numbers as text (grids/format.hpp): one printf conversion, and the 17-digit form that reads
// back as the same double.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "grids/format.hpp"

using aeolus::fmt;
using aeolus::fmt_exact;

TEST(Format, OneConversion) {
  EXPECT_EQ(fmt("%.2f", 0.125), "0.12");  // printf rounds the binary value half to even
  EXPECT_EQ(fmt("%.3e", 1.2345e-3), "1.234e-03");
  EXPECT_EQ(fmt("%.1f s", 12.34), "12.3 s");
  EXPECT_EQ(fmt("%g", std::numeric_limits<double>::infinity()), "inf");
}

TEST(Format, LongTextIsCutAt63Characters) {
  const std::string s = fmt("%.70f", 1.0);
  EXPECT_EQ(s.size(), 63u);
  EXPECT_EQ(s.substr(0, 4), "1.00");
}

TEST(Format, ExactReadsBackAsTheSameDouble) {
  for (const double v : {0.1, 1.0 / 3.0, -2.5e-300, 6.02214076e23, 1.0 + 1e-15}) {
    const std::string s = fmt_exact(v);
    EXPECT_EQ(std::strtod(s.c_str(), nullptr), v) << s;
  }
  EXPECT_EQ(fmt_exact(0.1), "0.10000000000000001");
  EXPECT_EQ(fmt_exact(2.0), "2");
}
