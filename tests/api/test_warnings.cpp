// LibTorch's warnings during the C API's calls (aeolus_last_warnings, aeolus_clear_warnings,
// aeolus_set_warnings): kept per thread and not printed by default, printed by the handler the
// thread had in print mode; a host's own handler is back in place after each call.
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "aeolus.h"
#include "aeolus.hpp"
#include "api/test_models.hpp"
#include "common/temp_dir.hpp"

namespace {

const char* const kText = "aeolus test warning";

int count(const std::string& s, const std::string& part) {
  int n = 0;
  for (auto at = s.find(part); at != std::string::npos; at = s.find(part, at + part.size())) ++n;
  return n;
}

// A model whose forward raises `n` warnings "aeolus test warning <k>" (distinct call sites:
// at every forward) and returns x * 1.
void save_warning_model(const std::string& path, int n) {
  torch::jit::Module m("TestModel");
  m.register_parameter("a", torch::ones({1}, torch::TensorOptions().dtype(torch::kFloat64)), false);
  std::string src = "def forward(self, x):\n";
  for (int k = 0; k < n; ++k)
    src += "    torch.warn(\"" + std::string(kText) + " " + std::to_string(k) + "\")\n";
  src += "    return x * self.a\n";
  m.define(src);
  m.save(path);
}

// A host's own handler: records what it is given.
class Recording : public c10::WarningHandler {
 public:
  void process(const c10::SourceLocation&, const std::string& msg, const bool) override {
    seen.push_back(msg);
  }
  std::vector<std::string> seen;
};

class Warnings : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(aeolus_set_warnings(AEOLUS_WARNINGS_CAPTURE), AEOLUS_OK);
    ASSERT_EQ(aeolus_clear_warnings(), AEOLUS_OK);
  }
  void TearDown() override { EXPECT_EQ(aeolus_set_warnings(AEOLUS_WARNINGS_CAPTURE), AEOLUS_OK); }

  // Saves and loads a model of `n` warnings and runs its forward on 3 doubles, checking the
  // output (y = x).
  void forward(int n = 1) {
    const std::string path = dir_.file("w" + std::to_string(models_++) + ".pt");
    save_warning_model(path, n);
    aeolus_model* m = nullptr;
    ASSERT_EQ(aeolus_model_load(path.c_str(), &m), AEOLUS_OK) << aeolus_last_error();
    const double x[3] = {1.5, -2.0, 0.25};
    double y[3] = {0, 0, 0};
    const int64_t shape[1] = {3};
    EXPECT_EQ(aeolus_model_forward(m, x, 1, shape, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, y, 1, shape),
              AEOLUS_OK)
        << aeolus_last_error();
    for (int k = 0; k < 3; ++k) EXPECT_EQ(y[k], x[k]);
    EXPECT_EQ(aeolus_model_free(m), AEOLUS_OK);
  }

  aeolus::test::TempDir dir_;
  int models_ = 0;
};

TEST_F(Warnings, CapturedNotPrinted) {
  EXPECT_STREQ(aeolus_last_warnings(), "");
  testing::internal::CaptureStderr();
  forward();
  const std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_EQ(printed, "");
  const std::string w = aeolus_last_warnings();
  // The message and, as LibTorch gives it, where: the line of the model's TorchScript code.
  EXPECT_EQ(w.rfind(std::string(kText) + " 0 [code/__torch__.py:", 0), 0u) << w;
  EXPECT_EQ(count(w, "\n"), 0) << w;  // one warning, one line
}

TEST_F(Warnings, KeptUntilCleared) {
  forward(2);
  forward(1);
  const std::string w = aeolus_last_warnings();
  // Oldest first, one per line: the first model's two, then the second's.
  EXPECT_EQ(count(w, "\n"), 2) << w;
  const auto a = w.find(std::string(kText) + " 0"), b = w.find(std::string(kText) + " 1");
  const auto c = w.rfind(std::string(kText) + " 0");
  EXPECT_TRUE(a < b && b < c && c != std::string::npos) << w;
  EXPECT_EQ(aeolus_clear_warnings(), AEOLUS_OK);
  EXPECT_STREQ(aeolus_last_warnings(), "");
}

TEST_F(Warnings, BoundedToTheLatest100) {
  forward(130);
  const std::string w = aeolus_last_warnings();
  EXPECT_EQ(w.rfind("(30 earlier warning(s) dropped)\n", 0), 0u) << w.substr(0, 200);
  EXPECT_EQ(count(w, "\n"), 100);
  EXPECT_EQ(count(w, std::string(kText) + " 29\n"), 0);
  EXPECT_EQ(count(w, std::string(kText) + " 30"), 1);
  EXPECT_EQ(count(w, std::string(kText) + " 129"), 1);
}

TEST_F(Warnings, PrintModeGivesThemToTheThreadsHandler) {
  int mode = -1;
  EXPECT_EQ(aeolus_get_warnings(&mode), AEOLUS_OK);
  EXPECT_EQ(mode, AEOLUS_WARNINGS_CAPTURE);
  ASSERT_EQ(aeolus_set_warnings(AEOLUS_WARNINGS_PRINT), AEOLUS_OK);
  EXPECT_EQ(aeolus_get_warnings(&mode), AEOLUS_OK);
  EXPECT_EQ(mode, AEOLUS_WARNINGS_PRINT);
  testing::internal::CaptureStderr();
  forward();  // LibTorch's default handler
  const std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_EQ(count(printed, std::string(kText) + " 0"), 1) << printed;
  EXPECT_STREQ(aeolus_last_warnings(), "");

  Recording host;
  c10::Warning::WarningHandlerGuard mine(&host);
  forward();
  ASSERT_EQ(host.seen.size(), 1u);
  EXPECT_EQ(host.seen[0], std::string(kText) + " 0");
  EXPECT_STREQ(aeolus_last_warnings(), "");
}

TEST_F(Warnings, BadModeRefused) {
  EXPECT_EQ(aeolus_set_warnings(7), AEOLUS_ERROR_ARGUMENT);
  EXPECT_STREQ(aeolus_last_error(),
               "aeolus_set_warnings: mode = 7; expected AEOLUS_WARNINGS_CAPTURE (0) or "
               "AEOLUS_WARNINGS_PRINT (1)");
  int mode = -1;
  EXPECT_EQ(aeolus_get_warnings(&mode), AEOLUS_OK);
  EXPECT_EQ(mode, AEOLUS_WARNINGS_CAPTURE);
  EXPECT_EQ(aeolus_get_warnings(nullptr), AEOLUS_ERROR_ARGUMENT);
}

TEST_F(Warnings, TheHostsHandlerOutsideTheCalls) {
  Recording host;
  c10::Warning::WarningHandlerGuard mine(&host);
  forward();
  EXPECT_TRUE(host.seen.empty());
  EXPECT_EQ(c10::Warning::get_warning_handler(), &host);
  EXPECT_EQ(count(aeolus_last_warnings(), kText), 1);
  TORCH_WARN("the host's own warning");
  ASSERT_EQ(host.seen.size(), 1u);
  EXPECT_EQ(host.seen[0], "the host's own warning");
  EXPECT_EQ(count(aeolus_last_warnings(), "the host's own warning"), 0);
}

TEST_F(Warnings, PerThread) {
  forward();
  std::string before, after;
  std::thread other([&] {
    before = aeolus_last_warnings();
    forward(2);
    after = aeolus_last_warnings();
    aeolus_clear_warnings();
  });
  other.join();
  EXPECT_EQ(before, "");
  EXPECT_EQ(count(after, kText), 2) << after;
  const std::string w = aeolus_last_warnings();  // this thread's one, not cleared by the other
  EXPECT_EQ(count(w, kText), 1) << w;
}

TEST_F(Warnings, CppHeader) {
  namespace ae = aeolus::host;
  EXPECT_EQ(ae::warnings_mode(), ae::Warnings::Capture);
  forward();
  EXPECT_EQ(count(ae::last_warnings(), kText), 1);
  ae::clear_warnings();
  EXPECT_EQ(ae::last_warnings(), "");
  ae::set_warnings(ae::Warnings::Print);
  EXPECT_EQ(ae::warnings_mode(), ae::Warnings::Print);
  EXPECT_THROW(ae::set_warnings(ae::Warnings(5)), ae::Error);
}

}  // namespace
