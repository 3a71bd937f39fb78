"""BSData as a CSV with a split by camera view, not by image.

BSData photographs the same ball-screw views again and again during a wear test: 1,035 of its
1,104 images are 15 views (spindle, axial position, angle: `01_<time>_<position>_<angle>_crop_2.jpg`)
taken 69 times each, and a pit stays where it is as it grows. A split by image puts the same view
(and the same pit) in training and test, so a model can be scored on pits it has seen. Here every
view's images go to one side: a seeded draw of the views (and of the 69 single images) for test.

usage: python3 models/research/bsdata_grouped_split.py BSDATA_DIR OUT.csv [--test-views 3] [--seed 0]
The CSV (path,label,mask,split,view) reads in Kizu as any CSV dataset; masks are BSData's LabelMe
JSON; the view column makes Kizu's validation split keep views whole too (R21-h ran on the same
rows before Kizu read views: its validation split was by image).
"""
import argparse, csv, json, os, random

ap = argparse.ArgumentParser()
ap.add_argument('bsdata'); ap.add_argument('out')
ap.add_argument('--test-views', type=int, default=3)
ap.add_argument('--seed', type=int, default=0)
a = ap.parse_args()

images = sorted(f for f in os.listdir(os.path.join(a.bsdata, 'data')) if f.lower().endswith('.jpg'))
labels = {}
for f in os.listdir(os.path.join(a.bsdata, 'label')):
    j = json.load(open(os.path.join(a.bsdata, 'label', f)))
    if j.get('shapes'):
        labels[os.path.basename(j['imagePath'])] = os.path.join('label', f)

def view(name):
    p = name.split('_')
    return (p[0], p[2], p[3]) if len(p) >= 6 else None

views = sorted({view(f) for f in images if view(f)})
singles = [f for f in images if not view(f)]
rng = random.Random(a.seed)
test_views = set(rng.sample(views, a.test_views))
test_singles = set(rng.sample(singles, round(len(singles) * a.test_views / len(views))))
rows = []
for f in images:
    test = view(f) in test_views if view(f) else f in test_singles
    mask = labels.get(f, '')
    rows.append([os.path.join(os.path.abspath(a.bsdata), 'data', f), 'defect' if mask else 'ok',
                 os.path.join(os.path.abspath(a.bsdata), mask) if mask else '', 'test' if test else 'train',
                 '_'.join(view(f)) if view(f) else ''])
with open(a.out, 'w', newline='') as fh:
    w = csv.writer(fh); w.writerow(['path', 'label', 'mask', 'split', 'view']); w.writerows(rows)
for split in ('train', 'test'):
    part = [r for r in rows if r[3] == split]
    print(f"{split}: {len(part)} images, {sum(r[1] == 'defect' for r in part)} pitted")
print('test views:', sorted(test_views))
