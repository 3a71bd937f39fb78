"""Generic synthetic defects pasted on OK images (scratches, blobs, foreign patches), seeded.
Nothing here is tuned to one dataset: shapes and contrasts span what surface-defect sets show."""
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

def _line_mask(rng, h, w):
    m = Image.new('L', (w, h), 0); d = ImageDraw.Draw(m)
    x, y = rng.uniform(0, w), rng.uniform(0, h); a = rng.uniform(0, 2*np.pi)
    L = rng.uniform(0.03, 0.35) * max(h, w); n = int(rng.integers(2, 6)); pts = [(x, y)]
    for _ in range(n):
        a += rng.normal(0, 0.35); x += np.cos(a)*L/n; y += np.sin(a)*L/n; pts.append((x, y))
    d.line(pts, fill=255, width=int(rng.integers(1, 5)))
    return np.asarray(m, np.float32)/255

def _blob_mask(rng, h, w):
    m = Image.new('L', (w, h), 0); d = ImageDraw.Draw(m)
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    r = rng.uniform(0.01, 0.12) * max(h, w); ecc = rng.uniform(0.3, 1); rot = rng.uniform(0, np.pi)
    t = np.linspace(0, 2*np.pi, 24, endpoint=False)
    rad = r * (1 + 0.3*rng.uniform(-1, 1, 24))
    xs, ys = rad*np.cos(t), rad*ecc*np.sin(t)
    pts = list(zip(cx + xs*np.cos(rot) - ys*np.sin(rot), cy + xs*np.sin(rot) + ys*np.cos(rot)))
    d.polygon(pts, fill=255)
    return np.asarray(m.filter(ImageFilter.GaussianBlur(rng.uniform(0, 2))), np.float32)/255

def _box_blur(x, r):
    p = np.pad(x, r + 1, mode='reflect').cumsum(0).cumsum(1)
    n = 2*r + 1; h, w = x.shape
    return ((p[n:n+h, n:n+w] - p[:h, n:n+w] - p[n:n+h, :w] + p[:h, :w]) / (n*n)).astype(np.float32)

def paste_defects(img, rng, max_n=3):
    """img: float32 HxW, standardised. Returns (defective image, mask in [0,1])."""
    h, w = img.shape; out = img.copy(); mask = np.zeros_like(img)
    for _ in range(int(rng.integers(1, max_n+1))):
        m = _line_mask(rng, h, w) if rng.random() < 0.5 else _blob_mask(rng, h, w)
        if m.max() < 0.5: continue
        kind = rng.random()
        if kind < 0.45:
            s = rng.choice([-1, 1]) * rng.uniform(1.0, 4.0)
            new = out + s + rng.normal(0, rng.uniform(0, 1.0), img.shape).astype(np.float32)
        elif kind < 0.8:
            src = np.rot90(img, int(rng.integers(1, 4))) if h == w else img[::-1]
            new = np.roll(src, (int(rng.integers(h)), int(rng.integers(w))), (0, 1))
            new = new * rng.uniform(0.5, 2.0) + rng.uniform(-1, 1)
        else:
            k = rng.uniform(2, 6)
            blurred = _box_blur(out, int(k))
            new = blurred + rng.uniform(-1.5, 1.5)
        out = out*(1-m) + new*m
        mask = np.maximum(mask, m)
    return out.astype(np.float32), mask
