// Writes one of the test models of test_models.hpp, for the tests that are not C++ (the C99
// program, the Fortran program, the installed-package consumers):
//   make_test_model KIND PATH [float32|float64]
#include <cstdio>
#include <exception>
#include <string>

#include "api/test_models.hpp"

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr,
                 "usage: make_test_model linear_tanh|affine|warn|tuple PATH [float32|float64]\n");
    return 2;
  }
  const std::string dtype = argc == 4 ? argv[3] : "float32";
  if (dtype != "float32" && dtype != "float64") {
    std::fprintf(stderr, "make_test_model: dtype '%s'; expected float32 or float64\n",
                 dtype.c_str());
    return 2;
  }
  try {
    aeolus::test::save_test_model(argv[1], argv[2],
                                  dtype == "float32" ? torch::kFloat32 : torch::kFloat64);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_test_model: %s\n", e.what());
    return 1;
  }
  return 0;
}
