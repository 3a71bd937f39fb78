"""How visible are a dataset's defects against its texture? The same statistic on DAGM Class 8
and on Kizu's generator, inside the weak ellipse labels both write, so the generator's
amplitudes can be set from a measurement instead of by hand (issue 12, item 3).

For each defective image: r = image - 7x7 box mean (pixel-scale detail); per image, the 99.5th
percentile of |r| inside the ellipse divided by that outside ("peak ratio"), and the same for
a 15x15 box mean minus a 61x61 one ("blob ratio", for stains and spots).
Run: python3 models/research/contrast.py DATASET_DIR [more dirs]   (reads */Train/Label/*_label.PNG)
"""
import glob, os, sys
import numpy as np
from PIL import Image

def box(img, k):
    pad = k // 2
    p = np.pad(img, pad, mode='reflect')
    c = p.cumsum(0).cumsum(1)
    c = np.pad(c, ((1, 0), (1, 0)))
    h, w = img.shape
    return (c[k:k + h, k:k + w] - c[:h, k:k + w] - c[k:k + h, :w] + c[:h, :w]) / (k * k)

def ratios(image_path, label_path):
    img = np.asarray(Image.open(image_path).convert('L'), dtype=np.float64)
    lab = np.asarray(Image.open(label_path).convert('L')) > 0
    if lab.sum() < 10 or (~lab).sum() < 10:
        return None
    fine = np.abs(img - box(img, 7))
    broad = np.abs(box(img, 15) - box(img, 61))
    q = lambda a, m: np.percentile(a[m], 99.5)
    return q(fine, lab) / max(1e-9, q(fine, ~lab)), q(broad, lab) / max(1e-9, q(broad, ~lab))

for root in sys.argv[1:]:
    labels = sorted(glob.glob(os.path.join(root, '**', 'Train', 'Label', '*_label.PNG'), recursive=True))
    rows = []
    for lp in labels:
        ip = os.path.join(os.path.dirname(os.path.dirname(lp)), os.path.basename(lp).replace('_label', ''))
        r = ratios(ip, lp)
        if r: rows.append(r)
    a = np.array(rows)
    print(f'{root}: {len(a)} defective images; peak ratio median {np.median(a[:, 0]):.2f} '
          f'(p25 {np.percentile(a[:, 0], 25):.2f}, p75 {np.percentile(a[:, 0], 75):.2f}); '
          f'blob ratio median {np.median(a[:, 1]):.2f} (p25 {np.percentile(a[:, 1], 25):.2f}, p75 {np.percentile(a[:, 1], 75):.2f})')
