"""torchvision ResNet50 topology (Bottleneck v1.5, 3/4/6/3) at a chosen stem width, 1 input channel,
with a position-wise fc (class-score map) pooled by top-k, and 1x1 pretext heads on layer2/layer3."""
import torch, torch.nn as nn, torch.nn.functional as F
try:
    from torchvision.models.resnet import Bottleneck
except ImportError:  # Debian's python3-torch without python3-torchvision: the same block, written out
    from bottleneck import Bottleneck

class ResNet50W(nn.Module):
    def __init__(self, width=16, in_ch=1, num_classes=2, topk_frac=1/16):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width); self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.inplanes = width
        self.layer1 = self._make(width, 3, 1)
        self.layer2 = self._make(width*2, 4, 2)
        self.layer3 = self._make(width*4, 6, 2)
        self.layer4 = self._make(width*8, 3, 2)
        self.fc = nn.Linear(width*32, num_classes)
        self.head2 = nn.Conv2d(width*8, 1, 1)
        self.head3 = nn.Conv2d(width*16, 1, 1)
        self.topk_frac = topk_frac
        for mod in self.modules():
            if isinstance(mod, nn.Conv2d): nn.init.kaiming_normal_(mod.weight, mode='fan_out', nonlinearity='relu')
    def _make(self, planes, blocks, stride):
        down = None
        if stride != 1 or self.inplanes != planes*4:
            down = nn.Sequential(nn.Conv2d(self.inplanes, planes*4, 1, stride, bias=False), nn.BatchNorm2d(planes*4))
        layers = [Bottleneck(self.inplanes, planes, stride, down)]
        self.inplanes = planes*4
        layers += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)
    def forward(self, x, want_stages=False):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        l1 = self.layer1(x); l2 = self.layer2(l1); l3 = self.layer3(l2); l4 = self.layer4(l3)
        smap = torch.einsum('bchw,kc->bkhw', l4, self.fc.weight) + self.fc.bias[None,:,None,None]
        flat = smap.flatten(2)
        k = max(1, round(flat.shape[2]*self.topk_frac))
        logits = flat.topk(k, dim=2).values.mean(2)
        out = {'logits': logits, 'smap': smap, 'seg2': self.head2(l2), 'seg3': self.head3(l3)}
        if want_stages: out.update(layer2=l2, layer3=l3, layer4=l4)
        return out
