"""Research run on DAGM-layout data: synthetic-defect dense pretext on OK crops, then fine-tune
on image labels (plus pastes) at native resolution; top-k pooled class-score map. Evaluates
image AUROC and LayerCAM/Grad-CAM pixel AUROC + mIoU on Test, threshold chosen on val."""
import argparse, json, time, os, sys
import numpy as np, torch, torch.nn.functional as F
from PIL import Image
sys.path.insert(0, os.path.dirname(__file__))
from r_model import ResNet50W
from r_synth import paste_defects

p = argparse.ArgumentParser()
p.add_argument('--data', required=True); p.add_argument('--out', required=True)
p.add_argument('--width', type=int, default=16); p.add_argument('--crop', type=int, default=256)
p.add_argument('--pre-min', type=float, default=10); p.add_argument('--ft-min', type=float, default=12)
p.add_argument('--ft-size', type=int, default=512); p.add_argument('--topk', type=float, default=1/16)
p.add_argument('--threads', type=int, default=2); p.add_argument('--seed', type=int, default=0)
p.add_argument('--lr', type=float, default=1e-3); p.add_argument('--dense', default='heads', choices=['heads', 'scoremap']); p.add_argument('--no-real', action='store_true'); p.add_argument('--opt', default='adamw', choices=['adamw', 'sgd']); p.add_argument('--clip', type=float, default=0); p.add_argument('--no-eval', action='store_true')
a = p.parse_args()
torch.set_num_threads(a.threads); torch.manual_seed(a.seed); rng = np.random.default_rng(a.seed)
os.makedirs(a.out, exist_ok=True)
log = open(os.path.join(a.out, 'log.jsonl'), 'a')
def say(**k):
    print(json.dumps(k), flush=True); log.write(json.dumps(k)+'\n'); log.flush()

def load(split):
    rows = [l.split() for l in open(os.path.join(a.data, split, 'Label', 'Labels.txt')).read().splitlines()[1:]]
    X, Y, M = [], [], []
    for r in rows:
        im = np.asarray(Image.open(os.path.join(a.data, split, r[2])).convert('L'), np.float32)
        X.append((im - im.mean()) / (im.std() + 1e-6)); Y.append(int(r[1]))
        M.append(np.asarray(Image.open(os.path.join(a.data, split, 'Label', r[4])).convert('L')) > 127 if int(r[1]) else None)
    return np.stack(X), np.array(Y), M
Xtr, Ytr, Mtr = load('Train'); Xte, Yte, Mte = load('Test')
idx = rng.permutation(len(Ytr)); val = np.concatenate([idx[Ytr[idx] == c][: int(0.2*(Ytr == c).sum())] for c in (0, 1)])
tr = np.setdiff1d(np.arange(len(Ytr)), val)
ok_tr = tr[Ytr[tr] == 0]; def_tr = tr[Ytr[tr] == 1]
say(event='data', train_ok=len(ok_tr), train_defect=len(def_tr), val=len(val), test=len(Yte))

def aug(x, m=None):
    k = int(rng.integers(4)); fl = rng.random() < 0.5
    x = np.rot90(x, k); m = None if m is None else np.rot90(m, k)
    if fl: x = x[:, ::-1]; m = None if m is None else m[:, ::-1]
    return np.ascontiguousarray(x), (None if m is None else np.ascontiguousarray(m))

def crop(x, s):
    h, w = x.shape
    if s >= h: return x
    i, j = rng.integers(0, h-s+1), rng.integers(0, w-s+1); return x[i:i+s, j:j+s]

model = ResNet50W(a.width, topk_frac=a.topk)
opt = torch.optim.AdamW(model.parameters(), a.lr, weight_decay=1e-4) if a.opt == 'adamw' else torch.optim.SGD(model.parameters(), a.lr, momentum=0.9, weight_decay=1e-4)

def step(xs, ys, masks):
    """masks: list of HxW arrays or None (no dense target)."""
    x = torch.from_numpy(np.stack(xs))[:, None]; y = torch.tensor(ys)
    out = model(x)
    loss = F.cross_entropy(out['logits'], y)
    sel = [i for i, m in enumerate(masks) if m is not None]
    if sel:
        mt = torch.from_numpy(np.stack([masks[i] for i in sel]).astype(np.float32))[:, None]
        dense = {'seg2': out['seg2'], 'seg3': out['seg3']} if a.dense == 'heads' else {'map': out['smap'][:, 1:2] - out['smap'][:, 0:1]}
        for key, s in dense.items():
            s = s[sel]; t = F.adaptive_max_pool2d(mt, s.shape[2:]) if a.dense == 'scoremap' else F.adaptive_avg_pool2d(mt, s.shape[2:]).clamp(0, 1)
            t = (t > 0.1).float()
            pw = torch.tensor(10.0)
            loss = loss + (1.0 if a.dense == 'scoremap' else 0.5)*F.binary_cross_entropy_with_logits(s, t, pos_weight=pw)
    opt.zero_grad(); loss.backward()
    gn = torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip if a.clip > 0 else float('inf'))
    opt.step(); step.acc = (out['logits'].argmax(1) == y).float().mean().item(); step.gn = gn.item(); return loss.item()

def run_phase(name, minutes, make_batch, lr0):
    t0 = time.time(); n = 0; ema = None; acc_ema = 0.5
    total = minutes*60
    while time.time()-t0 < total:
        frac = (time.time()-t0)/total
        for g in opt.param_groups: g['lr'] = lr0*min(1, (n+1)/50)*0.5*(1+np.cos(np.pi*frac))
        l = step(*make_batch()); n += 1; ema = l if ema is None else 0.98*ema+0.02*l
        acc_ema = step.acc if n == 1 else 0.95*acc_ema + 0.05*step.acc
        if n % 25 == 0: say(event='step', phase=name, step=n, loss=round(ema, 4), acc=round(acc_ema, 3), gradnorm=round(step.gn, 2), s=round(time.time()-t0))
    return n

def pre_batch(bs=16):
    xs, ys, ms = [], [], []
    for _ in range(bs):
        x = crop(Xtr[rng.choice(ok_tr)], a.crop); x, _ = aug(x)
        if rng.random() < 0.5:
            x, m = paste_defects(x, rng); ys.append(1)
        else: m = np.zeros_like(x); ys.append(0)
        xs.append(x); ms.append(m)
    return xs, ys, ms

def ft_batch(bs=8):
    xs, ys, ms = [], [], []
    nreal = 0 if a.no_real else 3
    for i in range(bs):
        if i < nreal:
            x, _ = aug(Xtr[rng.choice(def_tr)]); ys.append(1); ms.append(None)
        else:
            x, _ = aug(Xtr[rng.choice(ok_tr)])
            if i >= bs - 2: x, m = paste_defects(x, rng); ys.append(1)
            else: m = np.zeros_like(x); ys.append(0)
            ms.append(m)
        if a.ft_size != x.shape[0]:
            x = np.asarray(Image.fromarray(x).resize((a.ft_size,)*2, Image.BILINEAR))
            if ms[-1] is not None: ms[-1] = np.asarray(Image.fromarray(ms[-1].astype(np.float32)).resize((a.ft_size,)*2, Image.BILINEAR))
        xs.append(x)
    return xs, ys, ms

def auroc(s, y):
    s = np.asarray(s, np.float64); y = np.asarray(y).astype(bool)
    order = np.argsort(s, kind='mergesort'); r = np.empty(len(s)); r[order] = np.arange(1, len(s)+1)
    _, inv, cnt = np.unique(s, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, r); r = (sums/cnt)[inv]
    npos = y.sum(); nneg = len(y)-npos
    return float((r[y].sum() - npos*(npos+1)/2) / (npos*nneg))

def maps(x):
    """LayerCAM and Grad-CAM per stage for the defect logit, at 128 px, min-max normalised."""
    model.eval(); xt = torch.from_numpy(x)[None, None]
    if a.ft_size != x.shape[0]: xt = F.interpolate(xt, size=(a.ft_size,)*2, mode='bilinear', align_corners=False)
    out = model(xt, want_stages=True); st = [out['layer2'], out['layer3'], out['layer4']]
    g = torch.autograd.grad(out['logits'][0, 1], st)
    res = {}
    for name, A, G in zip(('layer2', 'layer3', 'layer4'), st, g):
        for meth, m in (('layercam', F.relu((F.relu(G)*A).sum(1, keepdim=True))),
                        ('gradcam', F.relu((G.mean((2, 3), keepdim=True)*A).sum(1, keepdim=True)))):
            u = F.interpolate(m, size=(128, 128), mode='bilinear', align_corners=False)[0, 0].detach().numpy()
            res[f'{meth}/{name}'] = (u-u.min())/(u.max()-u.min()+1e-7)
    return out['logits'][0].detach().softmax(0)[1].item(), res

def down(m): return np.asarray(Image.fromarray(m.astype(np.uint8)*255).resize((128, 128), Image.BILINEAR)) > 127

def evaluate(tag, n_ok=150):
    t0 = time.time()
    with torch.no_grad():
        model.eval(); probs = []
        for i in range(0, len(Yte), 16):
            xt = torch.from_numpy(Xte[i:i+16])[:, None]
            if a.ft_size != 512: xt = F.interpolate(xt, size=(a.ft_size,)*2, mode='bilinear', align_corners=False)
            probs += model(xt)['logits'].softmax(1)[:, 1].tolist()
    img_auc = auroc(probs, Yte)
    def collect(X, Y, M, ids):
        allm = {}
        for i in ids:
            _, r = maps(X[i]); gt = down(M[i]) if Y[i] else np.zeros((128, 128), bool)
            for k, v in r.items(): allm.setdefault(k, []).append((v, gt, Y[i]))
        return allm
    vd = collect(Xtr, Ytr, Mtr, val[Ytr[val] == 1])
    te_ids = np.concatenate([np.where(Yte == 1)[0], np.where(Yte == 0)[0][:n_ok]])
    td = collect(Xte, Yte, Mte, te_ids)
    table = {}
    for k in td:
        s = np.concatenate([v.ravel() for v, _, _ in td[k]]); y = np.concatenate([g.ravel() for _, g, _ in td[k]])
        pix = auroc(s[::3], y[::3])
        def miou(items, t):
            inter = sum(((v >= t) & g).sum() for v, g, yy in items if yy); uni = sum(((v >= t) | g).sum() for v, g, yy in items if yy)
            binter = sum(((v < t) & ~g).sum() for v, g, yy in items if yy); buni = sum(((v < t) | ~g).sum() for v, g, yy in items if yy)
            return 0.5*(inter/uni + binter/buni), inter/uni
        ts = np.linspace(0.05, 0.95, 19); best = max(ts, key=lambda t: miou(vd[k], t)[0])
        mi, di = miou(td[k], best)
        table[k] = dict(pixel_auroc=round(pix, 4), miou=round(mi, 4), defect_iou=round(di, 4), threshold=round(float(best), 2))
    say(event='eval', tag=tag, image_auroc=round(img_auc, 4), maps=table, s=round(time.time()-t0))
    model.train()

n1 = run_phase('pretext', a.pre_min, pre_batch, a.lr)
torch.save(model.state_dict(), os.path.join(a.out, 'pretext.pt'))
if a.no_eval: sys.exit(0)
evaluate('zero-shot after pretext')
n2 = run_phase('finetune', a.ft_min, ft_batch, a.lr*0.5)
torch.save(model.state_dict(), os.path.join(a.out, 'final.pt'))
evaluate('after fine-tune')
