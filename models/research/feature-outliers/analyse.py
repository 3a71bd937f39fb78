"""Each feature-outlier statistic of features.py alone and with the margin (logistic regression
fitted on the validation rows) as an image score: validation and test AUROC, disturbances against
OK images, and at the balanced-accuracy threshold chosen on validation, the test shares of OK
images over it and defective ones under it, misses per kind, false alarms and AUROC per surface.

  /usr/bin/python3 analyse.py OUT.npz MODEL_DIR
"""
import sys, json, numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.linear_model import LogisticRegression
d = np.load(sys.argv[1]); man = json.load(open(sys.argv[2] + '/manifest.json'))['calibration']
def get(n):
    return {k: d[f'{n}_{k}'] for k in ['margin', 'bank', 'selfd', 'y', 'kind', 'path']}
V, T = get('val'), get('test')
def topk(a, k): return np.sort(a, 1)[:, -k:].mean(1)
def feats(S):
    return {'margin': S['margin'], 'bank_max': S['bank'].max(1), 'bank_top10': topk(S['bank'], 10), 'bank_top50': topk(S['bank'], 50),
            'self_max': S['selfd'].max(1), 'self_top10': topk(S['selfd'], 10), 'self_top50': topk(S['selfd'], 50)}
FV, FT = feats(V), feats(T)
surf = np.array([p.split('/')[-3] for p in T['path']])
def balanced(s, y):
    best = None
    for t in np.unique(s):
        ba = ((s[y == 1] >= t).mean() + (s[y == 0] < t).mean()) / 2
        if best is None or ba > best[0]: best = (ba, t)
    return best[1]
def report(name, sv, st):
    t = balanced(sv, V['y'])
    ok_over = (st[T['y'] == 0] >= t).mean(); def_under = (st[T['y'] == 1] < t).mean()
    kinds = {k: int(((st < t) & (T['kind'] == k)).sum()) for k in ['scratch', 'crack', 'spot', 'stain', 'disturbance']}
    ps = {s: round(roc_auc_score(T['y'][surf == s], st[surf == s]), 3) for s in sorted(set(surf))}
    fa = {s: int(((st >= t) & (T['y'] == 0) & (surf == s)).sum()) for s in sorted(set(surf))}
    dist = T['kind'] == 'disturbance'
    dauc = roc_auc_score(np.r_[np.zeros((T['y'] == 0).sum()), np.ones(dist.sum())], np.r_[st[T['y'] == 0], st[dist]])
    print(f"{name:28s} valAUC {roc_auc_score(V['y'], sv):.3f} testAUC {roc_auc_score(T['y'], st):.3f} distAUC {dauc:.3f} OKover {ok_over:.3f} defUnder {def_under:.3f} missed {kinds} FA/surface {fa} AUC/surface {ps}")
thr_m = (np.log(man['decisionThreshold'] / (1 - man['decisionThreshold'])) - man['intercept']) / man['slope']
print('kizu threshold on margin', thr_m, 'OK over', (FT['margin'][T['y'] == 0] >= thr_m).mean(), 'def under', (FT['margin'][T['y'] == 1] < thr_m).mean())
for k in FV: report(k, FV[k], FT[k])
def fit(keys):
    Xv = np.stack([FV[k] for k in keys], 1); Xt = np.stack([FT[k] for k in keys], 1)
    mu, sd = Xv.mean(0), Xv.std(0)
    lr = LogisticRegression(C=1.0).fit((Xv - mu) / sd, V['y'])
    return lr.decision_function((Xv - mu) / sd), lr.decision_function((Xt - mu) / sd)
for keys in [['margin', 'bank_max'], ['margin', 'bank_top10'], ['margin', 'bank_top50'], ['margin', 'self_max'], ['margin', 'self_top10'], ['margin', 'bank_top10', 'self_top10']]:
    report('+'.join(keys), *fit(keys))
