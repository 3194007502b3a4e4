"""Shared code for Vigil's Python benchmark peers (peer_torch.py, peer_ort.py).

Both peers do the same work as `vigil analyze`, frame by frame, on one thread of control (the model
runtimes use --threads intra-op threads):

  PyAV decode (rgb24) -> preprocessing per the model card (square centre crop of side
  floor(cropFraction * min(H, W)) at offsets ((H-c)+1)//2, ((W-c)+1)//2; bicubic resize to the input
  size; (x - mean) / std; NCHW float32) -> clean forward (top-5, softmax) -> occlusion: K seeded square
  patches filled with 0 in normalised space (pixel == mean), all K occluded copies in ONE batch ->
  retention = share of patches whose top-1 equals the clean top-1 -> Grad-CAM for the clean top-1 at the
  card's CAM layer, upsampled onto the crop region of the frame -> overlay (JET, alpha 0.4, caption)
  -> PyAV H.264 encode -> JSON summary.

Patch generator (must equal Vigil's bit for bit): SplitMix64 seeded per frame, see `patches()`.

fps is frames / wall time from opening the clip to closing the output (model loading and one
untimed warm-up excluded). The last line printed is `fps=<fps> frames=<n>`.
"""
import argparse
import json
import math
import os
import platform
import sys
import time

import av
import cv2
import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_CARD = os.path.join(ROOT, "Fixtures/models/efficientnet_lite0.card.json")

MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
FRAME_STRIDE = 0xD1B54A32D192ED03


# ----------------------------------------------------------------------------------------------------------
class SplitMix64:
    def __init__(self, state):
        self.state = state & MASK64

    def next(self):
        self.state = (self.state + GOLDEN_GAMMA) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)


def patches(seed, frame_index, k, n, lo, hi):
    """K squares (x, y, side) in model-input coordinates (n x n) for source frame `frame_index` (0-based).
    state0 = seed + frame_index * 0xD1B54A32D192ED03 (mod 2^64); per patch: u = (next >> 11) * 2^-53,
    side = round(n * (lo + (hi - lo) * u)) (halves away from zero) clamped to [1, n],
    x = next % (n - side + 1), y = next % (n - side + 1)."""
    g = SplitMix64((seed + frame_index * FRAME_STRIDE) & MASK64)
    out = []
    for _ in range(k):
        u = (g.next() >> 11) * (2.0 ** -53)
        side = int(math.floor(n * (lo + (hi - lo) * u) + 0.5))
        side = min(max(side, 1), n)
        x = g.next() % (n - side + 1)
        y = g.next() % (n - side + 1)
        out.append((int(x), int(y), side))
    return out


# ----------------------------------------------------------------------------------------------------------
def build_parser(name):
    p = argparse.ArgumentParser(description=f"Vigil benchmark peer: {name}")
    p.add_argument("--clip", required=True, help="input video (any container/codec FFmpeg reads)")
    p.add_argument("--seconds", type=float, default=20.0, help="analyse the first S seconds (0 = all)")
    p.add_argument("--patches", type=int, default=16, help="K occlusion patches per frame")
    p.add_argument("--patch-size", default="0.25",
                   help="patch side as a fraction of the input side: F, or A,B for a range")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output directory (overlay.mp4, summary.json)")
    p.add_argument("--threads", type=int, default=2, help="intra-op threads of the model runtime")
    p.add_argument("--card", default=DEFAULT_CARD, help="model card JSON (model path relative to it)")
    p.add_argument("--codec", default="libx264")
    p.add_argument("--quiet", action="store_true")
    return p


def patch_range(s):
    parts = [float(v) for v in s.split(",")]
    lo, hi = (parts[0], parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    if not (0 < lo <= hi <= 1):
        sys.exit(f"--patch-size {s}: need 0 < A <= B <= 1")
    return lo, hi


class Card:
    def __init__(self, path):
        with open(path) as f:
            c = json.load(f)
        base = os.path.dirname(os.path.abspath(path))
        self.raw = c
        self.model = os.path.join(base, c["model"])
        self.input, self.output, self.cam_layer = c["input"], c["output"], c["camLayer"]
        self.size = int(c["inputSize"][0])
        assert c["inputSize"][0] == c["inputSize"][1], "square inputs only"
        assert c["resize"]["policy"] == "center-crop" and c["resize"]["filter"] == "bicubic"
        assert c["channelOrder"] == "RGB" and c["layout"] == "NCHW"
        self.crop_fraction = float(c["resize"]["cropFraction"])
        self.mean = np.asarray(c["mean"], np.float32).reshape(3, 1, 1)
        self.std = np.asarray(c["std"], np.float32).reshape(3, 1, 1)
        with open(os.path.join(base, c["labels"])) as f:
            self.labels = [line.rstrip("\n") for line in f]

    def crop_box(self, h, w):
        c = int(math.floor(self.crop_fraction * min(h, w)))
        return ((w - c) + 1) // 2, ((h - c) + 1) // 2, c          # x0, y0, side

    def preprocess(self, rgb):
        """HxWx3 uint8 -> [1,3,S,S] float32 and the crop box in frame coordinates."""
        h, w = rgb.shape[:2]
        x0, y0, c = self.crop_box(h, w)
        crop = Image.fromarray(rgb[y0:y0 + c, x0:x0 + c])
        small = np.asarray(crop.resize((self.size, self.size), Image.BICUBIC), np.float32)
        x = (small.transpose(2, 0, 1) - self.mean) / self.std
        return np.ascontiguousarray(x[None]), (x0, y0, c)


def occluded_batch(x, boxes):
    """[1,3,S,S] -> [K,3,S,S] copies with each box set to 0 (normalised space: pixel == mean)."""
    b = np.repeat(x, len(boxes), axis=0)
    for i, (px, py, s) in enumerate(boxes):
        b[i, :, py:py + s, px:px + s] = 0.0
    return b


def softmax(z):
    z = z.astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def overlay(rgb, cam, box, caption):
    """Blend a JET heat map of `cam` (any size, values in [0,1]) over the crop region `box` of the frame
    (alpha 0.4), and write the caption."""
    x0, y0, c = box
    heat = cv2.resize(cam.astype(np.float32), (c, c), interpolation=cv2.INTER_LINEAR)
    heat = cv2.applyColorMap(np.uint8(np.clip(heat, 0, 1) * 255), cv2.COLORMAP_JET)
    heat = cv2.cvtColor(heat, cv2.COLOR_BGR2RGB)
    vis = rgb.copy()
    region = vis[y0:y0 + c, x0:x0 + c]
    vis[y0:y0 + c, x0:x0 + c] = cv2.addWeighted(region, 0.6, heat, 0.4, 0.0)
    h = rgb.shape[0]
    scale = max(0.45, h / 720.0)
    y = int(26 * scale) + 6
    for line in caption:
        cv2.putText(vis, line, (8, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(vis, line, (8, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
        y += int(28 * scale) + 4
    return vis


# ----------------------------------------------------------------------------------------------------------
def run(args, engine, card, info):
    """engine.analyse(x) -> (clean logits [1000], cam [h,w] in [0,1] for the clean top-1)
       engine.occlude(batch) -> logits [K,1000]"""
    lo, hi = patch_range(args.patch_size)
    os.makedirs(args.out, exist_ok=True)
    out_video = os.path.join(args.out, "overlay.mp4")
    n_in = card.size

    # untimed warm-up (allocators, kernel selection)
    x0 = np.zeros((1, 3, n_in, n_in), np.float32)
    engine.analyse(x0)
    if args.patches:
        engine.occlude(np.repeat(x0, args.patches, axis=0))

    t = {k: 0.0 for k in ["decode", "preprocess", "analyse", "occlusion", "overlay", "encode"]}
    t_start = time.perf_counter()
    inp = av.open(args.clip)
    vs = inp.streams.video[0]
    vs.thread_type = "AUTO"
    rate = vs.average_rate or vs.guessed_rate or 25
    out = st = None
    frames = []
    n = 0
    it = inp.decode(vs)
    while True:
        t0 = time.perf_counter()
        try:
            frame = next(it)
        except StopIteration:
            break
        if args.seconds and frame.time is not None and frame.time >= args.seconds:
            break
        rgb = frame.to_ndarray(format="rgb24")
        t1 = time.perf_counter(); t["decode"] += t1 - t0
        if out is None:
            out = av.open(out_video, "w")
            st = out.add_stream(args.codec, rate=rate)
            st.width, st.height, st.pix_fmt = frame.width, frame.height, "yuv420p"

        x, box = card.preprocess(rgb)
        t2 = time.perf_counter(); t["preprocess"] += t2 - t1
        logits, cam = engine.analyse(x)
        p = softmax(logits)
        top5 = np.argsort(-p)[:5]
        top1 = int(top5[0])
        t3 = time.perf_counter(); t["analyse"] += t3 - t2
        rec = {"frame": n, "pts": float(frame.time) if frame.time is not None else None,
               "top5": [[int(c), card.labels[c], round(float(p[c]), 6)] for c in top5]}
        caption = [f"{card.labels[top1][:30]} {p[top1]:.2f}"]
        if args.patches:
            boxes = patches(args.seed, n, args.patches, n_in, lo, hi)
            occ = engine.occlude(occluded_batch(x, boxes))
            po = softmax(occ)
            occ_top1 = po.argmax(axis=1)
            keep = occ_top1 == top1
            rec["retention"] = float(keep.mean())
            rec["meanDrop"] = float((p[top1] - po[:, top1]).mean())
            rec["patches"] = [[bx, by, bs, int(c1)] for (bx, by, bs), c1 in zip(boxes, occ_top1)]
            caption.append(f"kept {int(keep.sum())}/{args.patches}")
        t4 = time.perf_counter(); t["occlusion"] += t4 - t3
        vis = overlay(rgb, cam, box, caption)
        t5 = time.perf_counter(); t["overlay"] += t5 - t4
        for pkt in st.encode(av.VideoFrame.from_ndarray(vis, format="rgb24")):
            out.mux(pkt)
        t["encode"] += time.perf_counter() - t5
        frames.append(rec)
        n += 1
        if not args.quiet and n % 25 == 0:
            el = time.perf_counter() - t_start
            print(f"  {n} frames, {n / el:.2f} fps", file=sys.stderr)
    t0 = time.perf_counter()
    if out is not None:
        for pkt in st.encode():
            out.mux(pkt)
        out.close()
    inp.close()
    t["encode"] += time.perf_counter() - t0
    total = time.perf_counter() - t_start
    fps = n / total if total > 0 else 0.0

    ret = [f["retention"] for f in frames if "retention" in f]
    summary = {
        "tool": info["tool"], "runtime": info["runtime"], "gradcam": info["gradcam"],
        "clip": os.path.abspath(args.clip), "seconds": args.seconds, "overlay": out_video,
        "model": card.model, "camLayer": card.cam_layer, "patches": args.patches, "patchSize": [lo, hi],
        "seed": args.seed, "threads": args.threads, "frames": n, "wallSeconds": round(total, 4),
        "fps": round(fps, 4), "stageSeconds": {k: round(v, 4) for k, v in t.items()},
        "meanRetention": float(np.mean(ret)) if ret else None,
        "checks": info.get("checks", {}),
        "env": {"python": platform.python_version(), "numpy": np.__version__, "av": av.__version__,
                "cv2": cv2.__version__, **info.get("env", {})},
        "perFrame": frames,
    }
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    if not args.quiet:
        print("stages " + " ".join(f"{k}={v:.2f}s" for k, v in t.items()) + f" total={total:.2f}s",
              file=sys.stderr)
    print(f"fps={fps:.3f} frames={n}")
    return summary


def gemm_head(model, logits_name):
    """(W [classes, C], b) of the Gemm/MatMul that produces the logits, as float32 numpy."""
    from onnx import numpy_helper
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    node = next(nd for nd in model.graph.node if logits_name in nd.output)
    assert node.op_type == "Gemm", f"head is {node.op_type}, expected Gemm"
    attrs = {a.name: a for a in node.attribute}
    w = inits[node.input[1]].astype(np.float32)
    if not (attrs.get("transB") and attrs["transB"].i):
        w = w.T
    alpha = attrs["alpha"].f if "alpha" in attrs else 1.0
    return np.ascontiguousarray(w * alpha)
