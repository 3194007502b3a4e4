#!/usr/bin/env python3
"""onnxruntime forward-pass timing, the peer of `vigil-bench forward`.

Same model file and same input (the golden preprocessed image repeated B times). Two modes:
- default: prints one line per batch size, `ort batch=B median_ms=M` (median of --runs after --warmup);
- --serve: prints `ready`, then for each stdin line `B N` runs batch B N times and prints
  `ort batch=B times_ms=t1,t2,...`, so a caller can interleave its own runs with these (the machine's speed
  drifts over seconds; alternating short blocks exposes both engines to the same drift).
"""
import argparse, statistics, sys, time
import numpy as np
import onnxruntime as ort

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--input", required=True, help="float32 file holding one item of the model input (e.g. [1,3,224,224])")
p.add_argument("--batches", default="1,16")
p.add_argument("--runs", type=int, default=20)
p.add_argument("--warmup", type=int, default=3)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--serve", action="store_true", help="take `BATCH RUNS` lines on stdin (see above)")
a = p.parse_args()
so = ort.SessionOptions()
so.intra_op_num_threads = a.threads
so.inter_op_num_threads = 1
s = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
name = s.get_inputs()[0].name
x1 = np.fromfile(a.input, dtype=np.float32).reshape([1] + list(s.get_inputs()[0].shape[1:]))


def timed(b, runs, warmup):
    x = np.repeat(x1, b, axis=0)
    for _ in range(warmup):
        s.run(None, {name: x})
    times = []
    for _ in range(runs):
        t = time.perf_counter(); s.run(None, {name: x}); times.append((time.perf_counter() - t) * 1000)
    return times


if a.serve:
    print("ready", flush=True)
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 2:
            continue
        b, runs = int(parts[0]), int(parts[1])
        times = timed(b, runs, 1)
        print(f"ort batch={b} times_ms={','.join(f'{t:.4f}' for t in times)}", flush=True)
else:
    for b in [int(v) for v in a.batches.split(",")]:
        print(f"ort batch={b} median_ms={statistics.median(timed(b, a.runs, a.warmup)):.3f}", flush=True)
