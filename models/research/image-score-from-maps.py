"""Scores the rows image-score-from-maps.ts wrote: each map statistic as an image score (AUROC on
the validation and test splits), margin + one statistic by logistic regression fitted on the
validation split (test AUROC, and the test's error rates at the threshold best for balanced
accuracy on validation), one threshold per surface (the dataset's first folder) against one for
all, and, for a generated test set, the model's own calibrated call per texture family and
defect kind.

    python3 models/research/image-score-from-maps.py rows.json [TEST_DATASET]
"""
import json
import math
import os
import sys
from collections import defaultdict

import numpy as np
from scipy.optimize import minimize
from scipy.stats import rankdata


def auroc(scores, labels):
    scores, labels = np.asarray(scores, float), np.asarray(labels, bool)
    ranks = rankdata(scores)
    pos, neg = labels.sum(), (~labels).sum()
    return (ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg)


def features(row):
    out = {'margin': row['margin']}
    for layer, s in row['stats'].items():
        for name, v in s.items():
            out[f'{layer}.{name}'] = v
    return out


def logistic(x, y):
    x = np.c_[x, np.ones(len(x))]
    loss = lambda w: np.sum(np.logaddexp(0, -(2 * y - 1) * (x @ w))) + 1e-3 * w @ w
    return minimize(loss, np.zeros(x.shape[1])).x


def balanced_threshold(scores, labels):
    return max(sorted(set(scores)), key=lambda t: (scores[labels] >= t).mean() + (scores[~labels] < t).mean())


data = json.load(open(sys.argv[1]))
rows = data['rows']
sets = {s: [r for r in rows if r['set'] == s] for s in ('validation', 'test')}
labels = {s: np.array([r['defect'] for r in rs]) for s, rs in sets.items()}
feats = {s: [features(r) for r in rs] for s, rs in sets.items()}
print('image score                validation AUROC   test AUROC')
for name in feats['test'][0]:
    print(f"  {name:24s} {auroc([f[name] for f in feats['validation']], labels['validation']):.3f}            {auroc([f[name] for f in feats['test']], labels['test']):.3f}")
print('\nmargin + one statistic, fitted on validation: test AUROC, OK over / defective under the balanced threshold')
for name in ('layer3.p99', 'layer4.p99', 'fused.p99', 'fused.mean', 'fused.max'):
    x = {s: np.array([[f['margin'], f[name]] for f in feats[s]]) for s in sets}
    w = logistic(x['validation'], labels['validation'])
    score = {s: np.c_[x[s], np.ones(len(x[s]))] @ w for s in sets}
    t = balanced_threshold(score['validation'], labels['validation'])
    y = labels['test']
    print(f"  margin + {name:12s} {auroc(score['test'], y):.3f}   {(score['test'][~y] >= t).mean():.3f} / {(score['test'][y] < t).mean():.3f}")


def surface(row):
    return row['image'].split('/')[0]


def error_rates(rs, threshold):
    ok = [r['margin'] >= threshold(r) for r in rs if not r['defect']]
    bad = [r['margin'] < threshold(r) for r in rs if r['defect']]
    return np.mean(ok), np.mean(bad)


# Each surface's own balanced threshold on its share of the validation split: whether busy
# surfaces' false alarms come down without the misses going up.
val_margin = np.array([r['margin'] for r in sets['validation']])
overall = balanced_threshold(val_margin, labels['validation'])
own = {}
for name in sorted({surface(r) for r in rows}):
    rs = [r for r in sets['validation'] if surface(r) == name]
    m, y = np.array([r['margin'] for r in rs]), np.array([r['defect'] for r in rs])
    own[name] = balanced_threshold(m, y) if y.any() and (~y).any() else overall
print('\nOK over / defective under, test split: one threshold for all against one per surface (validation images, defective)')
one = error_rates(sets['test'], lambda r: overall)
per = error_rates(sets['test'], lambda r: own[surface(r)])
print(f"  all surfaces   one {one[0]:.3f} / {one[1]:.3f}   per surface {per[0]:.3f} / {per[1]:.3f}")
for name, t in own.items():
    rs = [r for r in sets['test'] if surface(r) == name]
    v = [r for r in sets['validation'] if surface(r) == name]
    one, per = error_rates(rs, lambda r: overall), error_rates(rs, lambda r: t)
    print(f"  {name:14s} ({len(v)}, {sum(r['defect'] for r in v)})  one {one[0]:.3f} / {one[1]:.3f}   per surface {per[0]:.3f} / {per[1]:.3f}"
          f"   test AUROC within the surface {auroc([r['margin'] for r in rs], [r['defect'] for r in rs]):.3f}")

calibration = data['calibration']
synth = os.path.join(sys.argv[2], 'kizu-synth.json') if len(sys.argv) > 2 else None
if calibration and synth and os.path.exists(synth):
    family = {c['name']: c['family'] for c in json.load(open(synth))['classes']}
    calls = defaultdict(lambda: [0, 0])
    for r in sets['test']:
        p = 1 / (1 + math.exp(-(calibration['slope'] * r['margin'] + calibration['intercept'])))
        key = (family.get(r['image'].split('/')[0], '?'), r['kind'] or 'OK')
        calls[key][0] += p >= calibration['decisionThreshold']
        calls[key][1] += 1
    print(f"\ncalled defective at the model's decision threshold ({calibration['decisionThreshold']:.3f}), test split, by texture family and kind")
    for (fam, kind), (over, n) in sorted(calls.items()):
        print(f'  {fam:10s} {kind:12s} {over:3d} of {n}')
