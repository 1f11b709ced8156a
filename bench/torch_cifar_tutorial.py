# PyTorch's "Training a Classifier" tutorial (beginner_source/blitz/
# cifar10_tutorial.py), its training and test loops as written, run on the
# CIFAR-10 copy convkit decoded (its cache of binary records: a label byte,
# then the red, green and blue planes), so that examples/ports/
# pytorch-cifar10-tutorial.mjs can be compared with it on the same images and
# the same machine. torchvision is not needed: the records are read with numpy.
#   ../torch-venv/bin/python bench/torch_cifar_tutorial.py ~/.cache/convkit/cifar10/<key> [--threads 2]
import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

parser = argparse.ArgumentParser()
parser.add_argument("cache", help="a folder with train.bin and test.bin (convkit's CIFAR-10 cache)")
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)


def load(path):
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 3073)
    images = raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255
    # transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    return torch.from_numpy((images - 0.5) / 0.5), torch.from_numpy(raw[:, 0].astype(np.int64))


train_x, train_y = load(f"{args.cache}/train.bin")
test_x, test_y = load(f"{args.cache}/test.bin")
trainset = torch.utils.data.TensorDataset(train_x, train_y)
testset = torch.utils.data.TensorDataset(test_x, test_y)
trainloader = torch.utils.data.DataLoader(trainset, batch_size=4, shuffle=True)
testloader = torch.utils.data.DataLoader(testset, batch_size=4, shuffle=False)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


net = Net()
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
started = time.perf_counter()
for epoch in range(2):
    running_loss = 0.0
    for i, (inputs, labels) in enumerate(trainloader, 0):
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 2000 == 1999:
            print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 2000:.3f}")
            running_loss = 0.0
train_seconds = time.perf_counter() - started
correct = 0
total = 0
with torch.no_grad():
    for images, labels in testloader:
        _, predicted = torch.max(net(images), 1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()
print(f"Accuracy of the network on the {total} test images: {100 * correct // total} %")
print(json.dumps({"torch": torch.__version__, "threads": args.threads, "train_seconds": round(train_seconds, 2), "accuracy": correct / total}))
