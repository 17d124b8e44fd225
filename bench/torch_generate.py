"""PyTorch reference for bench/generate.ts: batched greedy generation of stories260K with a KV cache.

Usage: /usr/bin/python3 bench/torch_generate.py MODEL.bin PROMPTS.json NEW_TOKENS REPEATS
PROMPTS.json holds a list of token-id lists; they are left-padded into one batch, padding masked and
positions counted over real tokens, exactly as Pharmacist's generate() does. Prints one JSON line:
tokens/s for 1 and 2 threads (best of REPEATS after a warm-up) and the generated ids.
"""
import json
import math
import struct
import sys
import time

import torch


def load(path):
    with open(path, 'rb') as f:
        dim, hidden, layers, heads, kv_heads, vocab, seq_len = struct.unpack('7i', f.read(28))
        flat = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
    shared = vocab > 0
    vocab = abs(vocab)
    hs = dim // heads
    at = [0]

    def take(*shape):
        n = math.prod(shape)
        out = flat[at[0]:at[0] + n].view(*shape)
        at[0] += n
        return out

    w = {'emb': take(vocab, dim), 'rms_att': take(layers, dim), 'wq': take(layers, dim, dim),
         'wk': take(layers, kv_heads * hs, dim), 'wv': take(layers, kv_heads * hs, dim), 'wo': take(layers, dim, dim),
         'rms_ffn': take(layers, dim), 'w1': take(layers, hidden, dim), 'w2': take(layers, dim, hidden),
         'w3': take(layers, hidden, dim), 'rms_final': take(dim)}
    take(seq_len, hs // 2)
    take(seq_len, hs // 2)
    w['wcls'] = w['emb'] if shared else take(vocab, dim)
    return w, dict(dim=dim, layers=layers, heads=heads, kv_heads=kv_heads, hs=hs)


def rmsnorm(x, w):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5))


def rope(x, pos, hs):
    # llama2.c rotates interleaved pairs (2i, 2i+1) with frequency 10000^(-2i/hs).
    freq = 1.0 / (10000.0 ** (torch.arange(0, hs, 2).float() / hs))
    angle = pos[:, :, None].float() * freq  # [B, T, hs/2]
    cos, sin = angle.cos()[:, :, None, :], angle.sin()[:, :, None, :]
    pairs = x.view(*x.shape[:-1], hs // 2, 2)
    x0, x1 = pairs[..., 0], pairs[..., 1]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)


def forward(w, cfg, ids, pos, key_mask, cache):
    B, T = ids.shape
    H, Hkv, hs = cfg['heads'], cfg['kv_heads'], cfg['hs']
    x = w['emb'][ids]
    for l in range(cfg['layers']):
        xb = rmsnorm(x, w['rms_att'][l])
        q = rope((xb @ w['wq'][l].T).view(B, T, H, hs), pos, hs)
        k = rope((xb @ w['wk'][l].T).view(B, T, Hkv, hs), pos, hs)
        v = (xb @ w['wv'][l].T).view(B, T, Hkv, hs)
        if cache[l] is not None:
            k, v = torch.cat((cache[l][0], k), 1), torch.cat((cache[l][1], v), 1)
        cache[l] = (k, v)
        Tk = k.shape[1]
        kh = k.repeat_interleave(H // Hkv, dim=2).transpose(1, 2)
        vh = v.repeat_interleave(H // Hkv, dim=2).transpose(1, 2)
        att = (q.transpose(1, 2) @ kh.transpose(-1, -2)) / math.sqrt(hs)
        causal = torch.arange(Tk)[None, :] <= (torch.arange(T)[:, None] + Tk - T)
        allowed = causal[None, None] & key_mask[:, None, None, :]
        att = torch.softmax(att.masked_fill(~allowed, float('-inf')), dim=-1).nan_to_num(0.0)
        x = x + (att @ vh).transpose(1, 2).reshape(B, T, H * hs) @ w['wo'][l].T
        xb = rmsnorm(x, w['rms_ffn'][l])
        x = x + (torch.nn.functional.silu(xb @ w['w1'][l].T) * (xb @ w['w3'][l].T)) @ w['w2'][l].T
    return rmsnorm(x[:, -1], w['rms_final']) @ w['wcls'].T


def generate(w, cfg, prompts, new_tokens):
    B, T = len(prompts), max(len(p) for p in prompts)
    ids = torch.zeros(B, T, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.bool)
    pos = torch.zeros(B, T, dtype=torch.long)
    for b, p in enumerate(prompts):
        ids[b, T - len(p):] = torch.tensor(p)
        mask[b, T - len(p):] = True
        pos[b, T - len(p):] = torch.arange(len(p))
    cache = [None] * cfg['layers']
    next_pos = torch.tensor([len(p) for p in prompts])
    out = []
    with torch.no_grad():
        logits = forward(w, cfg, ids, pos, mask, cache)
        for step in range(new_tokens):
            token = logits.argmax(-1)
            out.append(token)
            if step == new_tokens - 1:
                break
            mask = torch.cat((mask, torch.ones(B, 1, dtype=torch.bool)), 1)
            logits = forward(w, cfg, token[:, None], next_pos[:, None], mask, cache)
            next_pos = next_pos + 1
    return torch.stack(out, 1).tolist()


def main():
    model, prompts_file, new_tokens, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with open(prompts_file) as f:
        prompts = json.load(f)
    w, cfg = load(model)
    by_threads = {}
    tokens = None
    for threads in (1, 2):
        torch.set_num_threads(threads)
        tokens = generate(w, cfg, prompts, new_tokens)  # warm-up
        best = float('inf')
        for _ in range(repeats):
            t0 = time.perf_counter()
            generate(w, cfg, prompts, new_tokens)
            best = min(best, time.perf_counter() - t0)
        by_threads[threads] = len(prompts) * new_tokens / best
    best_threads = max(by_threads, key=by_threads.get)
    print(json.dumps({'torch_tokens_per_s': by_threads[best_threads], 'torch_threads': best_threads,
                      'torch_tokens_per_s_by_threads': by_threads, 'torch_version': torch.__version__, 'tokens': tokens}))


if __name__ == '__main__':
    main()
