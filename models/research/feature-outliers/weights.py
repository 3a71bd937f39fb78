"""A Kizu model directory (manifest.json + float32 safetensors) as r_model.ResNet50W, and its input."""
import json, os, struct, sys
import numpy as np, torch
from PIL import Image
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
from r_model import ResNet50W

def load_safetensors(path):
    buf = open(path, 'rb').read(); n = struct.unpack('<Q', buf[:8])[0]; header = json.loads(buf[8:8 + n]); base = 8 + n
    return {k: torch.from_numpy(np.frombuffer(buf[base + v['data_offsets'][0]:base + v['data_offsets'][1]], dtype=np.float32).reshape(v['shape']).copy())
            for k, v in header.items() if k != '__metadata__'}

def load_model(model_dir):
    """The network (eval mode; the side heads Kizu does not have stay unused) and a function from an image path to its input tensor."""
    manifest = json.load(open(os.path.join(model_dir, 'manifest.json')))
    net = ResNet50W(width=manifest['architecture']['width'])
    net.load_state_dict(load_safetensors(os.path.join(model_dir, manifest['weights']['file'])), strict=False)
    net.eval()
    mean, std = manifest['normalization']['mean'][0], manifest['normalization']['std'][0]
    def input_of(path):
        im = np.asarray(Image.open(path).convert('L'), dtype=np.float32) / 255.0
        return torch.from_numpy((im - mean) / std)[None, None]
    return net, input_of, manifest

def read_list(tsv):
    return [line.rstrip('\n').split('\t') for line in open(tsv)]
