#!/usr/bin/python3 -s
"""Writes the model the C++ host checks: y = 2 x + 1 (float64), scripted with PyTorch.

  /usr/bin/python3 -s make_model.py affine.pt
"""
import sys

import torch


class Affine(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.full([1], 2.0, dtype=torch.float64))
        self.c = torch.nn.Parameter(torch.full([1], 1.0, dtype=torch.float64))

    def forward(self, x):
        return x * self.a + self.c


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_model.py PATH")
    torch.jit.save(torch.jit.script(Affine()), sys.argv[1])
