# Shared set-up for tools/run and tools/test (sourced, not executed):
# installs missing Debian packages (as root) or prints the exact list, then configures and
# builds Aeolus (Release) into build/. Later calls reuse the build.
set -euo pipefail
AEOLUS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AEOLUS_BUILD="${AEOLUS_BUILD:-$AEOLUS_ROOT/build}"
# Installed with --no-install-recommends: list everything the build runs (make is CMake's
# default generator's build program; nothing else pulls it in; gfortran builds the Fortran module
# api/aeolus.f90, which configure skips, saying so, where there is no Fortran compiler;
# python3-torch exports the models of examples/c-torchscript, whose test is skipped without it).
AEOLUS_PACKAGES=(petsc-dev libeigen3-dev libfftw3-dev libfftw3-mpi-dev libnetcdf-dev netcdf-bin
  libopenmpi-dev openmpi-bin libtorch-dev libopenblas0-pthread libyaml-cpp-dev libgtest-dev
  pkg-config cmake make g++ gfortran git python3-numpy python3-netcdf4 python3-matplotlib
  python3-torch)

aeolus_install_packages() {
  local missing=()
  for p in "${AEOLUS_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    echo "aeolus: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "aeolus: missing Debian packages; install them with:" >&2
    echo "  sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
}

aeolus_build() {
  local jobs
  jobs="$(nproc 2>/dev/null || echo 2)"
  if [ ! -f "$AEOLUS_BUILD/CMakeCache.txt" ]; then
    cmake -S "$AEOLUS_ROOT" -B "$AEOLUS_BUILD" -DCMAKE_BUILD_TYPE=Release ${AEOLUS_CMAKE_ARGS:-}
  fi
  cmake --build "$AEOLUS_BUILD" -j "$jobs" "$@"
}

# OpenMPI refuses to run as root unless told; containers and CI run as root.
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
