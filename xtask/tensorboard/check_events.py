"""Reads a run directory's TensorBoard event file with TensorBoard's own reader and
checks it against the run's plain files. Run by `cargo xtask tensorboard --check`
(which installs the `tensorboard` package into target/tensorboard-venv first).

Checks, for one run directory:
- the scalars: one tag per column of metrics.csv except the step column (`epoch` or
  `step`, else the row index is the step), with the rows' values (as float32) at the
  rows' steps, in order;
- the histograms, when histograms.csv exists: one per (step, tag) of the CSV, with the
  same bucket counts, whose sum is `num`; `--histogram TAG=SIZE` also asks that every
  histogram of TAG counts SIZE values (the tensor's size);
- the graph, with `--graph-names a,b,...` (and `--graph-nodes N`): the named nodes
  among its (N) nodes, every input naming a node of the graph;
- with `--truncate`: a copy of the event file cut in the middle of its last record
  still loads, with every event but the last.

Prints one line per run and exits 1 with the reasons when a check fails.
"""

import argparse
import csv
import glob
import math
import os
import struct
import sys
import tempfile

from tensorboard.backend.event_processing import event_accumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

STEP_COLUMNS = ("epoch", "step")


def as_f32(value):
    """The float32 TensorBoard stores for `value`."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def same(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


def load(run_dir):
    """TensorBoard's EventAccumulator over the run directory, keeping every event."""
    accumulator = event_accumulator.EventAccumulator(
        run_dir, size_guidance=event_accumulator.STORE_EVERYTHING_SIZE_GUIDANCE
    )
    accumulator.Reload()
    return accumulator


def check_scalars(run_dir, accumulator, problems):
    path = os.path.join(run_dir, "metrics.csv")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    columns = list(rows[0].keys()) if rows else []
    step_column = next((c for c in columns if c in STEP_COLUMNS), None)
    tags = [c for c in columns if c != step_column]
    found = sorted(accumulator.Tags()["scalars"])
    if found != sorted(tags):
        problems.append(f"scalar tags {found} differ from metrics.csv columns {sorted(tags)}")
        return 0
    for tag in tags:
        events = accumulator.Scalars(tag)
        if len(events) != len(rows):
            problems.append(f"{tag}: {len(events)} events for {len(rows)} rows")
            continue
        for index, (event, row) in enumerate(zip(events, rows)):
            step = int(float(row[step_column])) if step_column else index
            value = as_f32(float(row[tag]))
            if event.step != step or not same(event.value, value):
                problems.append(
                    f"{tag}, row {index + 1}: event (step {event.step}, {event.value}) "
                    f"but metrics.csv has (step {step}, {value})"
                )
                break
    return len(tags) * len(rows)


def check_histograms(run_dir, accumulator, sizes, problems):
    path = os.path.join(run_dir, "histograms.csv")
    expected = {}
    if os.path.exists(path):
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                key = (row["tag"], int(row["step"]))
                expected.setdefault(key, []).append(int(row["count"]))
    found = accumulator.Tags()["histograms"]
    if sorted(found) != sorted({tag for tag, _ in expected}):
        problems.append(f"histogram tags {sorted(found)} differ from histograms.csv")
        return 0
    checked = 0
    for tag in found:
        for event in accumulator.Histograms(tag):
            h = event.histogram_value
            counts = [int(c) for c in h.bucket]
            if sum(counts) != int(h.num):
                problems.append(f"{tag} at step {event.step}: counts sum to {sum(counts)}, num is {h.num}")
            if counts != expected.get((tag, event.step)):
                problems.append(f"{tag} at step {event.step}: counts differ from histograms.csv")
            if tag in sizes and int(h.num) != sizes[tag]:
                problems.append(f"{tag} at step {event.step}: {int(h.num)} values, the tensor has {sizes[tag]}")
            checked += 1
    missing = set(sizes) - set(found)
    if missing:
        problems.append(f"no histogram for {sorted(missing)}")
    return checked


def check_graph(accumulator, count, names, problems):
    if not accumulator.Tags()["graph"]:
        problems.append("no graph in the event file")
        return
    graph = accumulator.Graph()
    found = [node.name for node in graph.node]
    if count is not None and len(found) != count:
        problems.append(f"the graph has {len(found)} nodes, expected {count}")
    missing = [n for n in names if n not in found]
    if missing:
        problems.append(f"the graph lacks nodes {missing}")
    dangling = [(n.name, i) for n in graph.node for i in n.input if i not in found]
    if dangling:
        problems.append(f"edges from unknown nodes: {dangling[:5]}")


def check_truncated(event_file, problems):
    """Cuts a copy in the middle of its last record: TensorBoard must still read the rest."""
    complete = sum(1 for _ in EventFileLoader(event_file).Load())
    with open(event_file, "rb") as f:
        data = f.read()
    # Find where the last record starts: walk the records by their lengths.
    at, last_start = 0, 0
    while at < len(data):
        (length,) = struct.unpack("<Q", data[at : at + 8])
        last_start, at = at, at + 8 + 4 + length + 4
    cut = last_start + (len(data) - last_start) // 2
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, os.path.basename(event_file))
        with open(copy, "wb") as f:
            f.write(data[:cut])
        read = sum(1 for _ in EventFileLoader(copy).Load())
    if read != complete - 1:
        problems.append(f"cut inside its last record, the file gave {read} events, expected {complete - 1}")
    return read, complete


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--histogram", action="append", default=[], metavar="TAG=SIZE")
    parser.add_argument("--graph-nodes", type=int)
    parser.add_argument("--graph-names", default="")
    parser.add_argument("--truncate", action="store_true")
    args = parser.parse_args()

    problems = []
    files = glob.glob(os.path.join(args.run_dir, "events.out.tfevents.*"))
    if len(files) != 1:
        sys.exit(f"{args.run_dir}: expected one event file, found {len(files)}")
    accumulator = load(args.run_dir)
    notes = []
    if os.path.exists(os.path.join(args.run_dir, "metrics.csv")):
        notes.append(f"{check_scalars(args.run_dir, accumulator, problems)} scalar values")
    sizes = {}
    for item in args.histogram:
        tag, size = item.rsplit("=", 1)
        sizes[tag] = int(size)
    histograms = check_histograms(args.run_dir, accumulator, sizes, problems)
    if histograms:
        notes.append(f"{histograms} histograms")
    names = [n for n in args.graph_names.split(",") if n]
    if names or args.graph_nodes is not None:
        check_graph(accumulator, args.graph_nodes, names, problems)
        notes.append(f"a graph with {', '.join(names)}")
    if args.truncate:
        read, complete = check_truncated(files[0], problems)
        notes.append(f"cut mid-record: {read} of {complete} events read")

    name = os.path.basename(os.path.normpath(args.run_dir))
    if problems:
        for problem in problems:
            print(f"tensorboard check: {name}: {problem}", file=sys.stderr)
        sys.exit(1)
    print(f"tensorboard check: {name}: TensorBoard {tb_version()} read {', '.join(notes) or 'the file'}")


def tb_version():
    import tensorboard

    return tensorboard.__version__


if __name__ == "__main__":
    main()
