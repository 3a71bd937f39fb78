"""Heads trained on a frozen Kizu network's features (extract.py), image labels only, top-k pooled
over the 16 x 16 grid as Kizu's classifier is: does a head that sees each position's features
against the image's own mean ("relative") find what the position-wise linear head misses
(the generator's disturbances), beyond what a non-linear head alone gives?

  /usr/bin/python3 relative-head.py TRAIN.npz VAL.npz TEST.npz [SEEDS]
"""
import sys
import numpy as np, torch, torch.nn as nn
from sklearn.metrics import roc_auc_score
torch.set_num_threads(2)
tr, va, te = (np.load(p) for p in sys.argv[1:4])
seeds = [int(s) for s in (sys.argv[4] if len(sys.argv) > 4 else '0,1,2').split(',')]
C = tr['feats'].shape[1]
X = {n: torch.from_numpy(d['feats']).float().flatten(2).transpose(1, 2).contiguous() for n, d in [('tr', tr), ('va', va), ('te', te)]}  # N x P x C
mu = X['tr'].mean((0, 1)); sd = X['tr'].std((0, 1)) + 1e-3
X = {n: (x - mu) / sd for n, x in X.items()}
Y = {n: torch.from_numpy(d['y']).float() for n, d in [('tr', tr), ('va', va), ('te', te)]}
K = 16
SPANS = {'l4': slice(384, C), 'all': slice(0, C)}

class Head(nn.Module):
    def __init__(self, span, relative, hidden):
        super().__init__()
        self.span, self.relative = SPANS[span], relative
        c = self.span.stop - self.span.start
        inp = c * (2 if relative else 1)
        self.net = nn.Linear(inp, 1) if hidden == 0 else nn.Sequential(nn.Linear(inp, hidden), nn.ReLU(), nn.Linear(hidden, 1))
    def forward(self, x):
        x = x[..., self.span]
        if self.relative == 'mean': x = torch.cat([x, x - x.mean(1, keepdim=True)], -1)
        elif self.relative == 'median': x = torch.cat([x, x - x.median(1, keepdim=True).values], -1)
        elif self.relative == 'abs': x = torch.cat([x, (x - x.mean(1, keepdim=True)).abs()], -1)
        s = self.net(x).squeeze(-1)
        return s.topk(K, dim=1).values.mean(1)

def balanced(sv, yv):
    best = None
    for t in np.unique(sv):
        ba = ((sv[yv == 1] >= t).mean() + (sv[yv == 0] < t).mean()) / 2
        if best is None or ba > best[0]: best = (ba, t)
    return best[1]

def run(span, relative, hidden, seed, epochs=40):
    torch.manual_seed(seed); rng = np.random.default_rng(seed)
    head = Head(span, relative, hidden)
    opt = torch.optim.AdamW(head.parameters(), lr=1e-3, weight_decay=1e-2)
    pos = Y['tr'].mean().item(); w = torch.where(Y['tr'] > 0, 0.5 / pos, 0.5 / (1 - pos))
    best = (-1, None)
    n = len(Y['tr'])
    for ep in range(epochs):
        head.train()
        for idx in np.array_split(rng.permutation(n), n // 64):
            idx = torch.from_numpy(idx)
            loss = (nn.functional.binary_cross_entropy_with_logits(head(X['tr'][idx]), Y['tr'][idx], reduction='none') * w[idx]).mean()
            opt.zero_grad(); loss.backward(); opt.step()
        head.eval()
        with torch.no_grad(): sv = head(X['va']).numpy()
        auc = roc_auc_score(Y['va'].numpy(), sv)
        if auc > best[0]:
            with torch.no_grad(): best = (auc, sv, head(X['te']).numpy(), ep)
    return best

def report(name, sv, st, extra=''):
    yv, yt = va['y'], te['y']
    t = balanced(sv, yv)
    dist = te['kind'] == 'disturbance'; ok = yt == 0
    dauc = roc_auc_score(np.r_[np.zeros(ok.sum()), np.ones(dist.sum())], np.r_[st[ok], st[dist]])
    missed = {k: int(((st < t) & (te['kind'] == k)).sum()) for k in ['scratch', 'crack', 'spot', 'stain', 'disturbance']}
    print(f"{name:34s} val {roc_auc_score(yv, sv):.3f} test {roc_auc_score(yt, st):.3f} dist-vs-OK {dauc:.3f} "
          f"OK over {(st[ok] >= t).mean():.3f} defective under {(st[yt == 1] < t).mean():.3f} missed {missed}{extra}", flush=True)

report('margin (the network as trained)', va['margin'], te['margin'])
for span, relative, hidden in [('l4', None, 0), ('all', None, 0), ('all', None, 64), ('l4', 'mean', 0), ('all', 'abs', 0), ('all', 'mean', 64), ('all', 'median', 64)]:
    for seed in seeds:
        auc, sv, st, ep = run(span, relative, hidden, seed)
        report(f"{span} relative={relative} hidden={hidden} s{seed}", sv, st, f' (epoch {ep})')
