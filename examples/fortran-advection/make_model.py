"""Writes the initial model of the online-training example (examples/fortran-advection): the
host's first-order upwind increment (a fixed buffer, not trained) plus a small CNN that predicts
correction fluxes, trained online by the Fortran host (flux = 'train').

    /usr/bin/python3 -s make_model.py --u 1 --v 0.5 --dx 0.015625 --dy 0.015625 \
        --dt 0.0078125 --out model0.pt

Contract (that of `aeolus run`'s torchscript stepper, halo 3, output increment):
  input  [1, 1, ny + 6, nx + 6]: a rank's owned cells and h = 3 ghost cells on each side, rows
         along y, x fastest: the memory of a Fortran array q(1-h:nx+h, 1-h:ny+h);
  output [1, 1, ny, nx]: the increment q_new - q of the owned cells.
Float64, so that the host and `aeolus run` agree to round-off.

The correction is in flux form: the CNN gives a flux through the low x-face and the low y-face
of every cell, and each face's flux enters its two cells with opposite signs, so the corrected
scheme conserves mass exactly whatever the weights (and on every decomposition, since a face's
flux depends only on the 5 x 5 cells around it). The last layer starts at zero: the initial
model IS the upwind scheme (checked here before the file is written).
"""
import argparse
import sys

import torch

HALO = 3


class CorrectedUpwind(torch.nn.Module):
    def __init__(self, u: float, v: float, dx: float, dy: float, dt: float, width: int):
        super().__init__()
        cx, cy = u * dt / dx, v * dt / dy
        # The upwind increment of a cell from its 3 x 3 neighbourhood (rows y, columns x):
        # -cx (q[i] - q[i-1]) - cy (q[j] - q[j-1]). A buffer: saved with the model, not trained.
        w = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
        w[0, 0, 1, 1] = -cx - cy
        w[0, 0, 1, 0] = cx
        w[0, 0, 0, 1] = cy
        self.register_buffer("upwind", w)
        self.c1 = torch.nn.Conv2d(1, width, 3, dtype=torch.float64)
        self.c2 = torch.nn.Conv2d(width, width, 3, dtype=torch.float64)
        self.head = torch.nn.Conv2d(width, 2, 1, dtype=torch.float64)
        torch.nn.init.zeros_(self.head.weight)
        torch.nn.init.zeros_(self.head.bias)

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        # The upwind part reads 1 ghost layer of the 3.
        base = torch.nn.functional.conv2d(q[:, :, 2:-2, 2:-2], self.upwind)
        # Correction fluxes through the low faces of cells -1 .. n (two 'valid' 3 x 3
        # convolutions use 2 of the 3 ghost layers): f[:, 0] along x, f[:, 1] along y.
        f = self.head(torch.tanh(self.c2(torch.tanh(self.c1(q)))))
        fx = f[:, 0:1]
        fy = f[:, 1:2]
        # In through the low face, out through the high face (the next cell's low face).
        corr_x = fx[:, :, 1:-1, 1:-1] - fx[:, :, 1:-1, 2:]
        corr_y = fy[:, :, 1:-1, 1:-1] - fy[:, :, 2:, 1:-1]
        return base + corr_x + corr_y


def upwind_increment(q: torch.Tensor, cx: float, cy: float) -> torch.Tensor:
    """The host's upwind increment of the owned cells of a ghosted block [1, 1, ny+6, nx+6]."""
    h = HALO
    c = q[:, :, h:-h, h:-h]
    return -cx * (c - q[:, :, h:-h, h - 1:-h - 1]) - cy * (c - q[:, :, h - 1:-h - 1, h:-h])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--u", type=float, required=True, help="velocity along x (>= 0)")
    p.add_argument("--v", type=float, required=True, help="velocity along y (>= 0)")
    p.add_argument("--dx", type=float, required=True, help="cell width along x")
    p.add_argument("--dy", type=float, required=True, help="cell width along y")
    p.add_argument("--dt", type=float, required=True, help="the host's step")
    p.add_argument("--width", type=int, default=8, help="channels of the hidden layers")
    p.add_argument("--seed", type=int, default=1, help="seed of the hidden layers' weights")
    p.add_argument("--out", required=True, help="the TorchScript file to write")
    a = p.parse_args()
    for k in ("dx", "dy", "dt"):
        if not getattr(a, k) > 0:
            sys.exit(f"make_model.py: --{k} = {getattr(a, k)}; expected a value > 0")
    if a.u < 0 or a.v < 0:
        sys.exit(f"make_model.py: --u {a.u} --v {a.v}; this upwind stencil needs u >= 0, v >= 0")
    if a.width < 1:
        sys.exit(f"make_model.py: --width = {a.width}; expected >= 1")
    cx, cy = a.u * a.dt / a.dx, a.v * a.dt / a.dy

    torch.manual_seed(a.seed)
    model = torch.jit.script(CorrectedUpwind(a.u, a.v, a.dx, a.dy, a.dt, a.width))
    # The untrained model is the upwind scheme: check it on a random ghosted block.
    q = torch.rand(1, 1, 11 + 2 * HALO, 7 + 2 * HALO, dtype=torch.float64)
    with torch.no_grad():
        diff = (model(q) - upwind_increment(q, cx, cy)).abs().max().item()
    if not diff <= 1e-15:
        sys.exit(f"make_model.py: the untrained model differs from upwind by {diff:.3e}")
    model.save(a.out)
    n = sum(t.numel() for t in model.parameters())
    print(f"make_model.py: wrote {a.out}: upwind (Courant numbers {cx:g}, {cy:g}) + a flux CNN "
          f"of {n} trainable parameters (width {a.width}, halo {HALO}, float64); "
          f"untrained = upwind to {diff:.1e}")


if __name__ == "__main__":
    main()
