import torch, time, sys
sys.path.insert(0, '.')
from r_model import ResNet50W
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv)>1 else 2)
for w, s, b in [(16,512,8),(16,256,16),(32,256,16)]:
    m = ResNet50W(w)
    opt = torch.optim.AdamW(m.parameters(), 1e-3)
    x = torch.randn(b,1,s,s)
    for i in range(3):
        t=time.time(); out = m(x); loss = sum(o.float().mean() for o in out.values()); opt.zero_grad(); loss.backward(); opt.step(); dt=time.time()-t
    print(w,s,b, f'{dt:.2f}s/step {b/dt:.1f} img/s', flush=True)
