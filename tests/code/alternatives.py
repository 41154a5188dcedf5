"""Alternative correct implementations of the 28 contract functions, as a student might
write them: a different but equivalent formulation of each (einsum instead of matmul,
F.unfold or loops instead of Tensor.unfold, log-sum-exp instead of a shifted softmax,
float32 where the output dtype is free, ...).  Graded as a submission, it must score 100%.

This file is student code for the tests: it is read as text and only ever run in the
sandbox.
"""

import math

import torch
import torch.nn.functional as F


def regularized_loss(data_loss, weights, lam, kind="l2"):
    total = data_loss
    for w in weights:
        if kind == "l2":
            total = total + lam * torch.linalg.vector_norm(w) ** 2
        else:
            total = total + lam * torch.linalg.vector_norm(w, ord=1)
    return total


def softmax_cross_entropy(logits, y):
    n, c = logits.shape
    lse = torch.logsumexp(logits, dim=1)
    loss = (lse - logits.gather(1, y.view(-1, 1)).squeeze(1)).mean()
    probs = torch.exp(logits - lse.unsqueeze(1))
    return loss, (probs - F.one_hot(y, c).to(logits.dtype)) / n


def relu_backward(dout, x):
    return dout * (x > 0).to(dout.dtype)


def linear_backward(x, W, dout):
    dx = torch.einsum("no,io->ni", dout, W)
    dW = torch.einsum("ni,no->io", x, dout)
    db = torch.einsum("no->o", dout)
    return dx, dW, db


def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    # The paper's "efficient" form: fold both bias corrections into the step size.
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    correction = math.sqrt(1 - beta2**t)
    step = lr * correction / (1 - beta1**t)
    return param - step * m / (v.sqrt() + eps * correction), m, v


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)
    var = (x * x).mean(dim=0) - mean * mean
    return (x - mean) * torch.rsqrt(var + eps) * gamma + beta


def dropout(x, p, training):
    if not training:
        return x
    keep = torch.bernoulli(torch.full_like(x, 1 - p)).bool()
    return torch.where(keep, x / (1 - p), torch.zeros_like(x))


def conv2d(x, weight, bias=None, stride=1, padding=0):
    n, _, h, w = x.shape
    c_out, _, k_h, k_w = weight.shape
    cols = F.unfold(x, (k_h, k_w), padding=padding, stride=stride)
    h_out = (h + 2 * padding - k_h) // stride + 1
    w_out = (w + 2 * padding - k_w) // stride + 1
    out = (weight.reshape(c_out, -1) @ cols).reshape(n, c_out, h_out, w_out)
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out


def max_pool2d(x, kernel_size, stride):
    n, c, h, w = x.shape
    h_out = (h - kernel_size) // stride + 1
    w_out = (w - kernel_size) // stride + 1
    out = torch.empty(n, c, h_out, w_out, dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, :, i * stride : i * stride + kernel_size, j * stride : j * stride + kernel_size]
            out[:, :, i, j] = window.reshape(n, c, -1).max(dim=2).values
    return out


def global_avg_pool(x):
    return x.flatten(2).mean(dim=-1)


def fgsm(model, x, y, eps, targeted=False):
    x_adv = x.clone().detach().requires_grad_(True)
    loss = F.cross_entropy(model(x_adv), y)
    loss.backward()
    direction = -1.0 if targeted else 1.0
    return (x_adv + direction * eps * x_adv.grad.sign()).detach()


def project_linf(x_adv, x, eps):
    return x + (x_adv - x).clamp(-eps, eps)


def lstm_cell(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    hidden = h_prev.shape[1]
    weights = torch.cat([weight_ih, weight_hh], dim=1)
    gates = torch.cat([x, h_prev], dim=1) @ weights.T + (bias_ih + bias_hh)
    i = torch.sigmoid(gates[:, :hidden])
    f = torch.sigmoid(gates[:, hidden : 2 * hidden])
    g = torch.tanh(gates[:, 2 * hidden : 3 * hidden])
    o = torch.sigmoid(gates[:, 3 * hidden :])
    c = f * c_prev + i * g
    return o * torch.tanh(c), c


def skipgram_pairs(tokens, window):
    pairs = []
    for i, center in enumerate(tokens):
        left = tokens[max(0, i - window) : i]
        right = tokens[i + 1 : i + 1 + window]
        pairs.extend((center, context) for context in [*left, *right])
    return pairs


def negative_sampling_loss(v_c, u_o, u_neg):
    return F.softplus(-(u_o @ v_c)) + F.softplus(u_neg @ v_c).sum()


def analogy(embeddings, vocab, a, b, c):
    unit = embeddings / embeddings.norm(dim=1, keepdim=True)
    index = {word: k for k, word in enumerate(vocab)}
    target = embeddings[index[b]] - embeddings[index[a]] + embeddings[index[c]]
    scores = unit @ (target / target.norm())
    for word in (a, b, c):
        scores[index[word]] = float("-inf")
    return vocab[int(torch.argmax(scores))]


def attention_context(query, encoder_states):
    alpha = torch.softmax(encoder_states @ query, dim=0)
    context = (alpha[:, None] * encoder_states).sum(dim=0)
    return alpha, context


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = torch.einsum("...qd,...kd->...qk", q, k) * (1.0 / math.sqrt(q.shape[-1]))
    if mask is not None:
        scores = torch.where(mask, scores, torch.tensor(float("-inf"), dtype=scores.dtype))
    weights = torch.softmax(scores, dim=-1)
    return torch.einsum("...qk,...kd->...qd", weights, v), weights


def multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, num_heads, mask=None):
    d_model = x_q.shape[-1]
    d_head = d_model // num_heads
    q, k, v = x_q @ w_q, x_kv @ w_k, x_kv @ w_v
    heads = []
    for h in range(num_heads):
        cols = slice(h * d_head, (h + 1) * d_head)
        out, _ = scaled_dot_product_attention(q[..., cols], k[..., cols], v[..., cols], mask)
        heads.append(out)
    return torch.cat(heads, dim=-1) @ w_o


def sinusoidal_positional_encoding(seq_len, d_model):
    # float32 on purpose: the output dtype is the student's choice here.
    position = torch.arange(seq_len, dtype=torch.float32).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(seq_len, d_model, dtype=torch.float32)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)[:, : d_model // 2]
    return pe


def layer_norm(x, gamma, beta, eps=1e-5):
    var, mean = torch.var_mean(x, dim=-1, keepdim=True, unbiased=False)
    return (x - mean) * torch.rsqrt(var + eps) * gamma + beta


def patchify(images, patch_size):
    cols = F.unfold(images, kernel_size=patch_size, stride=patch_size)
    return cols.transpose(1, 2)


def lora_linear(x, weight, lora_a, lora_b, alpha):
    merged = weight + (alpha / lora_a.shape[0]) * (lora_b @ lora_a)
    return x @ merged.T


def lora_merge(weight, lora_a, lora_b, alpha):
    return weight + torch.einsum("or,ri->oi", lora_b, lora_a) * (alpha / lora_a.shape[0])


def gan_discriminator_loss(d_real, d_fake):
    return F.binary_cross_entropy(d_real, torch.ones_like(d_real)) + F.binary_cross_entropy(
        d_fake, torch.zeros_like(d_fake)
    )


def gan_generator_loss(d_fake, non_saturating=True):
    if non_saturating:
        return F.binary_cross_entropy(d_fake, torch.ones_like(d_fake))
    return -F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake))


def diffusion_q_sample(x0, t, noise, alpha_bar):
    ab = alpha_bar.index_select(0, t).view(-1, *([1] * (x0.dim() - 1)))
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def diffusion_loss(eps_pred, eps):
    return F.mse_loss(eps_pred, eps)
