"""Reads a run directory's TensorBoard event file with TensorBoard's own reader and
checks it against the run's plain files. Run by `cargo xtask tensorboard --check`
(which installs the `tensorboard` package into target/tensorboard-venv first).

Checks, for one run directory:
- the scalars: one tag per column of metrics.csv except the step column (the first
  column, when its first value is a whole number >= 0; else the row's position is the
  step), with the rows' values (as float32) at the rows' steps, in order, the steps
  of every tag strictly increasing (TensorBoard's data server drops earlier points
  when a step repeats). With `--run-columns seed,...` the table holds several runs:
  each run's rows are read from its own subdirectory (`seed0`, ...), named as
  dlcore's `record::sub_run_name` names it;
- the histograms, when histograms.csv exists: one per (step, tag) of the CSV, with the
  same bucket counts and upper edges, the counts summing to `num`; `--histogram
  TAG=SIZE` also asks that every histogram of TAG counts SIZE values (the tensor's
  size);
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


def is_step(value):
    return value >= 0 and float(value).is_integer()


def sub_run_name(labels):
    """The subdirectory of a run labelled [("seed", 0.0)], as dlcore names it."""
    text = "_".join(f"{name}{int(v) if float(v).is_integer() else v}" for name, v in labels)
    return "".join(c if c.isascii() and (c.isalnum() or c in "-.") else "_" for c in text)


def check_scalars(run_dir, run_columns, problems):
    """Compares the scalars of the run (or of each labelled run) with metrics.csv;
    returns how many values it compared."""
    with open(os.path.join(run_dir, "metrics.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return 0
    columns = [c for c in rows[0].keys() if c not in run_columns]
    first_is_step = is_step(float(rows[0][columns[0]]))
    tags = columns[1:] if first_is_step else columns
    runs = {}
    for row in rows:
        labels = tuple((c, float(row[c])) for c in run_columns)
        runs.setdefault(labels, []).append(row)
    checked = 0
    for labels, run_rows in runs.items():
        directory = os.path.join(run_dir, sub_run_name(labels)) if labels else run_dir
        accumulator = load(directory)
        where = f"{sub_run_name(labels)}: " if labels else ""
        found = sorted(accumulator.Tags()["scalars"])
        if found != sorted(tags):
            problems.append(f"{where}scalar tags {found} differ from metrics.csv columns {sorted(tags)}")
            continue
        for tag in tags:
            events = accumulator.Scalars(tag)
            if len(events) != len(run_rows):
                problems.append(f"{where}{tag}: {len(events)} events for {len(run_rows)} rows")
                continue
            steps = [e.step for e in events]
            if any(b <= a for a, b in zip(steps, steps[1:])):
                problems.append(f"{where}{tag}: steps {steps[:8]}... do not strictly increase")
            for index, (event, row) in enumerate(zip(events, run_rows)):
                first = float(row[columns[0]])
                step = int(first) if first_is_step and is_step(first) else index
                value = as_f32(float(row[tag]))
                if event.step != step or not same(event.value, value):
                    problems.append(
                        f"{where}{tag}, row {index + 1}: event (step {event.step}, {event.value}) "
                        f"but metrics.csv has (step {step}, {value})"
                    )
                    break
            checked += len(run_rows)
    return checked


def check_histograms(run_dir, accumulator, sizes, problems):
    path = os.path.join(run_dir, "histograms.csv")
    expected = {}
    if os.path.exists(path):
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                key = (row["tag"], int(row["step"]))
                expected.setdefault(key, []).append((int(row["count"]), as_f32(float(row["bin_end"]))))
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
            bins = expected.get((tag, event.step), [])
            if counts != [count for count, _ in bins]:
                problems.append(f"{tag} at step {event.step}: counts differ from histograms.csv")
            if [as_f32(limit) for limit in h.bucket_limit] != [end for _, end in bins]:
                problems.append(f"{tag} at step {event.step}: bucket edges differ from histograms.csv")
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
    parser.add_argument("--run-columns", default="", help="metrics.csv columns that label runs")
    args = parser.parse_args()

    problems = []
    run_columns = [c for c in args.run_columns.split(",") if c]
    files = glob.glob(os.path.join(args.run_dir, "events.out.tfevents.*"))
    # A table of labelled runs may leave nothing to the run as a whole.
    if len(files) > 1 or (not files and not run_columns):
        sys.exit(f"{args.run_dir}: expected one event file, found {len(files)}")
    accumulator = load(args.run_dir)
    notes = []
    if os.path.exists(os.path.join(args.run_dir, "metrics.csv")):
        values = check_scalars(args.run_dir, run_columns, problems)
        labelled = f" in runs labelled by {', '.join(run_columns)}" if run_columns else ""
        notes.append(f"{values} scalar values{labelled}")
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
