// The progress meter of long commands: a line for the first item, then at most one per
// interval of (fake) wall time, always one for the last item; the count, the detail, elapsed
// time and the ETA in each line; human_seconds' units.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "grids/progress.hpp"

using aeolus::human_seconds;
using aeolus::ProgressMeter;

namespace {

struct Capture {
  std::vector<std::string> lines;
  double clock = 100.0;  // the fake clock's reading, in seconds
  ProgressMeter meter(const std::string& phase, long long total, long long first_done = 0) {
    return ProgressMeter([this](const std::string& s) { lines.push_back(s); }, phase, total, 10.0,
                         first_done, [this] { return clock; });
  }
};

}  // namespace

TEST(HumanSeconds, Units) {
  EXPECT_EQ(human_seconds(0), "0.0s");
  EXPECT_EQ(human_seconds(12.34), "12.3s");
  EXPECT_EQ(human_seconds(119.9), "119.9s");
  EXPECT_EQ(human_seconds(150), "2.5min");
  EXPECT_EQ(human_seconds(7200), "2.00h");
  EXPECT_EQ(human_seconds(-1), "?");
  EXPECT_EQ(human_seconds(1.0 / 0.0), "?");
  EXPECT_EQ(aeolus::format_sci(1.23456e-3), "1.235e-03");
  EXPECT_EQ(aeolus::format_sci(2.5, 1), "2.5e+00");
}

TEST(ProgressMeter, FirstThenEveryIntervalThenLast) {
  Capture c;
  auto m = c.meter("adam", 100);
  for (int it = 1; it <= 100; ++it) {
    c.clock += 1.0;  // one second per iteration
    m.update(it, "loss 1.0e-03");
  }
  // it = 1 (first), then 10 s after each line: 11, 21, ..., 91, and 100 (last).
  ASSERT_EQ(c.lines.size(), 11u);
  EXPECT_EQ(c.lines[0], "adam 1/100  loss 1.0e-03  elapsed 1.0s  ETA 99.0s");
  EXPECT_EQ(c.lines[1], "adam 11/100  loss 1.0e-03  elapsed 11.0s  ETA 89.0s");
  EXPECT_EQ(c.lines[9], "adam 91/100  loss 1.0e-03  elapsed 91.0s  ETA 9.0s");
  EXPECT_EQ(c.lines[10], "adam 100/100  loss 1.0e-03  elapsed 100.0s  ETA 0.0s");
  // The last item once: a second report of it waits for the interval like any other.
  c.clock += 1.0;
  EXPECT_FALSE(m.update(100, "again"));
  c.clock += 10.0;
  EXPECT_TRUE(m.update(100, "again"));
}

TEST(ProgressMeter, FastLoopPrintsFirstAndLastOnly) {
  Capture c;
  auto m = c.meter("trajectory", 50);
  int emitted = 0;
  for (int n = 1; n <= 50; ++n) {
    c.clock += 0.01;
    emitted += m.update(n) ? 1 : 0;
  }
  EXPECT_EQ(emitted, 2);
  ASSERT_EQ(c.lines.size(), 2u);
  EXPECT_EQ(c.lines[0].rfind("trajectory 1/50  elapsed ", 0), 0u) << c.lines[0];
  EXPECT_EQ(c.lines[1].rfind("trajectory 50/50  elapsed 0.5s  ETA 0.0s", 0), 0u) << c.lines[1];
}

TEST(ProgressMeter, SlowIterationsEachGetALine) {
  Capture c;
  auto m = c.meter("epoch", 3);
  for (int e = 1; e <= 3; ++e) {
    c.clock += 25.0;
    EXPECT_TRUE(m.due(e));
    EXPECT_TRUE(m.update(e, "train 1, valid 2"));
  }
  ASSERT_EQ(c.lines.size(), 3u);
  EXPECT_EQ(c.lines[1], "epoch 2/3  train 1, valid 2  elapsed 50.0s  ETA 25.0s");
}

TEST(ProgressMeter, UnknownTotalAndResumedStart) {
  Capture c;
  auto open = c.meter("lbfgs", 0);
  c.clock += 3;
  open.update(7, "loss 2");
  EXPECT_EQ(c.lines.back(), "lbfgs 7  loss 2  elapsed 3.0s");
  // Resumed at item 40 of 100: the rate counts only the items done since.
  auto resumed = c.meter("batch", 100, 40);
  c.clock += 20;
  resumed.update(50);
  EXPECT_EQ(c.lines.back(), "batch 50/100  elapsed 20.0s  ETA 100.0s");
  // No item done yet: no rate, no ETA.
  auto fresh = c.meter("year", 4);
  fresh.update(0);
  EXPECT_EQ(c.lines.back(), "year 0/4  elapsed 0.0s  ETA ?");
}

TEST(ProgressMeter, EmptySinkIsSilentAndEmitForces) {
  ProgressMeter quiet({}, "eval", 10);
  EXPECT_FALSE(quiet.active());
  EXPECT_FALSE(quiet.update(1, "x"));
  Capture c;
  auto m = c.meter("eval", 10);
  m.update(1);
  c.clock += 1;
  EXPECT_FALSE(m.update(2));
  m.emit(2, "forced");
  EXPECT_EQ(c.lines.size(), 2u);
  EXPECT_EQ(c.lines.back(), "eval 2/10  forced  elapsed 1.0s  ETA 4.0s");
}
