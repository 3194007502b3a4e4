#!/usr/bin/env python3
"""Peer C (the expert user's version, the strongest peer): forward passes on onnxruntime (CPU, --threads
intra-op threads) from the model card's ONNX file, Grad-CAM by hand.

The ONNX graph is given one extra output: the card's CAM layer activation A [1,C,h,w]. The head after it
is GlobalAveragePool -> Flatten -> Gemm (checked at load), so d logit_c / d A[k,i,j] = W[c,k] / (h*w)
exactly; Grad-CAM's channel weights are the spatial mean of that gradient, alpha_k = W[c,k] / (h*w), and
the map is relu(sum_k alpha_k A_k), scaled to [0,1] by its maximum. One clean run gives logits and A; the K
occluded copies run as one batch.

Usage: peer_ort.py --clip vtest.avi --seconds 20 --patches 16 --patch-size 0.25 --seed 0 --out DIR --threads 2
Needs the venv made by scripts/benchmarks/setup-peers (re-executes itself in it when imports fail).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import numpy as np
    import onnx
    import onnxruntime as ort
    sys.path.insert(0, HERE)
    import peer_common as pc
except ImportError:
    from peer_venv import reexec_in_venv
    reexec_in_venv(__file__)


def check_head(model, cam, logits):
    """The path from the CAM layer to the logits must be GlobalAveragePool -> Flatten -> Gemm."""
    consumers = {}
    for nd in model.graph.node:
        for i in nd.input:
            consumers.setdefault(i, []).append(nd)
    path, t = [], cam
    while t != logits:
        nxt = consumers.get(t, [])
        assert len(nxt) == 1, f"{t} has {len(nxt)} consumers; hand Grad-CAM needs a GAP->Flatten->Gemm head"
        path.append(nxt[0].op_type)
        t = nxt[0].output[0]
    assert path in (["GlobalAveragePool", "Flatten", "Gemm"], ["GlobalAveragePool", "Reshape", "Gemm"]), path


class OrtEngine:
    def __init__(self, card, threads):
        model = onnx.load(card.model)
        check_head(model, card.cam_layer, card.output)
        self.w = pc.gemm_head(model, card.output)                     # [classes, C]
        model.graph.output.append(onnx.helper.make_tensor_value_info(card.cam_layer, onnx.TensorProto.FLOAT, None))
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
        self.inp, self.out, self.cam = card.input, card.output, card.cam_layer

    def analyse(self, x):
        logits, a = self.sess.run([self.out, self.cam], {self.inp: x})
        c = int(logits[0].argmax())
        a = a[0]                                                      # [C, h, w]
        alpha = self.w[c] / (a.shape[1] * a.shape[2])                 # [C]
        cam = np.maximum(np.tensordot(alpha, a, axes=1), 0)           # [h, w]
        m = cam.max()
        return logits[0], (cam / m if m > 0 else cam)

    def occlude(self, b):
        return self.sess.run([self.out], {self.inp: b})[0]


def main():
    args = pc.build_parser("onnxruntime + hand Grad-CAM").parse_args()
    card = pc.Card(args.card)
    engine = OrtEngine(card, args.threads)
    info = {"tool": "scripts/benchmarks/peer_ort.py",
            "runtime": f"onnxruntime {ort.__version__} CPU, {args.threads} intra-op threads",
            "gradcam": "by hand: extra ONNX output (CAM layer) x Gemm weights / (h*w)",
            "env": {"onnxruntime": ort.__version__, "onnx": onnx.__version__}}
    pc.run(args, engine, card, info)


if __name__ == "__main__":
    main()
