#!/usr/bin/env python3
"""The Python peer of bench/neural_ode_demo.cpp: torchdiffeq's examples/ode_demo.py, timed.

Same semantics as the torchdiffeq demo (written from its description, not copied): the true
trajectory dy/dt = y^3 A, A = [[-0.1, 2], [-2, -0.1]], y0 = (2, 0), 1000 points in [0, 25] from
odeint(method='dopri5'); each iteration draws batch_size = 20 windows of batch_time = 10 points,
solves the neural ODE (Linear(2, 50) - Tanh - Linear(50, 2) on y**3, weights N(0, 0.1), biases 0)
from their first points with dopri5 at torchdiffeq's default tolerances (rtol 1e-7, atol 1e-9),
backpropagates through the solver (no adjoint) and takes an RMSprop step (lr 1e-3); float32, as
the demo. The time per iteration covers batch drawing, forward solve, backward and the optimiser
step; the full-trajectory evaluation (the demo's "Total Loss", mean |pred - true|) runs only every
--test-freq iterations (0: only at the end) and is not timed.

With --batch-file FILE the window starts are read from FILE (one line of batch_size integers
per iteration) instead of drawn with numpy: bench/neural_ode_demo.cpp passes the starts it drew
itself, and since both seed torch's generator with --seed and initialise the weights in the same
order, the two runs start from the same network and see the same batches (init_checksum, the
sum of the initial weights, lets the caller check the former).

Usage: neural_ode_demo_torchdiffeq.py [--niters N] [--threads T] [--test-freq F] [--seed S]
                                      [--batch-file FILE]
Prints a human-readable summary and one machine-readable line:
  RESULT ms_per_iter=<float> nfe_per_solve=<float> final_loss=<float> iterations=<int> ...
"""
import argparse
import time

import numpy as np
import torch
import torch.nn as nn
from torchdiffeq import odeint


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--niters", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--test-freq", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-size", type=int, default=1000)
    parser.add_argument("--batch-time", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--batch-file", default="")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    true_y0 = torch.tensor([[2.0, 0.0]])
    t = torch.linspace(0.0, 25.0, args.data_size)
    true_a = torch.tensor([[-0.1, 2.0], [-2.0, -0.1]])

    class Lambda(nn.Module):
        def forward(self, t, y):
            return torch.mm(y**3, true_a)

    with torch.no_grad():
        true_y = odeint(Lambda(), true_y0, t, method="dopri5")

    starts = None
    if args.batch_file:
        starts = np.loadtxt(args.batch_file, dtype=np.int64, ndmin=2)
        if starts.shape[0] < args.niters or starts.shape[1] != args.batch_size:
            raise SystemExit("--batch-file {}: need {} lines of {} starts, got shape {}".format(
                args.batch_file, args.niters, args.batch_size, starts.shape))

    def get_batch(itr):
        if starts is not None:
            s = torch.from_numpy(starts[itr - 1])
        else:
            s = torch.from_numpy(
                np.random.choice(
                    np.arange(args.data_size - args.batch_time, dtype=np.int64),
                    args.batch_size,
                    replace=False,
                )
            )
        batch_y0 = true_y[s]
        batch_t = t[: args.batch_time]
        batch_y = torch.stack([true_y[s + i] for i in range(args.batch_time)], dim=0)
        return batch_y0, batch_t, batch_y

    class OdeFunc(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(2, 50), nn.Tanh(), nn.Linear(50, 2))
            for m in self.net.modules():
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, mean=0, std=0.1)
                    nn.init.constant_(m.bias, val=0)
            self.nfe = 0

        def forward(self, t, y):
            self.nfe += 1
            return self.net(y**3)

    func = OdeFunc()
    checksum = sum(p.detach().double().sum().item() for p in func.parameters())
    optimizer = torch.optim.RMSprop(func.parameters(), lr=1e-3)

    def test_loss():
        with torch.no_grad():
            pred_y = odeint(func, true_y0, t)
            return torch.mean(torch.abs(pred_y - true_y)).item()

    train_seconds = 0.0
    train_nfe = 0
    for itr in range(1, args.niters + 1):
        start = time.perf_counter()
        optimizer.zero_grad()
        batch_y0, batch_t, batch_y = get_batch(itr)
        nfe0 = func.nfe
        pred_y = odeint(func, batch_y0, batch_t)
        train_nfe += func.nfe - nfe0
        loss = torch.mean(torch.abs(pred_y - batch_y))
        loss.backward()
        optimizer.step()
        train_seconds += time.perf_counter() - start
        if args.test_freq > 0 and itr % args.test_freq == 0:
            print("Iter {:04d} | Total Loss {:.6f}".format(itr, test_loss()), flush=True)

    nfe0 = func.nfe
    final = test_loss()
    eval_nfe = func.nfe - nfe0
    ms = 1e3 * train_seconds / max(args.niters, 1)
    nfe = train_nfe / max(args.niters, 1)
    print(
        "torchdiffeq ode_demo: {} iterations, {} threads: {:.3f} ms/iteration, "
        "{:.1f} NFE per solve, final loss {:.6f}".format(args.niters, args.threads, ms, nfe, final)
    )
    print(
        "RESULT ms_per_iter={:.6f} nfe_per_solve={:.3f} final_loss={:.8f} iterations={} "
        "eval_nfe={} init_checksum={:.17g} torch={}".format(
            ms, nfe, final, args.niters, eval_nfe, checksum, torch.__version__
        )
    )


if __name__ == "__main__":
    main()
