"""Where to cut the margin: the balanced-accuracy threshold on validation against the lowest one
that leaves at most 0, 2 or 5 % of the validation OK images over it; test shares, misses per kind
and false alarms per surface at each.

  /usr/bin/python3 thresholds.py MARGINS.npz [MARGINS.npz ...]
"""
import sys, numpy as np
from sklearn.metrics import roc_auc_score
for f in sys.argv[1:]:
    d = np.load(f); vm, vy, tm, ty, tk = d['val_margin'], d['val_y'], d['test_margin'], d['test_y'], d['test_kind']
    surf = np.array([p.split('/')[-3] for p in d['test_path']])
    print(f, 'val AUROC %.3f test AUROC %.3f' % (roc_auc_score(vy, vm), roc_auc_score(ty, tm)))
    # balanced accuracy threshold
    cands = np.unique(vm)
    ba = [((vm[vy == 1] >= t).mean() + (vm[vy == 0] < t).mean()) / 2 for t in cands]
    tb = cands[int(np.argmax(ba))]
    for share in [0.0, 0.02, 0.05]:
        ok = np.sort(vm[vy == 0]); k = int(np.floor(len(ok) * share)); tf = np.nextafter(ok[len(ok) - 1 - k], np.inf)
        for name, t in [('balanced', tb), (f'OK<={share:.2f}', tf)]:
            if name == 'balanced' and share > 0: continue
            miss = {k_: int(((tm < t) & (tk == k_)).sum()) for k_ in ['scratch', 'crack', 'spot', 'stain', 'disturbance']}
            fa = {s: int(((tm >= t) & (ty == 0) & (surf == s)).sum()) for s in sorted(set(surf))}
            print(f'  {name:10s} thr {t:+.3f}  val OK over {(vm[vy==0]>=t).mean():.3f} def under {(vm[vy==1]<t).mean():.3f} | test OK over {(tm[ty==0]>=t).mean():.3f} def under {(tm[ty==1]<t).mean():.3f} missed {miss} FA {fa}')
