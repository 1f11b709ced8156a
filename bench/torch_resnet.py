"""PyTorch's ResNet-20 (He et al. 2016, section 4.2, option-A shortcuts), the
network of convkit's zoo 'resnet-20', timed as bench/cifar.mjs times convkit:
a training step (SGD with momentum, cross-entropy) cycling through 8 synthetic
CIFAR-sized batches, and inference, at each batch size, NCHW and
channels_last. Usage: PYTHON bench/torch_resnet.py THREADS BATCH[,BATCH...] > out.json
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
BATCHES = [int(b) for b in (sys.argv[2] if len(sys.argv) > 2 else "32,128").split(",")]
torch.set_num_threads(THREADS)
torch.set_num_interop_threads(1)
torch.manual_seed(0)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.pad = (cout - cin) // 2 if stride != 1 or cin != cout else None
        self.stride = stride

    def forward(self, x):
        y = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        s = x if self.pad is None else F.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(s + y)


def resnet(depth=20):
    n = (depth - 2) // 6
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for stage, cout in enumerate((16, 32, 64)):
        for b in range(n):
            layers.append(Block(cin, cout, 2 if stage > 0 and b == 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def timed(fn, imgs_per_call, reps=5, target_s=1.0, warm=3):
    for _ in range(warm):
        fn()
    t0 = time.perf_counter()
    fn()
    dt = time.perf_counter() - t0
    inner = max(2, int(target_s / max(dt, 1e-6)))
    res = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        res.append(imgs_per_call * inner / (time.perf_counter() - t0))
    return {"median": round(statistics.median(res), 1), "min": round(min(res), 1), "max": round(max(res), 1), "reps": reps, "calls_per_rep": inner}


def layout(x, cl):
    return x.contiguous(memory_format=torch.channels_last) if cl else x


out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "train": [], "infer": []}
for cl in (False, True):
    for batch in BATCHES:
        model = resnet().to(memory_format=torch.channels_last) if cl else resnet()
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        xs = [layout(torch.rand(batch, 3, 32, 32), cl) for _ in range(8)]
        ys = [torch.randint(0, 10, (batch,)) for _ in range(8)]
        state = {"i": 0}

        def step():
            i = state["i"] = (state["i"] + 1) % 8
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(xs[i]), ys[i]).backward()
            opt.step()

        model.train()
        rec = {"net": "resnet-20", "batch": batch, "channels_last": cl, "img_per_s": timed(step, batch)}
        out["train"].append(rec)
        print(json.dumps(rec), file=sys.stderr, flush=True)
        model.eval()

        def infer():
            with torch.no_grad():
                model(xs[0])

        rec = {"net": "resnet-20", "batch": batch, "channels_last": cl, "img_per_s": timed(infer, batch)}
        out["infer"].append(rec)
        print(json.dumps(rec), file=sys.stderr, flush=True)
print(json.dumps(out, indent=1))
