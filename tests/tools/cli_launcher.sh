#!/usr/bin/env bash
# The aeolus launcher (tools/aeolus_main.cpp): --version, the help texts and `aeolus check
# CASE_DIR` outside an MPI job are answered without loading the application library (LibTorch,
# PETSc, MPI); everything else loads it, with OMP_WAIT_POLICY=passive set before libgomp loads
# unless the user set it.
# Usage: cli_launcher.sh /path/to/aeolus
set -u
AEOLUS="$1"
work="$(realpath "$(mktemp -d)")"
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
check() {  # check NAME CONDITION-STATUS [detail]
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1${3:+: $3}"; fi
}
# heavy FILE: the lines of a loader log (LD_DEBUG=files) that name a library only the
# application needs.
heavy() { grep -E "file=[^ ]*(libaeolus_app|libtorch|libpetsc|libmpi|libgomp)" "$1"; }

# The program itself links none of the heavy libraries.
ldd "$AEOLUS" >"$work/ldd" 2>&1
! grep -qE "libtorch|libpetsc|libmpi|libgomp|libnetcdf" "$work/ldd"
rc=$?
check "ldd-light ($(wc -l <"$work/ldd") libraries)" $rc "$(grep -E 'libtorch|libpetsc|libmpi' "$work/ldd" | head -3)"

# expect_light NAME RC START -- ARGS...: exit code RC, stdout starting with START, and no heavy
# library loaded.
expect_light() {
  local name="$1" want_rc="$2" first="$3"
  shift 4
  LD_DEBUG=files LD_DEBUG_OUTPUT="$work/ld" "$AEOLUS" "$@" >"$work/out" 2>"$work/err"
  local rc=$? ok=0 why=""
  [ $rc -eq "$want_rc" ] || { ok=1; why="exit code $rc, expected $want_rc"; }
  [[ "$(head -1 "$work/out")" == "$first"* ]] || { ok=1; why="$why; first line '$(head -1 "$work/out")'"; }
  if cat "$work"/ld.* 2>/dev/null | heavy /dev/stdin >/dev/null; then
    ok=1; why="$why; loaded $(cat "$work"/ld.* | heavy /dev/stdin | head -1)"
  fi
  rm -f "$work"/ld.*
  check "$name" $ok "$why"
}
version="$("$AEOLUS" --version)"
expect_light version 0 "$version" -- --version
echo "$version" | grep -qE '^aeolus [0-9]+\.[0-9]+\.[0-9]+ \(.+\)$'
check "version-format ($version)" $?
main_first="aeolus - classical PDE solvers and neural emulators in one time-stepping loop"
expect_light help 0 "$main_first" -- --help
expect_light help-short 0 "$main_first" -- -h
expect_light no-arguments 2 "$main_first" --
for sub in run check dataset train eval; do
  expect_light "help-$sub" 0 "usage: aeolus $sub CASE_DIR" -- $sub --help
done
expect_light help-after-case 0 "usage: aeolus check CASE_DIR" -- check some/case --help

# `aeolus check CASE_DIR` outside an MPI job: the launcher's own case readers answer, loading
# no heavy library, with the same output, error line and exit code as the application's check
# (reached through mpiexec -n 1: under an MPI launcher the rank count needs MPI, so the
# launcher hands check over; mpiexec adds lines of its own to stderr after a failure, hence
# only the aeolus lines are compared).
root="$(cd "$(dirname "$0")/../.." && pwd -P)"
command -v mpiexec >/dev/null && have_mpiexec=1 || have_mpiexec=0
# same_check NAME RC DIR
same_check() {
  local name="$1" want_rc="$2" dir="$3"
  LD_DEBUG=files LD_DEBUG_OUTPUT="$work/ld" "$AEOLUS" check "$dir" >"$work/fast.out" 2>"$work/fast.err"
  local rc=$? ok=0 why=""
  [ $rc -eq "$want_rc" ] || { ok=1; why="exit code $rc, expected $want_rc"; }
  if cat "$work"/ld.* 2>/dev/null | heavy /dev/stdin >/dev/null; then
    ok=1; why="$why; loaded $(cat "$work"/ld.* | heavy /dev/stdin | head -1)"
  fi
  rm -f "$work"/ld.*
  if [ "$want_rc" -eq 0 ]; then
    grep -q "^# .*case.yaml: valid (config hash " "$work/fast.out" && [ ! -s "$work/fast.err" ] ||
      { ok=1; why="$why; output '$(head -1 "$work/fast.out")' '$(head -1 "$work/fast.err")'"; }
  else
    [ ! -s "$work/fast.out" ] && [ "$(grep -c . "$work/fast.err")" -eq 1 ] &&
      grep -q "^aeolus: error: " "$work/fast.err" ||
      { ok=1; why="$why; expected one error line: $(head -3 "$work/fast.err")"; }
  fi
  if [ $have_mpiexec -eq 1 ]; then
    mpiexec -n 1 "$AEOLUS" check "$dir" >"$work/full.out" 2>"$work/full.err"
    local full_rc=$?
    [ $full_rc -eq $rc ] || { ok=1; why="$why; exit code $full_rc through the application"; }
    cmp -s "$work/fast.out" "$work/full.out" ||
      { ok=1; why="$why; stdout differs: $(diff "$work/fast.out" "$work/full.out" | head -3)"; }
    grep "^aeolus" "$work/full.err" | cmp -s "$work/fast.err" - ||
      { ok=1; why="$why; stderr differs: $(cat "$work/fast.err") / $(grep "^aeolus" "$work/full.err")"; }
  fi
  local said=""
  [ -s "$work/fast.err" ] && said=" ($(head -1 "$work/fast.err"))"
  check "$name$said" $ok "$why"
}
for c in advection-2d williamson-tc1 poisson-2d co2-carbonbench; do
  same_check "check-$c" 0 "$root/cases/$c"
done
if [ $have_mpiexec -eq 1 ]; then
  # The comparison above is with the application's check only if mpiexec's rank loads it.
  LD_DEBUG=files LD_DEBUG_OUTPUT="$work/ld" mpiexec -n 1 "$AEOLUS" check "$root/cases/advection-2d" \
    >/dev/null 2>&1
  cat "$work"/ld.* | heavy /dev/stdin | grep -q libaeolus_app
  check check-under-mpiexec-loads-app $?
  rm -f "$work"/ld.*
fi
# bad CASE SED: a copy of cases/CASE with case.yaml edited by SED (to $work/bad-CASE)
bad() {
  rm -rf "$work/bad-$1"
  mkdir -p "$work/bad-$1"
  sed -e "$2" "$root/cases/$1/case.yaml" >"$work/bad-$1/case.yaml"
  echo "$work/bad-$1"
}
same_check check-missing-dir 1 "$work/does-not-exist"
mkdir -p "$work/malformed"
printf 'grid:\n  n: [16, 16\ntime: {t_end: 1\n' >"$work/malformed/case.yaml"
same_check check-malformed 1 "$work/malformed"
same_check check-unknown-key 1 "$(bad advection-2d 's/^grid:/grid:\n  peridic: [true, true]/')"
same_check check-sphere-nlon 1 "$(bad williamson-tc1 's/nlon: 128/nlon: 127/')"
same_check check-sphere-ranks 1 "$(bad williamson-tc1 's/nlat: 64/nlat: 64\n  procs: 2/')"
same_check check-elliptic-boundary 1 "$(bad poisson-2d 's/x: {low: dirichlet, high: dirichlet}/x: {low: periodic, high: dirichlet}/')"
same_check check-pinn-lpinn 1 "$(bad pinn-convection 's/type: convection,/type: poisson2d,/; s/^formulation: pinn/formulation: lpinn/')"
same_check check-pinn-periodic 1 "$(bad pinn-convection 's/type: convection,/type: poisson2d,/; s/features: none/features: periodic/')"
same_check check-co2-arch 1 "$(bad co2-carbonbench 's/arch: unet /arch: vit /')"

# A tiny case runs through the application library, and it is loaded then (the check above
# can fail).
mkdir -p "$work/tiny"
printf 'grid:\n  n: [16, 16]\ntime:\n  t_end: 0.05\n' >"$work/tiny/case.yaml"
LD_DEBUG=files LD_DEBUG_OUTPUT="$work/ld" "$AEOLUS" run "$work/tiny" --quiet >"$work/out" 2>&1
rc=$?
[ $rc -eq 0 ] && ls "$work/tiny/output/"*.nc >/dev/null 2>&1
check run-tiny $? "exit code $rc: $(tail -3 "$work/out")"
cat "$work"/ld.* | heavy /dev/stdin | grep -q libaeolus_app
check run-loads-app $?
rm -f "$work"/ld.*
if command -v mpiexec >/dev/null; then
  # OpenMPI's components need libmpi's symbols global (dlopen with RTLD_GLOBAL).
  mpiexec --oversubscribe -n 2 "$AEOLUS" run "$work/tiny" --quiet --overwrite >"$work/out" 2>&1
  check run-tiny-2-ranks $? "$(tail -3 "$work/out")"
fi

# libgomp reads OMP_WAIT_POLICY when it loads; OMP_DISPLAY_ENV=verbose prints what it made of
# it. Its spin count tells the cases apart (it shows 'PASSIVE' also when the variable is unset):
# 0 for passive, 300000 unset, 30000000000 active. Passive unless set; an explicit setting
# respected.
OMP_DISPLAY_ENV=verbose "$AEOLUS" run "$work/tiny" --quiet --overwrite >"$work/out" 2>&1
grep -q "GOMP_SPINCOUNT = '0'" "$work/out"
check omp-wait-policy-passive $? "$(grep -E 'OMP_WAIT_POLICY|GOMP_SPINCOUNT' "$work/out" | tr '\n' ' ')"
OMP_DISPLAY_ENV=verbose OMP_WAIT_POLICY=active "$AEOLUS" run "$work/tiny" --quiet --overwrite >"$work/out" 2>&1
grep -q "GOMP_SPINCOUNT = '30000000000'" "$work/out"
check omp-wait-policy-explicit $? "$(grep -E 'OMP_WAIT_POLICY|GOMP_SPINCOUNT' "$work/out" | tr '\n' ' ')"

# A copy of the program without its library: --version and --help still answer; a command
# that needs the library says which file it could not load, on one line, and exits 1.
mkdir -p "$work/moved/bin"
cp "$AEOLUS" "$work/moved/bin/aeolus"
"$work/moved/bin/aeolus" --version >/dev/null && "$work/moved/bin/aeolus" --help >/dev/null
check moved-version-help $?
err="$("$work/moved/bin/aeolus" run "$work/tiny" --quiet 2>&1 >/dev/null)"
rc=$?
[ $rc -eq 1 ] && [ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ] &&
  printf '%s' "$err" | grep -qF "aeolus: error: cannot load $work/moved/bin/../lib/libaeolus_app"
check "moved-no-library ($err)" $? "exit code $rc"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
