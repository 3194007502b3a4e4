#!/usr/bin/env python3
"""Peer of `vigil compare --corruptions all --severity S`: two or more models on the same frames, onnxruntime for
the forward passes (hand Grad-CAM as in peer_ort.py), imagecorruptions for the camera-condition corruptions.

Per frame and model, as Vigil's FrameAnalyzer does: preprocessing per the model's card (centre crop or stretch,
bicubic resize, (x - mean) / std) -> clean forward with the CAM layer as an extra output -> Grad-CAM of the
clean top-1 -> K seeded occluded copies (peer_common's patches) in ONE batch -> retention -> the model input
(8-bit, at the input size) under every corruption at severity S: the ImageNet-C set through imagecorruptions
(`corrupt`), low_light, rain and camera_shake through the reference formulas of scripts/corruption_references.py
(which also adapts imagecorruptions 1.1.2 to scikit-image 0.20), h264_compression through PyAV's libx264 with
Vigil's settings; all corrupted copies in ONE batch -> survival of the clean top-1. Per pair of models: the
paired retention difference with a moving-block bootstrap interval, top-1 agreement by label, Grad-CAM
similarity (Pearson) on a 7x7 grid. Writes compare.json and compare.csv (no HTML).

fps = frames / wall time from opening the clip to writing the outputs (model loading and one warm-up pass
excluded). Last line on stdout: `fps=<fps> frames=<n> corruption_seconds=<s>`.

Usage: peer_compare.py --clip vtest.avi --frames 12 --card A.card.json --card B.card.json --severity 3 --out DIR
Needs the venv made by scripts/benchmarks/setup-peers plus imagecorruptions 1.1.2 and scikit-image 0.20
(re-executes itself in the venv when imports fail).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import argparse
    import csv
    import json
    import math
    import time
    from fractions import Fraction

    import av
    import numpy as np
    import onnxruntime as ort
    from PIL import Image
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.dirname(HERE))
    import peer_common as pc
    import corruption_references as cr       # imagecorruptions + the surveillance formulas
    from peer_ort import OrtEngine
except ImportError:
    from peer_venv import reexec_in_venv
    reexec_in_venv(__file__)

CORRUPTIONS = cr.IMAGENET_C + cr.SURVEILLANCE + ["h264_compression"]
H264_QP = [34, 38, 42, 46, 50]                # Imaging's Corruption.h264Quantizers


class CompareCard:
    """A model card as peer_common.Card reads it, with both resize policies (`vigil compare` lets each model have
    its own): centre crop (peer_common's box) or stretch (the whole frame)."""
    def __init__(self, path):
        with open(path) as f:
            c = json.load(f)
        base = os.path.dirname(os.path.abspath(path))
        self.name = c.get("name", os.path.basename(path))
        self.model = os.path.join(base, c["model"])
        self.input, self.output, self.cam_layer = c["input"], c["output"], c["camLayer"]
        self.size = int(c["inputSize"][0])
        assert c["inputSize"][0] == c["inputSize"][1], "square inputs only"
        assert c["resize"]["filter"] == "bicubic" and c["channelOrder"] == "RGB" and c["layout"] == "NCHW"
        self.policy = c["resize"]["policy"]
        assert self.policy in ("center-crop", "stretch"), self.policy
        self.crop_fraction = float(c["resize"].get("cropFraction", 1.0))
        self.mean = np.asarray(c["mean"], np.float32).reshape(3, 1, 1)
        self.std = np.asarray(c["std"], np.float32).reshape(3, 1, 1)
        with open(os.path.join(base, c["labels"])) as f:
            self.labels = [line.rstrip("\n") for line in f]

    crop_box = pc.Card.crop_box

    def model_input(self, rgb):
        """HxWx3 uint8 -> the model input as 8-bit RGB (S x S) and the crop box."""
        h, w = rgb.shape[:2]
        if self.policy == "stretch":
            img, box = Image.fromarray(rgb), (0, 0, w, h)
        else:
            x0, y0, c = self.crop_box(h, w)
            img, box = Image.fromarray(rgb[y0:y0 + c, x0:x0 + c]), (x0, y0, c, c)
        return np.asarray(img.resize((self.size, self.size), Image.BICUBIC)), box

    def normalise(self, small):
        """[N,S,S,3] or [S,S,3] uint8 -> [N,3,S,S] float32."""
        a = small.astype(np.float32)
        if a.ndim == 3:
            a = a[None]
        return np.ascontiguousarray((a.transpose(0, 3, 1, 2) - self.mean[None]) / self.std[None])


class H264:
    """One IDR frame through libx264 at a fixed QP and back (PyAV), Vigil's settings."""
    def __call__(self, img, qp):
        h, w = img.shape[:2]
        ew, eh = w + (w & 1), h + (h & 1)
        pad = np.pad(img, ((0, eh - h), (0, ew - w), (0, 0)), mode="edge")
        enc = av.CodecContext.create("libx264", "w")
        enc.width, enc.height, enc.pix_fmt = ew, eh, "yuv420p"
        enc.time_base, enc.framerate, enc.gop_size, enc.thread_count = Fraction(1, 25), 25, 1, 1
        enc.options = {"preset": "veryfast", "tune": "zerolatency", "qp": str(qp)}
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pad), format="rgb24").reformat(format="yuv420p")
        packets = list(enc.encode(frame)) + list(enc.encode(None))
        dec = av.CodecContext.create("h264", "r")
        out = []
        for p in packets:
            out += dec.decode(p)
        out += dec.decode(None)
        return out[0].to_ndarray(format="rgb24")[:h, :w]


def corrupt(small, name, severity, h264):
    if name == "h264_compression":
        return h264(small, H264_QP[severity - 1])
    return np.uint8(cr.apply(small, name, severity))


def cam_grid(cam, side=7):
    """Vigil's CompareRunner.resample: the mean of the map's cells falling in each grid cell."""
    h, w = cam.shape
    out = np.zeros((side, side), np.float64)
    for gy in range(side):
        for gx in range(side):
            y0, x0 = gy * h // side, gx * w // side
            y1, x1 = max(y0 + 1, (gy + 1) * h // side), max(x0 + 1, (gx + 1) * w // side)
            out[gy, gx] = cam[y0:min(y1, h), x0:min(x1, w)].mean()
    return out.ravel()


def block_bootstrap(d, seed, reps=1000):
    n = len(d)
    if n < 2:
        return (float(np.mean(d)),) * 2
    b = max(1, int(round(n ** (1 / 3))))
    rng = np.random.default_rng(seed)
    starts = np.arange(n - b + 1)
    means = []
    for _ in range(reps):
        idx = np.concatenate([np.arange(s, s + b) for s in rng.choice(starts, size=math.ceil(n / b))])[:n]
        means.append(d[idx].mean())
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def time_corruptions(args):
    """Median milliseconds of each corruption at --severity on the first card's model input of frame 0."""
    card = CompareCard(args.card[0])
    with av.open(args.clip) as inp:
        rgb = next(inp.decode(video=0)).to_ndarray(format="rgb24")
    small, _ = card.model_input(rgb)
    h264 = H264()
    np.random.seed(args.seed)
    for k in CORRUPTIONS:
        corrupt(small, k, args.severity, h264)    # warm-up (imports, caches)
        ts = []
        for _ in range(args.time_corruptions):
            t0 = time.perf_counter()
            corrupt(small, k, args.severity, h264)
            ts.append(1000 * (time.perf_counter() - t0))
        print(f"{k}={float(np.median(ts)):.3f}")


def main():
    p = argparse.ArgumentParser(description="Vigil benchmark peer: compare with corruptions (onnxruntime + imagecorruptions)")
    p.add_argument("--clip", required=True)
    p.add_argument("--frames", type=int, default=12, help="analyse the first N frames")
    p.add_argument("--card", action="append", required=True, help="model card JSON (give two or more)")
    p.add_argument("--patches", type=int, default=16)
    p.add_argument("--patch-size", default="0.25")
    p.add_argument("--severity", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", required=True)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--time-corruptions", type=int, default=0, metavar="R",
                   help="instead: time each corruption R times on the first card's input of the first frame; print name=ms lines")
    args = p.parse_args()
    if args.time_corruptions:
        return time_corruptions(args)
    lo, hi = pc.patch_range(args.patch_size)
    cards = [CompareCard(c) for c in args.card]
    engines = [OrtEngine(c, args.threads) for c in cards]
    h264 = H264()
    np.random.seed(args.seed)
    for c, e in zip(cards, engines):              # untimed warm-up
        x0 = np.zeros((1, 3, c.size, c.size), np.float32)
        e.analyse(x0)
        e.occlude(np.repeat(x0, args.patches, axis=0))
        e.occlude(np.repeat(x0, len(CORRUPTIONS), axis=0))

    os.makedirs(args.out, exist_ok=True)
    n_models = len(cards)
    ret = [[] for _ in cards]; labels = [[] for _ in cards]; cams = [[] for _ in cards]
    surv = [{k: 0 for k in CORRUPTIONS} for _ in cards]
    seconds = [0.0] * n_models
    t_corrupt = 0.0
    t_start = time.perf_counter()
    inp = av.open(args.clip)
    vs = inp.streams.video[0]
    vs.thread_type = "AUTO"
    f_csv = open(os.path.join(args.out, "compare.csv"), "w", newline="")
    writer = csv.writer(f_csv)
    writer.writerow(["clip", "frame", "pts"] + [f"{c.name} {k}" for c in cards for k in ("top1", "probability", "retention")])
    n = 0
    for frame in inp.decode(vs):
        if n >= args.frames:
            break
        rgb = frame.to_ndarray(format="rgb24")
        row = [args.clip, n, float(frame.time or 0)]
        for i, (c, e) in enumerate(zip(cards, engines)):
            t0 = time.perf_counter()
            small, _ = c.model_input(rgb)
            x = c.normalise(small)
            logits, cam = e.analyse(x)
            pr = pc.softmax(logits)
            top1 = int(pr.argmax())
            boxes = pc.patches(args.seed, n, args.patches, c.size, lo, hi)
            occ = e.occlude(pc.occluded_batch(x, boxes)).argmax(axis=1)
            r = float((occ == top1).mean())
            tc = time.perf_counter()
            copies = np.stack([corrupt(small, k, args.severity, h264) for k in CORRUPTIONS])
            t_corrupt += time.perf_counter() - tc
            ctop = e.occlude(c.normalise(copies)).argmax(axis=1)
            for k, t1 in zip(CORRUPTIONS, ctop):
                surv[i][k] += int(t1 == top1)
            seconds[i] += time.perf_counter() - t0
            ret[i].append(r); labels[i].append(c.labels[top1]); cams[i].append(cam_grid(cam))
            row += [c.labels[top1], round(float(pr[top1]), 6), r]
        writer.writerow(row)
        n += 1
        if not args.quiet:
            print(f"  {n} frames, {n / (time.perf_counter() - t_start):.3f} fps", file=sys.stderr)
    inp.close()
    f_csv.close()
    models = [{"name": c.name, "meanRetention": float(np.mean(ret[i])), "msPerFrame": 1000 * seconds[i] / max(n, 1),
               "corruptions": {k: surv[i][k] / max(n, 1) for k in CORRUPTIONS},
               "corruptionScore": float(np.mean([surv[i][k] / max(n, 1) for k in CORRUPTIONS]))} for i, c in enumerate(cards)]
    pairs = []
    for a in range(n_models):
        for b in range(a + 1, n_models):
            d = np.asarray(ret[b]) - np.asarray(ret[a])
            sims = [np.corrcoef(x, y)[0, 1] for x, y in zip(cams[a], cams[b]) if x.std() > 0 and y.std() > 0]
            pairs.append({"a": a, "b": b, "retentionDifference": float(d.mean()), "differenceInterval": block_bootstrap(d, args.seed),
                          "top1Agreement": float(np.mean([x == y for x, y in zip(labels[a], labels[b])])),
                          "camSimilarity": float(np.mean(sims)) if sims else None})
    with open(os.path.join(args.out, "compare.json"), "w") as f:
        json.dump({"tool": "scripts/benchmarks/peer_compare.py", "frames": n, "severity": args.severity, "corruptions": CORRUPTIONS,
                   "models": models, "pairs": pairs,
                   "env": {"onnxruntime": ort.__version__, "av": av.__version__, "numpy": np.__version__}}, f, indent=1)
    total = time.perf_counter() - t_start
    print(f"fps={n / total:.4f} frames={n} corruption_seconds={t_corrupt:.3f}")


if __name__ == "__main__":
    main()
