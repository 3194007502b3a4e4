"""Reference pictures and statistics for Imaging's corruptions (run through make-corruption-references).

Writes into Fixtures/corruptions/:
  <image>.png                              the two clean fixture pictures (96x72)
  <image>/<corruption>_<severity>.png      imagecorruptions' output (numpy seed 0) for every corruption
  <image>/gaussian_blur_<severity>.png     imagecorruptions' gaussian_blur (checks the Gaussian kernel)
  <image>/motion_blur_angle37_<severity>.png  the motion-blur kernel at a fixed angle of 37 degrees (no rounding ties in its shifts)
  references.json                          statistics over 8 seeds for every random corruption

Statistics of a corrupted picture (the Swift tests compute the same):
  mean, variance   over all bytes (0-255)
  spectrum         luma Y = 0.299 R + 0.587 G + 0.114 B, minus its mean; P = |DFT2(Y)|^2 / (H W);
                   6 radial bins of r = hypot(fy, fx) (cycles per pixel, DC left out), bin = min(int(r / 0.5 * 6), 5);
                   log10 of the mean P in each bin
"""
import json
import math
import os

import numpy as np
from PIL import Image
import skimage.util
import imagecorruptions
from imagecorruptions import corrupt
from imagecorruptions.corruptions import _motion_blur, clipped_zoom

OUT = "Fixtures/corruptions"
W, H = 96, 72
SEEDS = range(8)

IMAGENET_C = ["gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur",
              "zoom_blur", "snow", "frost", "fog", "brightness", "contrast", "elastic_transform", "pixelate",
              "jpeg_compression"]
SURVEILLANCE = ["low_light", "rain", "camera_shake"]
DETERMINISTIC = {"defocus_blur", "zoom_blur", "brightness", "contrast", "pixelate", "jpeg_compression"}

# skimage's random_noise (impulse_noise) draws from its own generator, not np.random: seed it from np.random
# so that every reference is reproducible.
_random_noise = skimage.util.random_noise
def _seeded_random_noise(image, **kw):
    kw.setdefault("seed", int(np.random.randint(0, 2**31 - 1)))
    return _random_noise(image, **kw)
skimage.util.random_noise = _seeded_random_noise

# imagecorruptions 1.1.2 calls skimage.filters.gaussian(..., multichannel=True), which scikit-image 0.20 no
# longer takes; channel_axis=-1 is the same filter (no smoothing across the colour axis).
import imagecorruptions.corruptions as _ic
_gaussian = _ic.gaussian
def _gaussian_multichannel(image, sigma=1, multichannel=False, **kw):
    if multichannel:
        kw["channel_axis"] = -1
    return _gaussian(image, sigma=sigma, **kw)
_ic.gaussian = _gaussian_multichannel


# ---------------------------------------------------------------- surveillance corruptions (reference formulas)

def line_sum(layer, weights, angle):
    """imagecorruptions' _motion_blur with given tap weights: sum_i weights[i] * shift(layer, i steps along angle),
    edges repeated, stopping where a shift leaves the picture."""
    from imagecorruptions.corruptions import shift
    width = len(weights)
    point = (width * np.sin(np.deg2rad(angle)), width * np.cos(np.deg2rad(angle)))
    hypot = math.hypot(point[0], point[1])
    out = np.zeros_like(layer, dtype=np.float64)
    for i in range(width):
        dy = -math.ceil(((i * point[0]) / hypot) - 0.5)
        dx = -math.ceil(((i * point[1]) / hypot) - 0.5)
        if abs(dy) >= layer.shape[0] or abs(dx) >= layer.shape[1]:
            break
        out = out + weights[i] * shift(layer, dx, dy)
    return out


def low_light(x, severity):
    """Under-exposure with sensor noise: linearise (gamma 2.2), scale by the exposure, count photons
    (Poisson, `photons` at full white before the exposure), add read noise, re-apply gamma."""
    gain, photons, read = [(0.6, 200.0, 0.004), (0.45, 120.0, 0.006), (0.3, 80.0, 0.008),
                           (0.2, 50.0, 0.010), (0.12, 30.0, 0.012)][severity - 1]
    lin = (np.asarray(x, dtype=np.float64) / 255.0) ** 2.2 * gain
    lin = np.random.poisson(lin * photons) / photons + np.random.normal(size=lin.shape, scale=read)
    return np.clip(lin, 0, 1) ** (1 / 2.2) * 255


def rain(x, severity):
    """Rain streaks: seeded drops (probability `density` per pixel) drawn as straight streaks of `length`
    pixels at an angle within 10 degrees of vertical, screen-blended over the darkened scene."""
    density, length, alpha, dark = [(0.002, 10, 0.5, 0.9), (0.004, 14, 0.6, 0.85), (0.006, 18, 0.7, 0.8),
                                    (0.009, 22, 0.75, 0.75), (0.012, 26, 0.8, 0.7)][severity - 1]
    x = np.asarray(x, dtype=np.float64) / 255.0
    drops = (np.random.uniform(size=x.shape[:2]) < density).astype(np.float64)
    angle = np.random.uniform(-100, -80)
    streaks = np.clip(line_sum(drops, np.ones(length), angle), 0, 1) * alpha
    x = x * dark
    return np.clip(1 - (1 - x) * (1 - streaks[..., None]), 0, 1) * 255


def camera_shake(x, severity):
    """Hand-held shake during the exposure: the mean of the picture shifted along a seeded smooth random path
    of 16 points (a damped random walk) scaled so its farthest point is `amplitude` pixels from its mean;
    bilinear shifts, edges repeated."""
    from scipy.ndimage import map_coordinates
    amplitude = [1.5, 3.0, 4.5, 6.0, 8.0][severity - 1]
    steps = 16
    v = np.zeros(2); p = np.zeros(2); path = []
    for _ in range(steps):
        v = 0.7 * v + np.random.normal(size=2)
        p = p + v
        path.append(p.copy())
    path = np.array(path); path -= path.mean(axis=0)
    path *= amplitude / max(np.sqrt((path ** 2).sum(axis=1)).max(), 1e-9)
    x = np.asarray(x, dtype=np.float64)
    h, w = x.shape[:2]
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    out = np.zeros_like(x)
    for dy, dx in path:
        for c in range(3):
            out[..., c] += map_coordinates(x[..., c], [yy + dy, xx + dx], order=1, mode="nearest")
    return np.clip(out / steps, 0, 255)


SURVEILLANCE_FUNCS = {"low_light": low_light, "rain": rain, "camera_shake": camera_shake}


def apply(image, name, severity):
    if name in SURVEILLANCE_FUNCS:
        return np.uint8(SURVEILLANCE_FUNCS[name](image, severity))
    return corrupt(image, corruption_name=name, severity=severity)


# ---------------------------------------------------------------- statistics

def stats(img):
    a = img.astype(np.float64)
    y = a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114
    y = y - y.mean()
    p = np.abs(np.fft.fft2(y)) ** 2 / y.size
    fy = np.fft.fftfreq(y.shape[0])[:, None]
    fx = np.fft.fftfreq(y.shape[1])[None, :]
    r = np.hypot(fy, fx)
    b = np.minimum((r / 0.5 * 6).astype(int), 5)
    spectrum = []
    for k in range(6):
        m = (b == k) & (r > 0)
        spectrum.append(float(np.log10(p[m].mean() + 1e-9)))
    return {"mean": float(a.mean()), "variance": float(a.var()), "spectrum": spectrum}


def summarise(samples):
    out = {}
    for key in ("mean", "variance"):
        v = np.array([s[key] for s in samples])
        out[key] = float(v.mean()); out[key + "_sd"] = float(v.std(ddof=1))
    sp = np.array([s["spectrum"] for s in samples])
    out["spectrum"] = [float(v) for v in sp.mean(axis=0)]
    out["spectrum_sd"] = [float(v) for v in sp.std(axis=0, ddof=1)]
    return out


def fixture(src, box):
    im = Image.open(src).convert("RGB").crop(box).resize((W, H), Image.LANCZOS)
    return np.asarray(im)


def main():
    os.makedirs(OUT, exist_ok=True)
    images = {
        # 451x300 -> the centre 400x300 (4:3)
        "chelsea": fixture("Fixtures/images/skimage_chelsea.png", (25, 0, 425, 300)),
        # 600x400 -> the centre 532x399 (4:3)
        "coffee": fixture("Fixtures/images/skimage_coffee.png", (34, 0, 566, 399)),
    }
    refs = {"generator": {"imagecorruptions": imagecorruptions.__dict__.get("__version__", "1.1.2"),
                          "numpy": np.__version__, "seeds": list(SEEDS), "width": W, "height": H},
            "images": {}}
    for name, img in images.items():
        Image.fromarray(img).save(f"{OUT}/{name}.png", optimize=True)
        os.makedirs(f"{OUT}/{name}", exist_ok=True)
        clean = stats(img)
        entry = {"clean": clean, "corruptions": {}}
        for corruption in IMAGENET_C + SURVEILLANCE:
            per_sev = {}
            for severity in range(1, 6):
                np.random.seed(0)
                out = apply(img, corruption, severity)
                Image.fromarray(out).save(f"{OUT}/{name}/{corruption}_{severity}.png", optimize=True)
                if corruption not in DETERMINISTIC:
                    samples = []
                    for seed in SEEDS:
                        np.random.seed(seed)
                        samples.append(stats(apply(img, corruption, severity)))
                    per_sev[str(severity)] = summarise(samples)
            if per_sev:
                entry["corruptions"][corruption] = per_sev
        for severity in range(1, 6):
            out = corrupt(img, corruption_name="gaussian_blur", severity=severity)
            Image.fromarray(out).save(f"{OUT}/{name}/gaussian_blur_{severity}.png", optimize=True)
            radius, sigma = [(10, 3), (15, 5), (15, 8), (15, 12), (20, 15)][severity - 1]
            out = np.uint8(np.clip(_motion_blur(img, radius=radius, sigma=sigma, angle=37.0), 0, 255))
            Image.fromarray(out).save(f"{OUT}/{name}/motion_blur_angle37_{severity}.png", optimize=True)
        refs["images"][name] = entry
    with open(f"{OUT}/references.json", "w") as f:
        json.dump(refs, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
