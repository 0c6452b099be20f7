#!/usr/bin/env bash
# Bad input through the real program: each case must exit non-zero with ONE line on stderr
# that names what was wrong. Usage: cli_errors.sh /path/to/aeolus
set -u
AEOLUS="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pass=0
fail=0

# expect_error NAME "substring1|substring2|..." -- command...
expect_error() {
  local name="$1" want="$2"
  shift 3
  local err rc
  err="$("$@" 2>&1 >/dev/null)"
  rc=$?
  local ok=1
  [ $rc -ne 0 ] || { echo "FAIL $name: exit code 0"; ok=0; }
  [ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ] || { echo "FAIL $name: expected one line, got:"; printf '%s\n' "$err"; ok=0; }
  IFS='|' read -ra parts <<<"$want"
  for p in "${parts[@]}"; do
    printf '%s' "$err" | grep -qF -- "$p" || { echo "FAIL $name: '$p' not in: $err"; ok=0; }
  done
  if [ $ok -eq 1 ]; then pass=$((pass + 1)); echo "ok   $name: $err"; else fail=$((fail + 1)); fi
}

mkcase() {  # mkcase NAME < yaml
  mkdir -p "$work/$1"
  cat >"$work/$1/case.yaml"
  echo "$work/$1"
}

good='grid:
  n: [16, 16]
time:
  t_end: 0.05
'

d=$(mkcase nofile </dev/null); rm "$d/case.yaml"
expect_error missing-case-yaml "case.yaml|No such file" -- "$AEOLUS" check "$d"
expect_error missing-case-dir "not a case directory" -- "$AEOLUS" check "$work/does-not-exist"

d=$(mkcase malformed <<'EOF'
grid:
  n: [16, 16
time: {t_end: 1
EOF
)
expect_error malformed-yaml "case.yaml:" -- "$AEOLUS" check "$d"

d=$(mkcase unknown <<'EOF'
grid:
  n: [16, 16]
  peridic: [true, true]
time:
  t_end: 1.0
EOF
)
expect_error unknown-key "case.yaml:3|peridic|did you mean 'periodic'" -- "$AEOLUS" check "$d"

d=$(mkcase negative <<'EOF'
grid:
  n: [-16, 16]
time:
  t_end: 1.0
EOF
)
expect_error negative-resolution "case.yaml:2|grid.n|-16" -- "$AEOLUS" check "$d"

d=$(mkcase cfl <<'EOF'
time:
  t_end: 1.0
  cfl: 1.7
EOF
)
expect_error cfl-too-large "case.yaml:3|time.cfl|1.7" -- "$AEOLUS" check "$d"

d=$(mkcase badtype <<'EOF'
grid:
  dim: two
time:
  t_end: 1.0
EOF
)
expect_error wrong-type "case.yaml:2|grid.dim|two" -- "$AEOLUS" check "$d"

d=$(mkcase missing <<'EOF'
grid:
  n: [16, 16]
EOF
)
expect_error missing-required "time.t_end" -- "$AEOLUS" check "$d"

d=$(mkcase badchoice <<'EOF'
stepper:
  type: clasical
time:
  t_end: 1.0
EOF
)
expect_error bad-choice "stepper.type|clasical|did you mean 'classical'" -- "$AEOLUS" check "$d"

expect_error unknown-option "--overwirte|did you mean '--overwrite'" -- "$AEOLUS" run "$d" --overwirte
expect_error unknown-subcommand "unknwn" -- "$AEOLUS" unknwn "$d"

# Initial condition from a NetCDF file: wrong variable, shape and units.
if command -v ncgen >/dev/null; then
  cat >"$work/ic.cdl" <<'EOF'
netcdf ic {
dimensions: y = 16 ; x = 8 ; yy = 16 ; xx = 16 ;
variables:
  double q(y, x) ; q:units = "1" ;
  double c(yy, xx) ; c:units = "kg m-3" ;
  double ok(yy, xx) ; ok:units = "1" ;
}
EOF
  ncgen -k nc4 -o "$work/ic.nc" "$work/ic.cdl"
  for v in novar:nothere q:q c:c; do
    name=${v%%:*}; var=${v#*:}
    d=$(mkcase "ic-$name" <<EOF
grid:
  n: [16, 16]
physics:
  initial_condition:
    type: file
    file: $work/ic.nc
    variable: $var
time:
  t_end: 0.05
EOF
)
    case $name in
      novar) want="ic.nc|no variable 'nothere'" ;;
      q) want="ic.nc|'q'|shape (16, 8)|(16, 16)" ;;
      c) want="ic.nc|'c'|units 'kg m-3'|expected '1'" ;;
    esac
    expect_error "ic-file-$name" "$want" -- "$AEOLUS" run "$d" --quiet
  done
else
  echo "FAIL ic-file: ncgen (netcdf-bin) not found"; fail=$((fail + 1))
fi

# Results of an earlier run are not overwritten.
d=$(mkcase rerun <<<"$good")
"$AEOLUS" run "$d" --quiet >/dev/null 2>&1 || { echo "FAIL rerun: first run failed"; fail=$((fail + 1)); }
expect_error refuse-overwrite "earlier run|--overwrite" -- "$AEOLUS" run "$d" --quiet
expect_error restart-without-checkpoint "no complete checkpoint" -- "$AEOLUS" run "$(mkcase fresh <<<"$good")" --restart --quiet

# A missing model, and a file that is not a model.
d=$(mkcase nomodel <<<"$good")
expect_error missing-model "models/emulator.pt" -- "$AEOLUS" run "$d" --stepper emulator --quiet
d=$(mkcase junkmodel <<<"$good"); mkdir -p "$d/models"; echo "not a model" >"$d/models/emulator.pt"
expect_error junk-model "emulator.pt" -- "$AEOLUS" run "$d" --stepper emulator --quiet

# Sphere cases: an odd nlon, a 3D flow on a 2D grid, more ranks than latitude rows.
sphere='grid:
  type: latlon
  nlon: 16
  nlat: 8
physics:
  flow:
    type: williamson
  tracers:
    h:
      type: cosine_bell
time:
  t_end: 3600
'
d=$(mkcase sphere-odd <<<"${sphere/nlon: 16/nlon: 15}")
expect_error sphere-odd-nlon "case.yaml:3|grid.nlon = 15|even" -- "$AEOLUS" check "$d"
d=$(mkcase sphere-3d <<<"${sphere/type: williamson/type: dcmip_1_2}")
expect_error sphere-3d-flow "dcmip_1_2|grid.nlev > 1" -- "$AEOLUS" check "$d"
if command -v mpiexec >/dev/null; then
  # mpiexec adds its own banner; the program itself must print one line (on rank 0 only).
  d=$(mkcase sphere-ranks <<<"$sphere")
  expect_error sphere-too-many-ranks "9 ranks|nlat = 8|at most 8 ranks" -- \
    bash -c 'mpiexec --oversubscribe -n 9 "$0" run "$1" --quiet 2>&1 >/dev/null | grep "^aeolus:" >&2; exit "${PIPESTATUS[0]}"' \
    "$AEOLUS" "$d"
fi

# Elliptic cases: options of time-dependent runs, an unknown solver, a missing DCDM model.
elliptic='grid:
  n: [16, 16]
physics:
  equation: elliptic
  source: {type: constant, value: 1.0}
'
d=$(mkcase elliptic <<<"$elliptic")
expect_error elliptic-restart "--restart|elliptic|--solver" -- "$AEOLUS" run "$d" --restart --quiet
expect_error elliptic-bad-solver "--solver cg|ksp, fft or dcdm" -- "$AEOLUS" run "$d" --solver cg --quiet
expect_error elliptic-no-model "models/dcdm.pt" -- "$AEOLUS" run "$d" --solver dcdm --quiet --overwrite
expect_error elliptic-no-data "dcdm_train.nc|aeolus dataset" -- "$AEOLUS" train "$d"
# A device that does not exist (cuda:99: none here, and no CUDA in Debian's LibTorch) stops
# the DCDM solve and training before any output is made.
d=$(mkcase elliptic-device <<<"$elliptic
solver:
  dcdm: {device: 'cuda:99'}
dcdm:
  training: {device: 'cuda:99'}")
expect_error elliptic-solve-device "solver.dcdm.device = 'cuda:99'" -- "$AEOLUS" run "$d" --solver dcdm --quiet
[ ! -e "$d/output" ] || { echo "FAIL elliptic-solve-device: output/ was created"; fail=$((fail + 1)); }
expect_error elliptic-train-device "dcdm.training.device = 'cuda:99'" -- "$AEOLUS" train "$d"
d=$(mkcase elliptic-typo <<<"${elliptic/source:/sorce:}")
expect_error elliptic-typo "case.yaml:5|sorce|did you mean 'source'" -- "$AEOLUS" check "$d"
# Hamiltonian cases: a misspelt key of the system, an unknown method, no emulator to train.
hamiltonian='physics:
  equation: hamiltonian
  system: {type: kepler, eccentricity: 0.6}
integrator: {method: verlet, dt: 0.01}
time: {t_end: 1.0}
'
d=$(mkcase hamiltonian-typo <<<"${hamiltonian/eccentricity/eccentricty}")
expect_error hamiltonian-typo "case.yaml:3|eccentricty|did you mean 'eccentricity'" -- "$AEOLUS" check "$d"
d=$(mkcase hamiltonian <<<"$hamiltonian")
expect_error hamiltonian-method "--solver = 'leapfrog'|forest_ruth" -- "$AEOLUS" run "$d" --solver leapfrog --quiet
expect_error hamiltonian-train "no hamiltonian emulator|aeolus run" -- "$AEOLUS" train "$d"
# A step count no sensible case reaches (a mistyped dt) is refused before the run starts.
d=$(mkcase hamiltonian-steps <<<"${hamiltonian/dt: 0.01/dt: 1.0e-12}")
expect_error hamiltonian-max-steps "case.yaml:5|1e+12 steps|time.max_steps = 1000000000" -- "$AEOLUS" run "$d" --quiet
[ ! -e "$d/output" ] || { echo "FAIL hamiltonian-max-steps: output/ was created"; fail=$((fail + 1)); }
# A flow of 9.2e18 m/s (CFL steps of 1e-21 s): an error at once, not a run that never ends.
d=$(mkcase runaway-velocity <<<"grid:
  n: [16, 16]
physics:
  velocity: {u: [1.0, 9.2e18]}
time:
  t_end: 2")
expect_error runaway-velocity "time.max_steps = 10000000 would be exceeded|at step 0|more steps" -- timeout 60 "$AEOLUS" run "$d" --quiet
d=$(mkcase advection-solver <<<"$good")
expect_error advection-solver "--solver|elliptic" -- "$AEOLUS" run "$d" --solver fft --quiet

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
