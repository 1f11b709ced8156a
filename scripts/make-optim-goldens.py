# PyTorch's numbers for the optimizers and schedules of issue 31, written to
# test/fixtures/torch/optim-goldens.json for test/train/optim-torch.test.ts:
#   - 20 steps of SGD (Nesterov, weight decay), AdamW, Adagrad and Adam with
#     clip_grad_norm_ / clip_grad_value_, from fixed weights and gradients;
#   - the learning rate of 20 steps under StepLR, ExponentialLR,
#     CosineAnnealingLR, OneCycleLR (cycle_momentum off) and
#     ReduceLROnPlateau (threshold_mode 'abs', no cooldown: Keras and torch
#     count a cooldown differently) on a fixed metric sequence;
#   - CrossEntropyLoss(label_smoothing) on class indices.
# Run with PyTorch 2.x (see ../shared/anchors/README.md for the wheel):
#   ../torch-venv/bin/python scripts/make-optim-goldens.py
import json
import os

import torch

torch.manual_seed(31)
torch.set_default_dtype(torch.float32)

flat = lambda t: t.detach().reshape(-1).tolist()
start = torch.randn(48)
grads = [torch.randn(48) * (1 + i % 3) for i in range(20)]


def run(make, clip=None):
    p = torch.nn.Parameter(start.clone())
    opt = make([p])
    for g in grads:
        p.grad = g.clone()
        if clip and clip[0] == "norm":
            torch.nn.utils.clip_grad_norm_([p], clip[1])
        if clip and clip[0] == "value":
            torch.nn.utils.clip_grad_value_([p], clip[1])
        opt.step()
    return flat(p)


optimizers = [
    {"name": "sgd-nesterov", "convkit": {"kind": "sgd", "learningRate": 0.05, "momentum": 0.9, "nesterov": True, "weightDecay": 1e-3},
     "after": run(lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3))},
    {"name": "adamw", "convkit": {"kind": "adamw", "learningRate": 0.01, "weightDecay": 0.05},
     "after": run(lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.05))},
    {"name": "adagrad", "convkit": {"kind": "adagrad", "learningRate": 0.1, "lrDecay": 0.01, "weightDecay": 1e-3, "initialAccumulatorValue": 0.1},
     "after": run(lambda ps: torch.optim.Adagrad(ps, lr=0.1, lr_decay=0.01, weight_decay=1e-3, initial_accumulator_value=0.1))},
    {"name": "adam-clipnorm", "convkit": {"kind": "adam", "learningRate": 0.01, "clipNorm": 2.0},
     "after": run(lambda ps: torch.optim.Adam(ps, lr=0.01), ("norm", 2.0))},
    {"name": "sgd-clipvalue", "convkit": {"kind": "sgd", "learningRate": 0.05, "momentum": 0.5, "clipValue": 0.7},
     "after": run(lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.5), ("value", 0.7))},
]


def rates(make, metrics=None, lr=0.1):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr)
    sched = make(opt)
    out = []
    for i in range(20):
        out.append(opt.param_groups[0]["lr"])
        p.grad = torch.zeros(1)
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
    return out


plateau_metrics = [1.0, 0.9, 0.85, 0.85, 0.86, 0.849, 0.9, 0.95, 0.84, 0.84, 0.84, 0.84, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
schedules = [
    {"name": "stepDecay", "convkit": {"kind": "stepDecay", "every": 6, "factor": 0.5}, "rates": rates(lambda o: torch.optim.lr_scheduler.StepLR(o, 6, 0.5))},
    {"name": "exponentialDecay", "convkit": {"kind": "exponentialDecay", "decaySteps": 1, "decayRate": 0.9, "staircase": True}, "rates": rates(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9))},
    {"name": "cosineDecay", "convkit": {"kind": "cosineDecay", "decaySteps": 20, "alpha": 0.1, "warmupSteps": 0}, "rates": rates(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 20, eta_min=0.01))},
    {"name": "oneCycle", "convkit": {"kind": "oneCycle", "totalSteps": 20, "pctStart": 0.3, "divFactor": 25, "finalDivFactor": 1e4},
     "rates": rates(lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=20, cycle_momentum=False))},
]
plateau = {"metrics": plateau_metrics, "options": {"factor": 0.5, "patience": 2, "minDelta": 0.01, "cooldown": 0, "minLr": 0.01},
           "rates": rates(lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=2, threshold=0.01, threshold_mode="abs", cooldown=0, min_lr=0.01), plateau_metrics)}

logits = torch.randn(7, 5) * 2
labels = torch.randint(0, 5, (7,))
x = logits.clone().requires_grad_(True)
smoothed = torch.nn.CrossEntropyLoss(label_smoothing=0.2)(x, labels)
smoothed.backward()

out = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "torch", "optim-goldens.json")
with open(out, "w") as f:
    json.dump({"torch": torch.__version__, "start": flat(start), "grads": [flat(g) for g in grads], "optimizers": optimizers, "schedules": schedules, "plateau": plateau,
               "labelSmoothing": {"epsilon": 0.2, "logits": flat(logits), "labels": labels.tolist(), "loss": smoothed.item(), "grad": flat(x.grad)}}, f)
print("wrote", out)
