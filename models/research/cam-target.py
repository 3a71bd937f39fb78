"""Which class score should LayerCAM differentiate for a top-k head? Kizu's classifier scores
every layer4 position (fc at each position) and its logit is the mean of the top k of them, so
d(logit)/d(layer4) is zero outside those k cells and LayerCAM can only light what the pooling
chose. Against it: the class-score map summed over every position (the score before pooling), and the
positions' margins (defect minus OK score) summed where positive: every cell that votes defect; and
the pooled margin (defect logit minus OK logit), to tell the direction from the spread; and
`positive+pooled`, the positions' margins plus the logit, so that an image on which no position
votes defect keeps the logit's map. CAM_TARGETS=pooled,positive,... chooses some.
Per stage, on a Kizu model's test images with truth masks: pooled pixel AUROC (every test image,
OK ones included) and AUPRO (FPR up to 0.3), raw maps at the network's input size, and the share
of each map's pixels that are exactly zero; Grad-CAM and Grad-CAM++ on the same four targets.

  npx tsx models/research/feature-outliers/list-images.ts DATASET SEED test [MASK_DIR] > test.tsv
  /usr/bin/python3 models/research/cam-target.py MODEL_DIR test.tsv [STRIDE]

Maps and truth are compared at the network's input size (the truth resized nearest), every
STRIDE-th pixel each way. Kizu's own figures are at the image's size: on BSData (1130 x 460
photographs, 800 x 320 input) LayerCAM's pooled AUROC reads about 0.02 lower there, Grad-CAM++'s
about the same; so compare the scores with each other here, and with `kizu evaluate` there.
"""
import json, os, sys, time
import numpy as np, torch, torch.nn.functional as F
from PIL import Image
from scipy import ndimage
sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'feature-outliers'))
from weights import load_safetensors, read_list
from r_model import ResNet50W
torch.set_num_threads(2)
model_dir, tsv = sys.argv[1:3]
stride = int(sys.argv[3]) if len(sys.argv) > 3 else 2
man = json.load(open(os.path.join(model_dir, 'manifest.json')))
ch = man['inputChannels']; H, W = man['inputSize']['height'], man['inputSize']['width']
net = ResNet50W(width=man['architecture']['width'], in_ch=ch, topk_frac=man['architecture']['pooling']['fraction'])
net.load_state_dict(load_safetensors(os.path.join(model_dir, man['weights']['file'])), strict=False); net.eval()
mean = torch.tensor(man['normalization']['mean']).view(1, -1, 1, 1); std = torch.tensor(man['normalization']['std']).view(1, -1, 1, 1)
defect = man['defectClass']

def load(path):
    im = Image.open(path)
    a = np.asarray(im.convert('RGB'), dtype=np.float32) / 255.0
    if ch == 1: a = (a @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[..., None]
    x = torch.from_numpy(a).permute(2, 0, 1)[None]
    x = F.interpolate(x, size=(H, W), mode='bilinear', align_corners=False)
    return (x - mean) / std

def truth(path):
    if path == '-': return np.zeros((H, W), np.uint8)
    m = np.asarray(Image.open(path).convert('L').resize((W, H), Image.NEAREST)) > 127
    return m.astype(np.uint8)

LAYERS = ['layer2', 'layer3', 'layer4']
TARGETS = [t for t in os.environ.get('CAM_TARGETS', 'pooled,margin,map,positive').split(',')]
METHODS = [f'{c}-{t}' for c in ['layercam', 'gradcam', 'gradcampp'] for t in TARGETS]
scores = {(m, l): [] for m in METHODS for l in LAYERS}
zeros = {(m, l): [] for m in METHODS for l in LAYERS}
labels, regions = [], []  # regions: (image index, flat pixel indices on the strided grid)
t0 = time.time()
for n, (path, _, _, mask_path) in enumerate(read_list(tsv)):
    x = load(path)
    out = net(x, want_stages=True)
    acts = [out[l] for l in LAYERS]
    logit, smap = out['logits'][0], out['smap'][0]
    targets = {'pooled': logit[defect], 'margin': logit[defect] - logit[1 - defect], 'map': smap[defect].sum(),
               'positive': F.relu(smap[defect] - smap[1 - defect]).sum()}
    targets['positive+pooled'] = targets['positive'] + targets['pooled']
    targets = {k: targets[k] for k in TARGETS}
    grads = {k: torch.autograd.grad(y, acts, retain_graph=True) for k, y in targets.items()}
    for i, l in enumerate(LAYERS):
        A = acts[i][0].detach()
        maps = {}
        for k in TARGETS:
            g = grads[k][i][0]
            maps[f'layercam-{k}'] = F.relu((F.relu(g) * A).sum(0))
            maps[f'gradcam-{k}'] = F.relu((g.mean((1, 2))[:, None, None] * A).sum(0))
            g2, g3 = g * g, g * g * g
            alpha = g2 / (2 * g2 + (A.sum((1, 2), keepdim=True) * g3)).where(g != 0, torch.ones_like(g))
            maps[f'gradcampp-{k}'] = F.relu(((alpha * F.relu(g)).sum((1, 2))[:, None, None] * A).sum(0))
        for m, v in maps.items():
            up = F.interpolate(v[None, None], size=(H, W), mode='bilinear', align_corners=False)[0, 0].numpy()
            scores[(m, l)].append(up[::stride, ::stride].ravel().astype(np.float32))
            zeros[(m, l)].append(float((v == 0).float().mean()))
    t = truth(mask_path)[::stride, ::stride]
    labels.append(t.ravel())
    lab, count = ndimage.label(t)
    for r in range(1, count + 1): regions.append((n, np.flatnonzero(lab.ravel() == r)))
    if n % 100 == 0: print(n, f'{time.time() - t0:.0f} s', file=sys.stderr, flush=True)

y = np.concatenate(labels).astype(bool)
def auroc(s):
    order = np.argsort(s, kind='mergesort'); ranks = np.empty(len(s)); sr = s[order]
    # Average ranks over ties: exact zeros are the point of this comparison.
    _, first, counts = np.unique(sr, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1
    ranks[order] = np.repeat(avg, counts)
    npos = y.sum(); nneg = len(y) - npos
    return (ranks[y].sum() - npos * (npos + 1) / 2) / (npos * nneg)
def aupro(per_image, s):
    """Per-region overlap against pooled FPR, integrated to FPR 0.3 and divided by 0.3. A map
    with many exact zeros cannot reach FPR 0.3 with a threshold above zero; as the ROC does with
    ties, the curve is then drawn straight from its last point to (1, 1) and read at 0.3."""
    neg = np.sort(s[~y])
    fprs = np.linspace(0, 0.3, 61)[1:]
    th = np.unique([neg[max(0, int(np.ceil((1 - f) * len(neg))) - 1)] for f in fprs])[::-1]
    real_fpr = np.array([1 - np.searchsorted(neg, t, side='right') / len(neg) for t in th])
    region_scores = [np.sort(per_image[i][idx]) for i, idx in regions]
    pro = np.array([np.mean([1 - np.searchsorted(rs, t, side='right') / len(rs) for rs in region_scores]) for t in th])
    f, p = np.r_[0.0, real_fpr, 1.0], np.r_[0.0 if len(pro) == 0 else pro[0], pro, 1.0]
    keep = f <= 0.3
    p_at = np.interp(0.3, f, p)
    return np.trapz(np.r_[p[keep], p_at], np.r_[f[keep], 0.3]) / 0.3
print(f'{os.path.basename(os.path.normpath(model_dir))} on {tsv}: {len(labels)} images, {len(regions)} regions, stride {stride}')
print('method             stage   pooled AUROC  AUPRO  zero share')
for m in METHODS:
    for l in LAYERS:
        s = np.concatenate(scores[(m, l)])
        print(f'{m:18s} {l:7s} {auroc(s):.3f}        {aupro(scores[(m, l)], s):.3f}  {np.mean(zeros[(m, l)]):.2f}', flush=True)
print(f'{time.time() - t0:.0f} s')
