"""PyTorch's figures for the work `kizu bench` times, measured on the same machine in the same run.

`kizu bench` runs this with Debian's python3-torch when it is installed and prints the
ratios; nothing else in Kizu needs Python. One JSON line on stdout:
- explain: forward + backward to one stage (LayerCAM's cost for one layer) of a full-width
  ResNet50 at 224 and 512 px, batch 1, median ms;
- training: one optimiser step (forward, backward, AdamW) in images/s, full width at 224 px
  (3 channels, batch 8) and in the default recipe's configuration (stem width 16, 1 channel,
  512 px, batch 16 in micro-batches of 4, as `kizu train` runs it).
Usage: python3 pytorch_bench.py [threads] [runs] [explain sizes, e.g. 224,512] [full-width training size] [default-recipe size]
(the sizes default to the bench's; smaller ones make a quick check that the script runs).
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
from torchvision.models import resnet50
from torchvision.models.resnet import Bottleneck


def narrow_resnet50(width, in_ch, num_classes=2):
    """torchvision's ResNet50 topology (Bottleneck v1.5, 3/4/6/3) at a chosen stem width."""
    model = resnet50(num_classes=num_classes)
    if width == 64 and in_ch == 3:
        return model
    model.conv1 = nn.Conv2d(in_ch, width, 7, 2, 3, bias=False)
    model.bn1 = nn.BatchNorm2d(width)
    inplanes = width
    for name, planes, blocks, stride in [('layer1', width, 3, 1), ('layer2', width * 2, 4, 2), ('layer3', width * 4, 6, 2), ('layer4', width * 8, 3, 2)]:
        down = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))
        layers = [Bottleneck(inplanes, planes, stride, down)]
        inplanes = planes * 4
        layers += [Bottleneck(inplanes, planes) for _ in range(1, blocks)]
        setattr(model, name, nn.Sequential(*layers))
    model.fc = nn.Linear(inplanes, num_classes)
    return model


def median_ms(work, runs):
    work()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def explain_ms(size, runs):
    model = resnet50(num_classes=2).eval()
    stage = {}
    model.layer3.register_forward_hook(lambda _m, _i, out: stage.__setitem__('a', out))
    x = torch.randn(1, 3, size, size)

    def work():
        logits = model(x)
        grad = torch.autograd.grad(logits[0, 1], stage['a'])[0]
        torch.relu((torch.relu(grad) * stage['a']).sum(1))

    return median_ms(work, runs)


def train_images_per_s(width, in_ch, size, batch, micro, runs):
    model = narrow_resnet50(width, in_ch).train()
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    loss_fn = nn.CrossEntropyLoss()
    xs = [torch.randn(micro, in_ch, size, size) for _ in range(batch // micro)]
    ys = [torch.randint(0, 2, (micro,)) for _ in range(batch // micro)]

    def work():
        opt.zero_grad()
        for x, y in zip(xs, ys):
            loss_fn(model(x), y).backward()
        opt.step()

    return batch / (median_ms(work, runs) / 1000)


def main():
    args = sys.argv[1:]
    threads = int(args[0]) if len(args) > 0 else 2
    runs = int(args[1]) if len(args) > 1 else 3
    sizes = [int(v) for v in args[2].split(',')] if len(args) > 2 else [224, 512]
    full = int(args[3]) if len(args) > 3 else 224
    default = int(args[4]) if len(args) > 4 else 512
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    out = {'pytorch_version': torch.__version__, 'pytorch_threads': threads}
    for size in sizes:
        out[f'pytorch_layercam1_{size}_ms'] = round(explain_ms(size, runs), 1)
    out[f'pytorch_train_{full}_images_per_s'] = round(train_images_per_s(64, 3, full, 8, 8, max(1, runs - 1)), 2)
    out['pytorch_train_default_images_per_s'] = round(train_images_per_s(16, 1, default, 16, 4, max(1, runs - 1)), 2)
    out['pytorch_train_default_size'] = default
    print(json.dumps(out), flush=True)


if __name__ == '__main__':
    main()
