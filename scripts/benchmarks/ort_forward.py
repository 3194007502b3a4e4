#!/usr/bin/env python3
"""onnxruntime forward-pass timing, the peer of `vigil-bench forward`.

Prints one line per batch size: `ort batch=B median_ms=M` (median of --runs after --warmup), using the same
model file and the same input (the golden preprocessed image repeated B times).
"""
import argparse, statistics, time
import numpy as np
import onnxruntime as ort

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--input", required=True, help="float32 NCHW [1,3,224,224] file")
p.add_argument("--batches", default="1,16")
p.add_argument("--runs", type=int, default=20)
p.add_argument("--warmup", type=int, default=3)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
so = ort.SessionOptions()
so.intra_op_num_threads = a.threads
so.inter_op_num_threads = 1
s = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
name = s.get_inputs()[0].name
x1 = np.fromfile(a.input, dtype=np.float32).reshape(1, 3, 224, 224)
for b in [int(v) for v in a.batches.split(",")]:
    x = np.repeat(x1, b, axis=0)
    for _ in range(a.warmup):
        s.run(None, {name: x})
    times = []
    for _ in range(a.runs):
        t = time.perf_counter(); s.run(None, {name: x}); times.append((time.perf_counter() - t) * 1000)
    print(f"ort batch={b} median_ms={statistics.median(times):.3f}", flush=True)
