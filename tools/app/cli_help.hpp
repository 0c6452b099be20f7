#pragma once
// The help texts of the aeolus program and its subcommand names: plain strings, no MPI, PETSc,
// LibTorch or NetCDF, so that the launcher (tools/aeolus_main.cpp) answers --help without
// loading the application library. The application (cli.cpp) prints the same texts.
#include <string>
#include <vector>

namespace aeolus::app {

// The text of `aeolus --help`.
const char* main_help();

// The text of `aeolus SUBCOMMAND --help`, or nullptr when there is no such subcommand.
const char* subcommand_help(const std::string& name);

// The subcommand names in alphabetical order (the candidates of the did-you-mean hint).
std::vector<std::string> subcommand_names();

}  // namespace aeolus::app
