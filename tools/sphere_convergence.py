"""Convergence study of the sphere transport (driven by tools/sphere_convergence)."""
import argparse
import datetime
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import netCDF4  # noqa: E402

ALPHAS = [("0", "0"), ("0.05", "0.05"), ("pi/2-0.05", "1.5207963267948966"),
          ("pi/2", "1.5707963267948966")]


def set_key(text, key, value):
    """Replaces the value of the first `key:` line (keeping indentation and comment)."""
    new, n = re.subn(r"^(\s*%s:\s*)[^#\n]*" % re.escape(key), r"\g<1>%s " % value, text, count=1,
                     flags=re.M)
    if n != 1:
        sys.exit("sphere_convergence: key %s not found" % key)
    return new


def run_case(args, case, tag, edits):
    src = os.path.join(args.root, "cases", case)
    dst = os.path.join(args.work, "%s-%s" % (case, tag))
    if os.path.isdir(dst):
        shutil.rmtree(dst)
    os.makedirs(dst)
    with open(os.path.join(src, "case.yaml")) as f:
        text = f.read()
    for k, v in edits:
        text = set_key(text, k, v)
    with open(os.path.join(dst, "case.yaml"), "w") as f:
        f.write(text)
    cmd = [os.path.join(args.build, "bin", "aeolus"), "run", dst, "--quiet"]
    if args.ranks > 1:
        cmd = ["mpirun", "--oversubscribe", "-n", str(args.ranks)] + cmd
    t0 = time.time()
    subprocess.run(cmd, check=True)
    wall = time.time() - t0
    out = {"wall": wall}
    with netCDF4.Dataset(os.path.join(dst, "output", "diagnostics.nc")) as d:
        for name, var in d.variables.items():
            if var.ndim == 0:
                out[name] = float(var[...])
            else:
                out[name] = [float(x) for x in var[:]]
    # Largest excursion beyond the first frame's range over all frames (per-frame min / max
    # of output/fields.nc), relative to that range: X_new_extrema.
    with netCDF4.Dataset(os.path.join(dst, "output", "fields.nc")) as f:
        for name in f.variables:
            if not name.endswith("_min") or name[:-4] + "_max" not in f.variables:
                continue
            lo = [float(x) for x in f[name][:]]
            hi = [float(x) for x in f[name[:-4] + "_max"][:]]
            span = hi[0] - lo[0]
            if span > 0:
                out[name[:-4] + "_new_extrema"] = max(0.0, lo[0] - min(lo), max(hi) - hi[0]) / span
    return out


def order(e_coarse, e_fine):
    return math.log(e_coarse / e_fine) / math.log(2.0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--root", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--ranks", type=int, default=1)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    args.work = os.path.join(args.build, "sphere-convergence")
    out_dir = args.out or os.path.join(args.root, "docs")
    os.makedirs(os.path.join(out_dir, "figures"), exist_ok=True)
    nlats = [32, 64, 128] if args.quick else [32, 64, 128, 256]

    hills, bells, bells_ep, bells_bd = {}, {}, {}, {}
    for nlat in nlats:
        grid = [("nlat", nlat), ("nlon", 2 * nlat)]
        hills[nlat] = run_case(args, "lauritzen-2012-gaussian-hills", str(nlat), grid)
        bells[nlat] = run_case(args, "lauritzen-2012", str(nlat), grid)
        bells_ep[nlat] = run_case(args, "lauritzen-2012", "ep%d" % nlat,
                                  grid + [("limiter", "extremum_preserving")])
        bells_bd[nlat] = run_case(args, "lauritzen-2012", "bounded%d" % nlat,
                                  grid + [("limiter", "bounded")])
        print("nlat %4d: hills l2 %.3e (%.1f s), cosine bells l2 %.3e (%.1f s)" %
              (nlat, hills[nlat]["hills_l2"], hills[nlat]["wall"], bells[nlat]["q1_l2"],
               bells[nlat]["wall"]), flush=True)
    will, will_ep, will_bd = {}, {}, {}
    for label, alpha in ALPHAS:
        will[label] = run_case(args, "williamson-tc1", "alpha%s" % alpha, [("alpha", alpha)])
        will_ep[label] = run_case(args, "williamson-tc1", "ep-alpha%s" % alpha,
                                  [("alpha", alpha), ("limiter", "extremum_preserving")])
        will_bd[label] = run_case(args, "williamson-tc1", "bounded-alpha%s" % alpha,
                                  [("alpha", alpha), ("limiter", "bounded")])

    lines = []
    w = lines.append
    w("# Sphere transport: convergence and standard tests")
    w("")
    w("Regenerate with `tools/sphere_convergence%s` (%s, %d rank(s), %s, %s)." %
      (" --quick" if args.quick else "", platform.node() or "this machine", args.ranks,
       datetime.date.today().isoformat(), "Release build"))
    w("Every number below is read from the runs' `output/diagnostics.nc`; the runs are copies of")
    w("the case directories with only the keys named in each table changed.")
    w("")
    w("## Gaussian hills, non-divergent flow, unlimited PPM (cases/lauritzen-2012-gaussian-hills)")
    w("")
    w("| resolution | nlat x nlon | l1 | l2 | linf | order l2 | order linf | wall s |")
    w("|---|---|---|---|---|---|---|---|")
    prev = None
    for nlat in nlats:
        h = hills[nlat]
        o2 = "" if prev is None else "%.2f" % order(hills[prev]["hills_l2"], h["hills_l2"])
        oi = "" if prev is None else "%.2f" % order(hills[prev]["hills_linf"], h["hills_linf"])
        w("| %.4g deg | %d x %d | %.3e | %.3e | %.3e | %s | %s | %.1f |" %
          (180.0 / nlat, nlat, 2 * nlat, h["hills_l1"], h["hills_l2"], h["hills_linf"], o2, oi,
           h["wall"]))
        prev = nlat
    w("")
    w("## Monotone PPM, all tracers (cases/lauritzen-2012)")
    w("")
    w("| resolution | cosine bells l2 | order | slotted cyl. l2 | hills l2 (monotone) | "
      "phi_min bells | phi_max bells | mass drift (max over tracers) |")
    w("|---|---|---|---|---|---|---|---|")
    prev = None
    for nlat in nlats:
        b = bells[nlat]
        o = "" if prev is None else "%.2f" % order(bells[prev]["q1_l2"], b["q1_l2"])
        drift = max(abs(b[k]) for k in b if k.endswith("_mass_relative_change"))
        w("| %.4g deg | %.3e | %s | %.3e | %.3e | %.2e | %.2e | %.1e |" %
          (180.0 / nlat, b["q1_l2"], o, b["sc_l2"], b["hills_l2"], b["q1_phi_min"],
           b["q1_phi_max"], drift))
        prev = nlat
    w("")
    def limited_table(runs, intro, new_extrema):
        """A Lauritzen-suite table of one limiter (new_extrema: add that column)."""
        for line in intro:
            w(line)
        w("")
        extra = " new extrema |" if new_extrema else ""
        w("| resolution | cosine bells l2 | order | slotted cyl. l2 | hills l2 | phi_min bells | "
          "phi_max bells | overshooting l_o |" + extra)
        w("|---|---|---|---|---|---|---|---|" + ("---|" if new_extrema else ""))
        prev = None
        for nlat in nlats:
            b = runs[nlat]
            o = "" if prev is None else "%.2f" % order(runs[prev]["q1_l2"], b["q1_l2"])
            row = "| %.4g deg | %.3e | %s | %.3e | %.3e | %.2e | %.2e | %.2e |" % (
                180.0 / nlat, b["q1_l2"], o, b["sc_l2"], b["hills_l2"], b["q1_phi_min"],
                b["q1_phi_max"], b["mixing_overshooting"])
            w(row + (" %.1e |" % b["q1_new_extrema"] if new_extrema else ""))
            prev = nlat
        w("")

    limited_table(bells_ep, [
        "The same case with `stepper.scheme.limiter: extremum_preserving` (PPM keeping smooth",
        "extrema; small over- and undershoots allowed):"], False)
    limited_table(bells_bd, [
        "The same case with `stepper.scheme.limiter: bounded` (the extremum-preserving parabolas",
        "scaled into each field's range at the start of the step: no new extrema; \"new extrema\"",
        "is the largest excursion of the cosine bells beyond their initial range over all frames,",
        "relative to that range):"], True)
    w("Mixing diagnostics of (q1, q2) at T/2 and filament preservation l_f(tau) at T/2:")
    w("")
    w("| resolution | real mixing l_r | range-preserving unmixing l_u | overshooting l_o | "
      "l_f(0.1) | l_f(0.5) | l_f(0.9) |")
    w("|---|---|---|---|---|---|---|")
    for nlat in nlats:
        b = bells[nlat]
        lf = b["filament_l_f"]
        w("| %.4g deg | %.3e | %.3e | %.3e | %.1f | %.1f | %.1f |" %
          (180.0 / nlat, b["mixing_real"], b["mixing_range_preserving_unmixing"],
           b["mixing_overshooting"], lf[0], lf[8], lf[16]))
    w("")
    w("## Williamson et al. (1992) case 1, 2.8125 deg, PPM, 12 days in 512 steps (cases/williamson-tc1)")
    w("")
    w("| alpha | limiter | l1 | l2 | linf | phi_min | phi_max | mass drift |")
    w("|---|---|---|---|---|---|---|---|")
    for runs, lim in ((will, "monotone"), (will_ep, "extremum_preserving"), (will_bd, "bounded")):
        for label, _ in ALPHAS:
            r = runs[label]
            w("| %s | %s | %.3e | %.3e | %.3e | %.2e | %.2e | %.1e |" %
              (label, lim, r["h_l1"], r["h_l2"], r["h_linf"], r["h_phi_min"], r["h_phi_max"],
               r["h_mass_relative_change"]))
    with open(os.path.join(out_dir, "sphere-convergence.md"), "w") as f:
        f.write("\n".join(lines) + "\n")

    res = [180.0 / n for n in nlats]
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, lab in (("hills_l1", "l1"), ("hills_l2", "l2"), ("hills_linf", "linf")):
        ax[0].loglog(res, [hills[n][key] for n in nlats], "o-", label=lab)
    for key, lab in (("q1_l2", "cosine bells l2"), ("sc_l2", "slotted cylinders l2"),
                     ("hills_l2", "Gaussian hills l2 (monotone)")):
        ax[1].loglog(res, [bells[n][key] for n in nlats], "o-", label=lab)
    ax[1].loglog(res, [bells_ep[n]["q1_l2"] for n in nlats], "s--",
                 label="cosine bells l2, extremum-preserving")
    ax[1].loglog(res, [bells_bd[n]["q1_l2"] for n in nlats], "^--",
                 label="cosine bells l2, bounded")
    ax[1].axhline(0.033, color="k", ls=":", lw=1, label="l2 = 0.033 (minimal resolution)")
    for a, ref in ((ax[0], hills[nlats[0]]["hills_l2"]), (ax[1], bells[nlats[0]]["q1_l2"])):
        for k, style in ((1, "--"), (2, "-.")):
            a.loglog(res, [ref * (r / res[0]) ** k for r in res], "k" + style, lw=0.8,
                     label="order %d" % k)
        a.set_xlabel("grid spacing (deg)")
        a.set_ylabel("normalised error")
        a.invert_xaxis()
        a.grid(True, which="both", lw=0.3)
        a.legend(fontsize=7)
    ax[0].set_title("Gaussian hills, unlimited PPM")
    ax[1].set_title("limited PPM (Lauritzen et al. 2012 suite)")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "figures", "sphere-convergence.png"), dpi=110)
    print("wrote %s and figures/sphere-convergence.png" % os.path.join(out_dir, "sphere-convergence.md"))


if __name__ == "__main__":
    main()
