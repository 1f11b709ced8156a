# PyTorch's numbers for the graph layers, written to
# test/fixtures/torch/graph-goldens.json for test/train/torch-goldens.test.ts:
#   - conv -> BatchNorm2d -> ReLU in training mode: the output, the gradients
#     of sum(out * r) (input, conv weight, gamma, beta) and the running
#     statistics after that step; then the same block in eval mode;
#   - a basic residual block (conv-BN-ReLU-conv-BN, added to its input, ReLU);
#   - two conv branches concatenated on the channels.
# Arrays are stored in convkit's layouts (NHWC activations, HWIO kernels).
# Run with PyTorch 2.x (see ../shared/anchors/README.md for the wheel):
#   ../torch-venv/bin/python scripts/make-torch-goldens.py
import json
import os

import torch

torch.manual_seed(20261207)
torch.set_default_dtype(torch.float32)


def nhwc(t):
    return t.detach().permute(0, 2, 3, 1).contiguous().reshape(-1).tolist()


def hwio(w):
    return w.detach().permute(2, 3, 1, 0).contiguous().reshape(-1).tolist()


def flat(t):
    return t.detach().reshape(-1).tolist()


def conv(cin, cout):
    c = torch.nn.Conv2d(cin, cout, 3, padding=1, bias=False)
    torch.nn.init.uniform_(c.weight, -0.5, 0.5)
    return c


def bn(c):
    b = torch.nn.BatchNorm2d(c, momentum=0.1, eps=1e-5)
    torch.nn.init.uniform_(b.weight, 0.5, 1.5)
    torch.nn.init.uniform_(b.bias, -0.5, 0.5)
    return b


def run(module, x, named):
    """Training-mode forward and backward, then eval-mode forward; every array in convkit's layout."""
    x = x.clone().requires_grad_(True)
    module.train()
    y = module(x)
    r = torch.rand_like(y) * 2 - 1
    (y * r).sum().backward()
    out = {"x": nhwc(x), "shape": list(x.permute(0, 2, 3, 1).shape), "r": nhwc(r), "train": nhwc(y), "dx": nhwc(x.grad)}
    for name, layer in named.items():
        if isinstance(layer, torch.nn.Conv2d):
            out[name] = {"weight": hwio(layer.weight), "dweight": hwio(layer.weight.grad)}
        else:
            out[name] = {
                "gamma": flat(layer.weight), "beta": flat(layer.bias),
                "dgamma": flat(layer.weight.grad), "dbeta": flat(layer.bias.grad),
                "running_mean": flat(layer.running_mean), "running_var": flat(layer.running_var),
            }
    module.eval()
    with torch.no_grad():
        out["eval"] = nhwc(module(x))
    return out


class Block(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1, self.b1, self.c2, self.b2 = conv(c, c), bn(c), conv(c, c), bn(c)

    def forward(self, x):
        y = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
        return torch.relu(x + y)


class Branches(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = conv(3, 2), conv(3, 4)

    def forward(self, x):
        return torch.cat([self.a(x), torch.relu(self.b(x))], dim=1)


goldens = {}
c, b = conv(3, 4), bn(4)
seq = torch.nn.Sequential(c, b, torch.nn.ReLU())
goldens["conv_bn_relu"] = run(seq, torch.randn(4, 3, 5, 6) * 2 + 0.5, {"conv": c, "bn": b})
block = Block(4)
goldens["residual_block"] = run(block, torch.randn(3, 4, 6, 5), {"c1": block.c1, "b1": block.b1, "c2": block.c2, "b2": block.b2})
branches = Branches()
goldens["concatenate"] = run(branches, torch.randn(2, 3, 4, 4), {"a": branches.a, "b": branches.b})
goldens["torch"] = torch.__version__

path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "torch", "graph-goldens.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump(goldens, f)
print(f"wrote {path} (PyTorch {torch.__version__})")
