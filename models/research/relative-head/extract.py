"""Frozen features of a Kizu model for relative-head.py: per image, layer2 and layer3 averaged onto
layer4's grid and layer4 itself (16 x 16 at 512 px; 896 channels at width 16), float16, with the
classifier's margin, the label and the defect kind. Grey models only.

  /usr/bin/python3 extract.py MODEL_DIR LIST.tsv OUT.npz      # LIST from ../feature-outliers/list-images.ts
"""
import os, sys, time
import numpy as np, torch, torch.nn.functional as F
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'feature-outliers'))
from weights import load_model, read_list
torch.set_num_threads(2)
model_dir, tsv, out = sys.argv[1:4]
net, input_of, _ = load_model(model_dir)
items = read_list(tsv)
feats, margins = [], []
t0 = time.time()
with torch.no_grad():
    for n, (path, _, _, _) in enumerate(items):
        o = net(input_of(path), want_stages=True)
        grid = o['layer4'].shape[-2:]
        f = torch.cat([F.adaptive_avg_pool2d(o['layer2'], grid), F.adaptive_avg_pool2d(o['layer3'], grid), o['layer4']], 1)[0]
        feats.append(f.half().numpy()); margins.append(float(o['logits'][0, 1] - o['logits'][0, 0]))
        if n % 200 == 0: print(n, f'{time.time() - t0:.0f} s', flush=True)
np.savez(out, feats=np.stack(feats), margin=np.array(margins), y=np.array([int(i[1]) for i in items]),
         kind=np.array([i[2] for i in items]), path=np.array([i[0] for i in items]))
print('done', f'{time.time() - t0:.0f} s', flush=True)
