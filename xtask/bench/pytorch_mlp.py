"""PyTorch side of `cargo xtask bench --vs-pytorch`.

Runs the same two workloads as our `mlp` bench binary, the same way: MNIST held in
memory as float32 tensors in [0, 1], one example per row, a shuffled epoch of
minibatches (forward, cross-entropy, backward, SGD step) followed by evaluation of
the 10,000 test images. Prints one JSON object per line:
{"workload": ..., "seconds": [...], "torch": ..., "threads": ...}.
"""

import argparse
import json
import os
import time

import numpy as np
import torch
from torch import nn


def read_idx(path, header):
    with open(path, "rb") as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8, offset=header)


def load(data_dir):
    def images(name):
        return torch.from_numpy(read_idx(os.path.join(data_dir, name), 16).reshape(-1, 784).astype(np.float32) / 255.0)

    def labels(name):
        return torch.from_numpy(read_idx(os.path.join(data_dir, name), 8).astype(np.int64))

    return (
        images("train-images-idx3-ubyte"),
        labels("train-labels-idx1-ubyte"),
        images("t10k-images-idx3-ubyte"),
        labels("t10k-labels-idx1-ubyte"),
    )


# name -> (layer sizes, batch size, learning rate, momentum); must match the
# workloads in crates/mlp/src/bin/bench.rs.
WORKLOADS = {
    "W1": ([784, 256, 10], 256, 0.05, 0.9),
    "W2": ([784, 200, 200, 10], 200, 0.01, 0.0),
}


def network(sizes):
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        linear = nn.Linear(fan_in, fan_out)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i + 2 < len(sizes):
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def epoch(model, optimizer, loss_fn, x, y, x_test, y_test, batch, generator):
    model.train()
    order = torch.randperm(x.shape[0], generator=generator)
    for start in range(0, x.shape[0], batch):
        idx = order[start : start + batch]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        optimizer.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, x_test.shape[0], 1000):
            logits = model(x_test[start : start + 1000])
            correct += int((logits.argmax(1) == y_test[start : start + 1000]).sum())
    return correct / x_test.shape[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="directory holding the four MNIST IDX files")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x, y, x_test, y_test = load(args.data)
    for name, (sizes, batch, lr, momentum) in WORKLOADS.items():
        model = network(sizes)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        loss_fn = nn.CrossEntropyLoss()
        generator = torch.Generator().manual_seed(0)
        seconds = []
        accuracy = 0.0
        for i in range(args.warmup + args.repeats):
            start = time.perf_counter()
            accuracy = epoch(model, optimizer, loss_fn, x, y, x_test, y_test, batch, generator)
            if i >= args.warmup:
                seconds.append(time.perf_counter() - start)
        print(json.dumps({
            "workload": name,
            "seconds": seconds,
            "accuracy": accuracy,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        }), flush=True)


if __name__ == "__main__":
    main()
