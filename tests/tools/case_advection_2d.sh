#!/usr/bin/env bash
# Regression test of the shipped case, end to end with the default settings: classical run,
# dataset, training, emulator run and evaluation of cases/advection-2d in a scratch copy: the
# command sequence of docs/advection-2d.md, so this script also regenerates the figures README
# and docs/advection-2d.md state (R^2 0.9885, RMSE 1.1e-2 after 100 emulator steps).
# The copy differs from the case in one key: training.max_minutes 5 -> 60, so that the budget
# is the case's 30 epochs on any machine (a slow or loaded one would otherwise stop early; on
# the 2-core development machine the 30 epochs take about 2 min).
# Training runs 2 torch threads (the case's setting) and is deterministic on one machine (two
# runs give the same R^2 to all digits); another CPU's kernels round differently, which we expect
# to move the trained weights less than another training seed does (not yet run on a second
# kind of CPU). Measured 2026-12-07 (2-core AMD EPYC
# VM): R^2 after 100 emulator steps on the held-out trajectories 0.9885 with the case's seed
# (RMSE 1.12e-2); training.seed 2 and 3 give 0.9827 and 0.9835 (RMSE 1.49e-2, 1.25e-2).
# Asserts: all 30 epochs trained; R^2 >= 0.978 (1 - R^2 at most 1.3x the worst seed's, 1.9x the
# stated figure's: twice the error fails, as do the variants of docs/advection-2d.md, <= 0.934);
# RMSE <= 1.6e-2; relative mass error < 1e-12 (measured <= 9.1e-15); classical mass drift
# < 1e-13.
# Usage: case_advection_2d.sh /path/to/aeolus /path/to/cases/advection-2d   (~2.5 min)
set -euo pipefail
AEOLUS="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sed 's/^\(    max_minutes:\) 5\b/\1 60/' "$2/case.yaml" > "$work/case.yaml"
grep -q '^    max_minutes: 60' "$work/case.yaml" || { echo "FAIL could not raise training.max_minutes"; exit 1; }
start=$SECONDS
"$AEOLUS" run "$work" --quiet
"$AEOLUS" dataset "$work" >/dev/null
"$AEOLUS" train "$work" >/dev/null
"$AEOLUS" run "$work" --stepper emulator --overwrite --quiet
"$AEOLUS" eval "$work"
echo "end to end: $((SECONDS - start)) s"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
m = json.load(open(f"{work}/eval/metrics.json"))
run = json.load(open(f"{work}/logs/run.json"))
prev = json.load(open(f"{work}/logs/run.1.json"))
epochs = sum(1 for _ in open(f"{work}/models/emulator.train.csv")) - 1
checks = [
    ("training epochs", epochs, epochs == 30),
    ("R^2 after 100 emulator steps (README: 0.9885)", m["r2_final"], m["r2_final"] >= 0.978),
    ("RMSE after 100 emulator steps (README: 1.1e-2)", m["rmse_final"], m["rmse_final"] <= 1.6e-2),
    ("max relative mass error (emulator, eval)", m["mass_rel_error_max"], m["mass_rel_error_max"] < 1e-12),
    ("relative mass change (emulator run)", run["mass_relative_change"], abs(run["mass_relative_change"]) < 1e-12),
    ("relative mass change (classical run)", prev["mass_relative_change"], abs(prev["mass_relative_change"]) < 1e-13),
]
failed = 0
for name, value, ok in checks:
    print(("ok   " if ok else "FAIL ") + f"{name}: {value:.6g}")
    failed += not ok
print(f"{len(checks) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
