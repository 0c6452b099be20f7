# The PyTorch side of test_online_training_python (Debian's python3-torch):
#   export DIR: writes DIR/mlp.pt, a scripted MLP 3 -> 8 -> 2 in float64
#   check DIR:  loads DIR/trained.pt (saved by the C API's trainer) with torch.jit.load and
#               compares its outputs with those the C host wrote to DIR/outputs.txt
import sys
import warnings

warnings.filterwarnings("ignore")
import torch  # noqa: E402

mode, folder = sys.argv[1], sys.argv[2]
if mode == "export":
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    torch.jit.script(net.double()).save(folder + "/mlp.pt")
else:
    rows = [[float(v) for v in line.split()] for line in open(folder + "/outputs.txt")]
    x = torch.tensor([r[:3] for r in rows], dtype=torch.float64)
    expected = torch.tensor([r[3:] for r in rows], dtype=torch.float64)
    trained = torch.jit.load(folder + "/trained.pt")
    start = torch.jit.load(folder + "/mlp.pt")
    with torch.no_grad():
        got = trained(x)
        before = start(x)
    error = (got - expected).abs().max().item()
    moved = (before - expected).abs().max().item()
    print(f"PyTorch's output of trained.pt against the C host's: max difference {error:.3g} "
          f"(the untrained model's: {moved:.3g}); eval mode: {not trained.training}")
    if error > 1e-12 or moved < 1e-3 or trained.training:
        sys.exit(1)
