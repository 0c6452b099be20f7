#!/usr/bin/python3 -s
"""Exports the models the C host runs, with PyTorch (Debian: python3-torch), into OUT_DIR:

  mlp.pt   a small MLP (8 -> 16 -> tanh -> 4), scripted (torch.jit.script), float64
  cnn.pt   a small CNN (1 -> 4 channels, 3x3, ReLU, 4 -> 2, 3x3), traced (torch.jit.trace), float32

and for each NAME a reference input NAME.in and PyTorch's output for it NAME.out, in the format
the host reads: int32 rank, int32 dtype (1 float32, 2 float64), int64 shape[rank], then the
values in C order (little-endian, as the machine writes them).

  /usr/bin/python3 -s export_models.py OUT_DIR

(-s: without the user's site-packages, whose NumPy or torch may not match Debian's.)
"""
import struct
import sys

import torch


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(8, 16)
        self.out = torch.nn.Linear(16, 4)

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x)))


class Cnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(4, 2, 3, padding=1)

    def forward(self, x):
        return self.conv2(torch.relu(self.conv1(x)))


def write(path, tensor):
    tensor = tensor.detach().contiguous()
    dtype = {torch.float32: 1, torch.float64: 2}[tensor.dtype]
    with open(path, "wb") as f:
        f.write(struct.pack("<ii", tensor.dim(), dtype))
        f.write(struct.pack("<%dq" % tensor.dim(), *tensor.shape))
        values = tensor.flatten().tolist()  # no NumPy needed
        f.write(struct.pack("<%d%s" % (len(values), "f" if dtype == 1 else "d"), *values))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_models.py OUT_DIR")
    out = sys.argv[1]
    torch.manual_seed(19)

    mlp = torch.jit.script(Mlp().double().eval())
    x = torch.randn(5, 8, dtype=torch.float64)
    torch.jit.save(mlp, out + "/mlp.pt")
    write(out + "/mlp.in", x)
    write(out + "/mlp.out", mlp(x))

    cnn = Cnn().float().eval()
    x = torch.randn(2, 1, 12, 10, dtype=torch.float32)
    traced = torch.jit.trace(cnn, x)
    torch.jit.save(traced, out + "/cnn.pt")
    write(out + "/cnn.in", x)
    write(out + "/cnn.out", traced(x))
    print("torch %s: wrote mlp.pt, cnn.pt and their inputs and outputs to %s"
          % (torch.__version__, out))


if __name__ == "__main__":
    main()
