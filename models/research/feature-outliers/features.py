"""Does an outlier score on the network's own features add to the classifier's margin? For each
image: the margin (defect logit minus OK logit), and per layer3 position (layer2 averaged onto the
same 32 x 32 grid, both 3x3-smoothed as PatchCore does: 384 values) the distance to the nearest of
a bank of OK training features (10 random positions of each OK training image) and to its 64th
nearest position in the same image. Grey 512-px models (the generated sets) only.

  /usr/bin/python3 features.py MODEL_DIR BANK.tsv VAL.tsv TEST.tsv OUT.npz
"""
import sys, time
import numpy as np, torch, torch.nn.functional as F
from weights import load_model, read_list
torch.set_num_threads(2); torch.manual_seed(0)
model_dir, bank_tsv, val_tsv, test_tsv, out = sys.argv[1:6]
net, input_of, _ = load_model(model_dir)

@torch.no_grad()
def forward(path):
    o = net(input_of(path), want_stages=True)
    margin = float(o['logits'][0, 1] - o['logits'][0, 0])
    f3 = F.avg_pool2d(o['layer3'], 3, 1, 1)[0]
    f2 = F.adaptive_avg_pool2d(F.avg_pool2d(o['layer2'], 3, 1, 1), f3.shape[-2:])[0]
    return margin, torch.cat([f2, f3], 0).flatten(1).T.contiguous()

t0 = time.time()
rng = np.random.default_rng(0)
bank = []
for path, defect, _, _ in read_list(bank_tsv):
    if defect == '0':
        feat = forward(path)[1]
        bank.append(feat[rng.choice(feat.shape[0], 10, replace=False)])
bank = torch.cat(bank); bank_sq = (bank * bank).sum(1)
print('bank', tuple(bank.shape), f'{time.time() - t0:.0f} s', flush=True)

rows = {}
for name, tsv in [('val', val_tsv), ('test', test_tsv)]:
    margins, to_bank, to_self, labels, kinds, paths = [], [], [], [], [], []
    for path, defect, kind, _ in read_list(tsv):
        margin, feat = forward(path)
        sq = (feat * feat).sum(1)
        to_bank.append(((sq[:, None] - 2 * feat @ bank.T + bank_sq[None]).min(1).values.clamp_min(0).sqrt()).numpy())
        inside = (sq[:, None] - 2 * feat @ feat.T + sq[None]).clamp_min(0)
        to_self.append(inside.topk(65, dim=1, largest=False).values[:, -1].sqrt().numpy())
        margins.append(margin); labels.append(int(defect)); kinds.append(kind); paths.append(path)
    rows.update({f'{name}_margin': np.array(margins), f'{name}_bank': np.stack(to_bank), f'{name}_selfd': np.stack(to_self),
                 f'{name}_y': np.array(labels), f'{name}_kind': np.array(kinds), f'{name}_path': np.array(paths)})
    print(name, len(paths), f'{time.time() - t0:.0f} s', flush=True)
np.savez(out, **rows)
