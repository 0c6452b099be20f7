#!/usr/bin/env bash
# Regression test of the shipped case, end to end with the default settings: classical run,
# dataset, training, emulator run and evaluation of cases/advection-2d in a scratch copy.
# Asserts the issue's numbers: R^2 > 0.95 after 100 emulator steps on held-out initial
# conditions, relative mass error < 1e-12; and a classical mass drift < 1e-13.
# Usage: case_advection_2d.sh /path/to/aeolus /path/to/cases/advection-2d   (~2.5 min)
set -euo pipefail
AEOLUS="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$2/case.yaml" "$work/case.yaml"
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
checks = [
    ("R^2 after 100 emulator steps", m["r2_final"], m["r2_final"] > 0.95),
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
