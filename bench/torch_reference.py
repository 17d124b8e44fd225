"""The engine benchmark's reference: the same GPT training step in PyTorch (CPU), best over 1 and 2 threads.

Run by bench/engine.ts when /usr/bin/python3 can import torch (Debian's python3-torch); prints one JSON line.
Model: vocab 4096, d_model 256, 4 layers, 4 heads, sequence 128, batch 8, GELU (erf) MLP 1024, LayerNorm,
untied head, AdamW. Never a runtime dependency of Pharmacist.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

V, C, L, H, T, B, FF = 4096, 256, 4, 4, 128, 8, 1024
WARMUP, STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 3, int(sys.argv[2]) if len(sys.argv) > 2 else 10


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C)
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C)
        self.c_fc = nn.Linear(C, FF)
        self.mlp_proj = nn.Linear(FF, C)

    def forward(self, x):
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True) if hasattr(F, "scaled_dot_product_attention") else None
        if y is None:
            att = (q @ k.transpose(-2, -1)) / (C // H) ** 0.5
            att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
            y = att @ v
        x = x + self.c_proj(y.transpose(1, 2).reshape(B, T, C))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class Gpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.blocks = nn.ModuleList(Block() for _ in range(L))
        self.ln_f = nn.LayerNorm(C)
        self.head = nn.Linear(C, V, bias=False)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.blocks:
            x = b(x)
        return self.head(self.ln_f(x))


def measure(threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Gpt()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    idx = torch.randint(0, V, (B, T))
    tgt = torch.randint(0, V, (B, T))
    times, fwd = [], []
    for i in range(WARMUP + STEPS):
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(idx).view(-1, V), tgt.view(-1))
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        t2 = time.perf_counter()
        if i >= WARMUP:
            times.append((t2 - t0) * 1000)
            fwd.append((t1 - t0) * 1000)
    return statistics.median(times), statistics.median(fwd)


results = {t: measure(t) for t in (1, 2)}
best = min(results, key=lambda t: results[t][0])
print(json.dumps({
    "torch_version": torch.__version__,
    "torch_step_ms": results[best][0],
    "torch_forward_ms": results[best][1],
    "torch_threads": best,
    "torch_step_ms_by_threads": {str(t): results[t][0] for t in results},
}))
