# PyTorch's numbers for the losses of value targets and for RMSprop, written
# to test/fixtures/torch/loss-goldens.json for test/train/targets.test.ts:
#   - CrossEntropyLoss with probability targets (one-hot and soft, with and
#     without label smoothing), BCEWithLogitsLoss over several outputs,
#     MSELoss, L1Loss, HuberLoss: the loss and its gradient by the input;
#   - five RMSprop steps (plain, with momentum, centered) from fixed
#     gradients. torch adds eps after the root where Keras adds it under it,
#     so eps is 0 here and tiny on convkit's side.
# Run with PyTorch 2.x (see ../shared/anchors/README.md for the wheel):
#   ../torch-venv/bin/python scripts/make-loss-goldens.py
import json
import os

import torch

torch.manual_seed(20261207)
torch.set_default_dtype(torch.float32)


def flat(t):
    return t.detach().reshape(-1).tolist()


def loss_case(name, fn, x, t, **extra):
    x = x.clone().requires_grad_(True)
    value = fn(x, t)
    value.backward()
    return {"name": name, "shape": list(x.shape), "input": flat(x), "targets": flat(t), "loss": value.item(), "grad": flat(x.grad), **extra}


n, k = 6, 5
logits = torch.randn(n, k) * 2
onehot = torch.nn.functional.one_hot(torch.randint(0, k, (n,)), k).float()
soft = torch.softmax(torch.randn(n, k), dim=1)
multi = (torch.rand(n, k) > 0.5).float()
values = torch.randn(n, k) * 1.5
cases = [
    loss_case("categoricalCrossentropy", torch.nn.CrossEntropyLoss(), logits, onehot),
    loss_case("categoricalCrossentropy", torch.nn.CrossEntropyLoss(), logits, soft),
    loss_case("categoricalCrossentropy", torch.nn.CrossEntropyLoss(label_smoothing=0.1), logits, onehot, labelSmoothing=0.1),
    loss_case("binaryCrossentropy", torch.nn.BCEWithLogitsLoss(), logits, multi),
    loss_case("meanSquaredError", torch.nn.MSELoss(), logits, values),
    loss_case("meanAbsoluteError", torch.nn.L1Loss(), logits, values),
    loss_case("huber", torch.nn.HuberLoss(delta=1.0), logits, values, delta=1.0),
    loss_case("huber", torch.nn.HuberLoss(delta=0.5), logits, values, delta=0.5),
]

rmsprop = []
start = torch.randn(40)
grads = [torch.randn(40) for _ in range(5)]
for options in [{"alpha": 0.9}, {"alpha": 0.9, "momentum": 0.5}, {"alpha": 0.8, "centered": True, "momentum": 0.3}]:
    p = torch.nn.Parameter(start.clone())
    opt = torch.optim.RMSprop([p], lr=0.01, eps=0, **options)
    for g in grads:
        p.grad = g.clone()
        opt.step()
    rmsprop.append({"options": options, "start": flat(start), "grads": [flat(g) for g in grads], "after": flat(p)})

out = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "torch", "loss-goldens.json")
with open(out, "w") as f:
    json.dump({"torch": torch.__version__, "losses": cases, "rmsprop": rmsprop}, f)
print("wrote", out)
