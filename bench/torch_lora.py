"""bench:lora's reference: the same LoRA SFT step in PyTorch (CPU), at 1 and 2 threads; one JSON line.

Run by bench/lora.ts once per round when /usr/bin/python3 can import torch (Debian's python3-torch). The model is
the Llama of the given config.json (RMSNorm, rotary positions, grouped-query attention, SwiGLU MLP, tied head),
randomly initialised (the step's time does not depend on the weights), its weights frozen
(requires_grad=False), with standard LoRA on the seven projections: y = W x + (alpha / r) B A dropout(x), A
Kaiming-uniform and B zero as PEFT initialises them, AdamW on the adapters. Also the best torch.mm rate on
1024 x 1024 x 1024 (the ceiling's reference). Never a runtime dependency of Pharmacist.
"""
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ARGS = json.loads(sys.argv[1])
B, T, R, ALPHA, DROPOUT, STEPS = ARGS["B"], ARGS["T"], ARGS["r"], ARGS["alpha"], ARGS["dropout"], ARGS["steps"]
with open(ARGS["config"]) as f:
    CFG = json.load(f)
V, D, L = CFG["vocab_size"], CFG["hidden_size"], CFG["num_hidden_layers"]
H, KV, FF = CFG["num_attention_heads"], CFG["num_key_value_heads"], CFG["intermediate_size"]
HD = CFG.get("head_dim", D // H)
THETA, EPS = CFG.get("rope_theta", 10000.0), CFG.get("rms_norm_eps", 1e-5)


class LoraLinear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.base = nn.Linear(n_in, n_out, bias=False)
        self.base.weight.requires_grad = False
        self.a = nn.Parameter(torch.empty(R, n_in))
        nn.init.kaiming_uniform_(self.a, a=math.sqrt(5))
        self.b = nn.Parameter(torch.zeros(n_out, R))
        self.drop = nn.Dropout(DROPOUT)

    def forward(self, x):
        return self.base(x) + (self.drop(x) @ self.a.t() @ self.b.t()) * (ALPHA / R)


class RmsNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(D), requires_grad=False)

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * self.weight


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


MASK = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)


def attention(q, k, v):
    """Causal attention (PyTorch 1.13 has no scaled_dot_product_attention)."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    att = (q @ k.transpose(-2, -1)) / math.sqrt(HD)
    return att.masked_fill(MASK, float("-inf")).softmax(-1) @ v


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_norm, self.post_norm = RmsNorm(), RmsNorm()
        self.q, self.k, self.v = LoraLinear(D, H * HD), LoraLinear(D, KV * HD), LoraLinear(D, KV * HD)
        self.o = LoraLinear(H * HD, D)
        self.gate, self.up, self.down = LoraLinear(D, FF), LoraLinear(D, FF), LoraLinear(FF, D)

    def forward(self, x, cos, sin):
        h = self.input_norm(x)
        q = self.q(h).view(B, T, H, HD).transpose(1, 2)
        k = self.k(h).view(B, T, KV, HD).transpose(1, 2)
        v = self.v(h).view(B, T, KV, HD).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        k, v = k.repeat_interleave(H // KV, dim=1), v.repeat_interleave(H // KV, dim=1)
        y = attention(q, k, v)
        x = x + self.o(y.transpose(1, 2).reshape(B, T, H * HD))
        h = self.post_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, D)
        self.embed.weight.requires_grad = False
        self.layers = nn.ModuleList(Layer() for _ in range(L))
        self.norm = RmsNorm()
        inv = 1.0 / (THETA ** (torch.arange(0, HD, 2).float() / HD))
        angles = torch.outer(torch.arange(T).float(), inv)
        self.cos = torch.cat((angles, angles), dim=-1).cos()
        self.sin = torch.cat((angles, angles), dim=-1).sin()

    def forward(self, idx):
        x = self.embed(idx)
        for layer in self.layers:
            x = layer(x, self.cos, self.sin)
        return self.norm(x) @ self.embed.weight.t()


def measure(threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Llama()
    adapters = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(adapters, lr=1e-3, weight_decay=0.0)
    idx, tgt = torch.randint(0, V, (B, T)), torch.randint(0, V, (B, T))
    times = []
    for i in range(1 + STEPS):
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(idx).view(-1, V), tgt.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= 1:
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def gemm_gflops():
    n = 1024
    a, b = torch.rand(n, n), torch.rand(n, n)
    best = min(_timed(lambda: torch.mm(a, b)) for _ in range(5))
    return 2 * n**3 / best / 1e9


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


by_threads = {str(t): measure(t) for t in (1, 2)}
print(json.dumps({"torch_version": torch.__version__, "step_ms_by_threads": by_threads, "gemm_gflops": gemm_gflops()}))
