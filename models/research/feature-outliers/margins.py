"""The classifier's margin (defect logit minus OK logit) of every image of a validation and a test
list, for thresholds.py.

  /usr/bin/python3 margins.py MODEL_DIR VAL.tsv TEST.tsv OUT.npz
"""
import sys
import numpy as np, torch
from weights import load_model, read_list
torch.set_num_threads(2)
model_dir, val_tsv, test_tsv, out = sys.argv[1:5]
net, input_of, _ = load_model(model_dir)
rows = {}
for name, tsv in [('val', val_tsv), ('test', test_tsv)]:
    items = read_list(tsv)
    with torch.no_grad():
        margins = [float((lambda l: l[1] - l[0])(net(input_of(path))['logits'][0])) for path, _, _, _ in items]
    rows.update({f'{name}_margin': np.array(margins), f'{name}_y': np.array([int(i[1]) for i in items]),
                 f'{name}_kind': np.array([i[2] for i in items]), f'{name}_path': np.array([i[0] for i in items])})
np.savez(out, **rows)
