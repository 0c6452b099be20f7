#pragma once
// The aeolus command line inside the application library: argument parsing, the subcommand
// dispatch and the one catch that turns an error into a single line and an exit code.
// The program `aeolus` (tools/aeolus_main.cpp) is a small launcher that answers --help and
// --version itself and loads this library (with dlopen) for everything else, so that those
// answers do not pay for loading LibTorch, PETSc and MPI.

// Runs `aeolus ARGS...` as the program's main() did: initialises PETSc (and MPI), dispatches the
// subcommand and finalises; returns the exit code. Errors print one line on stderr (rank 0) and
// give 1; an error on one rank after the case is loaded aborts the job (MPI_Abort).
// A C symbol so that the launcher finds it with dlsym.
extern "C" __attribute__((visibility("default"))) int aeolus_app_main(int argc, char** argv);
