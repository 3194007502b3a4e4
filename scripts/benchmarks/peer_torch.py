#!/usr/bin/env python3
"""Peer B (what most users write): PyTorch (Debian's python3-torch, --threads threads) + pytorch-grad-cam.

The torch model is built from the model card's ONNX file with onnx2torch, so the weights are the ones
Vigil and the onnxruntime peer use; at start-up its logits are compared with onnxruntime's on a seeded
batch and the peer refuses to run if they differ by more than 1e-4. Per frame: one
pytorch_grad_cam.GradCAM call on the clean input (targets=None: the clean top-1; its forward pass also
gives the clean logits, kept in cam.outputs), then all K occluded copies in one no-grad batch.

Usage: peer_torch.py --clip vtest.avi --seconds 20 --patches 16 --patch-size 0.25 --seed 0 --out DIR --threads 2
Needs the venv made by scripts/benchmarks/setup-peers (re-executes itself in it when imports fail).
"""
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch
    from onnx2torch import convert
    from pytorch_grad_cam import GradCAM
    sys.path.insert(0, HERE)
    import peer_common as pc
except ImportError:
    from peer_venv import reexec_in_venv
    reexec_in_venv(__file__)

warnings.filterwarnings("ignore")


def cam_module_name(model, cam_tensor):
    """onnx2torch names each module after its ONNX node, without the leading '/'."""
    node = next(nd for nd in model.graph.node if cam_tensor in nd.output)
    return node.name.lstrip("/")


class TorchEngine:
    def __init__(self, card, threads):
        torch.set_num_threads(threads)
        onnx_model = onnx.load(card.model)
        self.model = convert(onnx_model).eval()
        layer = dict(self.model.named_modules())[cam_module_name(onnx_model, card.cam_layer)]
        self.cam = GradCAM(model=self.model, target_layers=[layer])
        self.checks = self.verify(card)

    def verify(self, card):
        x = np.random.default_rng(0).standard_normal((2, 3, card.size, card.size)).astype(np.float32)
        sess = ort.InferenceSession(card.model, providers=["CPUExecutionProvider"])
        want = sess.run([card.output], {card.input: x})[0]
        with torch.no_grad():
            got = self.model(torch.from_numpy(x)).numpy()
        err = float(np.abs(got - want).max())
        if err > 1e-4:
            sys.exit(f"onnx2torch model differs from onnxruntime by {err} (> 1e-4)")
        return {"torchVsOrtMaxAbsLogitDiff": err}

    def analyse(self, x):
        cam = self.cam(input_tensor=torch.from_numpy(x), targets=None)[0]   # [S,S] in [0,1], clean top-1
        logits = self.cam.outputs.detach().numpy()[0]
        return logits, cam

    def occlude(self, b):
        with torch.no_grad():
            return self.model(torch.from_numpy(b)).numpy()


def main():
    args = pc.build_parser("PyTorch + pytorch-grad-cam").parse_args()
    card = pc.Card(args.card)
    engine = TorchEngine(card, args.threads)
    import pytorch_grad_cam
    info = {"tool": "scripts/benchmarks/peer_torch.py",
            "runtime": f"torch {torch.__version__} CPU, {torch.get_num_threads()} threads (model via onnx2torch)",
            "gradcam": "pytorch_grad_cam.GradCAM", "checks": engine.checks,
            "env": {"torch": torch.__version__, "onnxruntime": ort.__version__,
                    "grad_cam": getattr(pytorch_grad_cam, "__version__", "1.5.x")}}
    pc.run(args, engine, card, info)


if __name__ == "__main__":
    main()
