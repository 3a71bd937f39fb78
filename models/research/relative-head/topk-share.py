"""How many layer4 positions should the image score pool? The classifier's logit is the mean of the
top 1/16 of its per-position margins; a small disturbance may be diluted by OK texture pooled beside
it. On the frozen layer4 features extract.py saved (float16), each image's per-position margins
from the model's own fc, pooled over its top k positions for k = 1 ... 64 of 256; the decision
threshold balanced on the validation images, as `kizu train` places it (before calibration, which is
monotone and leaves it where it is).

  /usr/bin/python3 topk-share.py MODEL_DIR VAL.npz TEST.npz
"""
import os, sys
import numpy as np
from sklearn.metrics import roc_auc_score
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'feature-outliers'))
from weights import load_model

model_dir, val_path, test_path = sys.argv[1:4]
net, _, _ = load_model(model_dir)
state = net.state_dict()
W, b = state['fc.weight'].numpy(), state['fc.bias'].numpy()


def margins(feats):
    layer4 = feats[:, -W.shape[1]:].astype(np.float32)
    s = np.einsum('nchw,kc->nkhw', layer4, W) + b[None, :, None, None]
    return (s[:, 1] - s[:, 0]).reshape(len(feats), -1)


V, T = np.load(val_path, allow_pickle=True), np.load(test_path, allow_pickle=True)
mv, mt = margins(V['feats']), margins(T['feats'])
yv, yt, kt = V['y'], T['y'], T['kind']
print(f'{model_dir}: pooled top-16 against the saved margins, correlation {np.corrcoef(np.sort(mt, 1)[:, -16:].mean(1), T["margin"])[0, 1]:.3f}')
print('k   val AUROC  test AUROC  disturbances vs OK  OK over  defective under')
for k in [1, 2, 4, 8, 16, 32, 64]:
    sv, st = np.sort(mv, 1)[:, -k:].mean(1), np.sort(mt, 1)[:, -k:].mean(1)
    cut = max(np.unique(sv), key=lambda t: (sv[yv == 1] >= t).mean() + (sv[yv == 0] < t).mean())
    ok, dist = st[yt == 0], st[kt == 'disturbance']
    vs = roc_auc_score(np.r_[np.zeros(len(ok)), np.ones(len(dist))], np.r_[ok, dist])
    print(f'{k:<3} {roc_auc_score(yv, sv):9.3f}  {roc_auc_score(yt, st):10.3f}  {vs:18.3f}  {(ok >= cut).mean():7.1%}  {(st[yt == 1] < cut).mean():15.1%}')
