"""Instructor's worked solution for the student-facing code contract (docs/design.md).

Every function below is written the way a strong student would write it: from
tensor primitives, without the library call that would do the exercise for them
(see the "not allowed" column of the contract).  The file is self-contained: it
imports only ``math``, ``torch`` and ``torch.nn.functional`` so it can run inside
the grading sandbox where nothing else of the project exists.

Conventions: inputs and outputs are ``torch.Tensor`` unless said otherwise, and
outputs keep the floating dtype of the inputs (float64 in, float64 out).
"""

import math

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


def _pair(value: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """Return ``(value, value)`` for an int, or the two entries of a length-2 sequence."""
    if isinstance(value, int):
        return value, value
    first, second = value
    return int(first), int(second)


def _softmax_last(scores: Tensor) -> Tensor:
    """Numerically stable softmax over the last dimension (max-shifted exponentials).

    A row whose entries are all ``-inf`` gives NaN, as ``torch.softmax`` does.
    """
    shifted = scores - scores.amax(dim=-1, keepdim=True)
    exp = torch.exp(shifted)
    return exp / exp.sum(dim=-1, keepdim=True)


# --------------------------------------------------------------------------- 1
def regularized_loss(
    data_loss: Tensor | float,
    weights: list[Tensor] | tuple[Tensor, ...],
    lam: float,
    kind: str = "l2",
) -> Tensor:
    """Data loss plus a weight penalty.

    ``kind="l2"``: ``data_loss + lam * sum_W ||W||_F^2`` (sum of squared entries);
    ``kind="l1"``: ``data_loss + lam * sum_W sum |W_ij|``.
    ``weights`` is a list of tensors of any shapes; returns a 0-d tensor.
    """
    if kind == "l2":
        penalties = [w.pow(2).sum() for w in weights]
    elif kind == "l1":
        penalties = [w.abs().sum() for w in weights]
    else:
        raise ValueError(f"kind must be 'l2' or 'l1', got {kind!r}")
    penalty = torch.stack(penalties).sum() if penalties else torch.zeros(())
    data = torch.as_tensor(data_loss)
    if not data.is_floating_point():
        data = data.to(penalty.dtype)
    return data + lam * penalty.to(data.dtype)


# --------------------------------------------------------------------------- 2
def softmax_cross_entropy(logits: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Mean softmax cross-entropy and its gradient with respect to the logits.

    ``logits`` (N, C), ``y`` (N,) integer class indices.  Returns
    ``(loss, dlogits)``: ``loss`` is a 0-d tensor equal to
    ``F.cross_entropy(logits, y)``, ``dlogits`` (N, C) is ``(softmax - onehot(y)) / N``.
    Stable for logits of magnitude 1e4 (log-sum-exp with the row max subtracted).
    """
    n = logits.shape[0]
    y = torch.as_tensor(y, dtype=torch.long, device=logits.device)
    shifted = logits - logits.amax(dim=1, keepdim=True)
    log_norm = torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    log_probs = shifted - log_norm
    rows = torch.arange(n, device=logits.device)
    loss = -log_probs[rows, y].mean()
    dlogits = torch.exp(log_probs)
    dlogits[rows, y] -= 1.0
    dlogits = dlogits / n
    return loss, dlogits


def relu_backward(dout: Tensor, x: Tensor) -> Tensor:
    """Gradient of ``relu(x)`` given upstream ``dout`` (same shape as ``x``).

    ``dx = dout`` where ``x > 0`` and ``0`` where ``x <= 0`` (PyTorch's choice at 0).
    """
    return torch.where(x > 0, dout, torch.zeros_like(dout))


def linear_backward(x: Tensor, W: Tensor, dout: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Backward pass of ``h = x @ W + b`` with ``W`` of shape (D_in, D_out).

    ``x`` (N, D_in) (any leading dims are treated as batch), ``dout`` (N, D_out).
    Returns ``(dx, dW, db)`` with shapes of ``x``, ``W`` (D_in, D_out) and ``b`` (D_out,).
    """
    x2 = x.reshape(-1, W.shape[0])
    d2 = dout.reshape(-1, W.shape[1])
    dx = (d2 @ W.transpose(0, 1)).reshape(x.shape)
    dW = x2.transpose(0, 1) @ d2
    db = d2.sum(dim=0)
    return dx, dW, db


def adam_step(
    param: Tensor,
    grad: Tensor,
    m: Tensor,
    v: Tensor,
    t: int,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> tuple[Tensor, Tensor, Tensor]:
    """One Adam update at step ``t`` (1-based), as ``torch.optim.Adam`` (no weight decay).

    ``m = b1 m + (1-b1) g``, ``v = b2 v + (1-b2) g^2``, bias-corrected with
    ``1 - b^t``; ``param - lr * m_hat / (sqrt(v_hat) + eps)``.
    Returns new tensors ``(param, m, v)``, all of ``param``'s shape; inputs are not modified.
    """
    if t < 1:
        raise ValueError("t is 1-based: the first step is t=1")
    m_new = beta1 * m + (1.0 - beta1) * grad
    v_new = beta2 * v + (1.0 - beta2) * grad * grad
    bias1 = 1.0 - beta1**t
    bias2 = 1.0 - beta2**t
    # Same arrangement of the arithmetic as torch.optim.Adam.
    denom = v_new.sqrt() / math.sqrt(bias2) + eps
    param_new = param - (lr / bias1) * m_new / denom
    return param_new, m_new, v_new


# --------------------------------------------------------------------------- 3
def batchnorm_forward(x: Tensor, gamma: Tensor, beta: Tensor, eps: float = 1e-5) -> Tensor:
    """Batch normalisation in training mode for ``x`` of shape (N, D).

    Normalises each feature with the batch mean and the *biased* batch variance
    over dim 0, then scales by ``gamma`` (D,) and shifts by ``beta`` (D,).
    Returns ``y`` (N, D).
    """
    mean = x.mean(dim=0, keepdim=True)
    centered = x - mean
    var = (centered * centered).mean(dim=0, keepdim=True)
    x_hat = centered / torch.sqrt(var + eps)
    return gamma * x_hat + beta


def dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Inverted dropout.

    When ``training`` is False (or ``p == 0``) returns ``x`` unchanged.  Otherwise
    each element is kept with probability ``1 - p`` and survivors are scaled by
    ``1 / (1 - p)``; ``p == 1`` gives all zeros.  Same shape and dtype as ``x``.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return torch.zeros_like(x)
    keep = (torch.rand(x.shape, device=x.device) < (1.0 - p)).to(x.dtype)
    return x * keep / (1.0 - p)


# --------------------------------------------------------------------------- 4
def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> Tensor:
    """2-d cross-correlation, as ``F.conv2d`` (zero padding, no dilation, no groups).

    ``x`` (N, C_in, H, W), ``weight`` (C_out, C_in, kH, kW), ``bias`` (C_out,) or None;
    ``stride``/``padding`` an int or an ``(h, w)`` pair.  Returns (N, C_out, H_out, W_out)
    with ``H_out = (H + 2 pad_h - kH) // stride_h + 1`` (likewise W_out).
    """
    s_h, s_w = _pair(stride)
    p_h, p_w = _pair(padding)
    k_h, k_w = weight.shape[-2], weight.shape[-1]
    x_pad = F.pad(x, (p_w, p_w, p_h, p_h))
    # windows: (N, C_in, H_out, W_out, kH, kW)
    windows = x_pad.unfold(2, k_h, s_h).unfold(3, k_w, s_w)
    out = torch.einsum("nchwij,ocij->nohw", windows, weight)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out


def max_pool2d(
    x: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
) -> Tensor:
    """Max pooling over the last two dims, as ``F.max_pool2d`` (no padding, floor mode).

    ``x`` (N, C, H, W) (or (C, H, W)); ``kernel_size``/``stride`` int or ``(h, w)``;
    ``stride=None`` means ``stride = kernel_size``.
    Returns (..., (H - kH) // sH + 1, (W - kW) // sW + 1).
    """
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = _pair(kernel_size if stride is None else stride)
    # after both unfolds: (..., H_out, W_out, kH, kW)
    windows = x.unfold(-2, k_h, s_h).unfold(-2, k_w, s_w)
    return windows.amax(dim=(-2, -1))


def global_avg_pool(x: Tensor) -> Tensor:
    """Global average pooling: (N, C, H, W) -> (N, C), the mean over H and W."""
    return x.sum(dim=(2, 3)) / (x.shape[2] * x.shape[3])


# --------------------------------------------------------------------------- 5
def fgsm(
    model: torch.nn.Module,
    x: Tensor,
    y: Tensor,
    eps: float,
    targeted: bool = False,
) -> Tensor:
    """Fast gradient sign method (one step, no clamping).

    ``g = grad_x CE(model(x), y)`` with mean cross-entropy and class indices ``y``.
    Untargeted: ``x + eps * sign(g)``; targeted (``y`` is the target class):
    ``x - eps * sign(g)``.  Returns a new tensor of ``x``'s shape, detached; the
    caller's ``x`` is not modified and no ``.grad`` is left on it or on the model.
    """
    x_var = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        loss = F.cross_entropy(model(x_var), y)
        (grad,) = torch.autograd.grad(loss, x_var)
    step = eps * grad.sign()
    adv = x.detach() - step if targeted else x.detach() + step
    return adv


def project_linf(x_adv: Tensor, x: Tensor, eps: float) -> Tensor:
    """Clip ``x_adv`` elementwise into ``[x - eps, x + eps]`` (L-infinity ball around ``x``)."""
    return torch.minimum(torch.maximum(x_adv, x - eps), x + eps)


# --------------------------------------------------------------------------- 6
def lstm_cell(
    x: Tensor,
    h_prev: Tensor,
    c_prev: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step, as ``nn.LSTMCell``; gate order i, f, g, o.

    ``x`` (N, I), ``h_prev``/``c_prev`` (N, H), ``weight_ih`` (4H, I), ``weight_hh`` (4H, H),
    ``bias_ih``/``bias_hh`` (4H,) or None.
    ``c = f * c_prev + i * g``, ``h = o * tanh(c)``.  Returns ``(h, c)``, each (N, H).
    """
    gates = x @ weight_ih.transpose(0, 1) + h_prev @ weight_hh.transpose(0, 1)
    if bias_ih is not None:
        gates = gates + bias_ih
    if bias_hh is not None:
        gates = gates + bias_hh
    i, f, g, o = gates.chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c_prev + i * g
    h = o * torch.tanh(c)
    return h, c


# --------------------------------------------------------------------------- 7
def skipgram_pairs(tokens: list, window: int) -> list[tuple]:
    """Skip-gram training pairs.

    For each position ``i`` in order, the pairs ``(tokens[i], tokens[j])`` for every
    ``j != i`` with ``|i - j| <= window``, ``j`` left to right, the window clipped
    at the ends of the sequence.  Returns a list of ``(center, context)`` tuples.
    """
    pairs: list[tuple] = []
    n = len(tokens)
    for i in range(n):
        for j in range(max(0, i - window), min(n, i + window + 1)):
            if j != i:
                pairs.append((tokens[i], tokens[j]))
    return pairs


def negative_sampling_loss(v_c: Tensor, u_o: Tensor, u_neg: Tensor) -> Tensor:
    """Skip-gram negative-sampling loss for one (center, context) pair.

    ``v_c`` (d,), ``u_o`` (d,), ``u_neg`` (K, d).  Returns the 0-d tensor
    ``-log s(u_o . v_c) - sum_k log s(-u_k . v_c)`` computed with ``logsigmoid``
    (stable for large scores).
    """
    positive = F.logsigmoid(torch.dot(u_o, v_c))
    negative = F.logsigmoid(-(u_neg @ v_c)).sum()
    return -positive - negative


def analogy(
    embeddings: Tensor,
    vocab: list[str] | dict[str, int],
    a: str,
    b: str,
    c: str,
) -> str:
    """Solve "a is to b as c is to ?" by cosine similarity.

    ``embeddings`` (V, d), row ``k`` is the vector of the ``k``-th word of ``vocab``
    (a list of words, or a dict word -> row index).  Returns the word ``w`` not in
    ``{a, b, c}`` maximising ``cosine(v_w, v_b - v_a + v_c)``.
    """
    if isinstance(vocab, dict):
        index = {word: int(k) for word, k in vocab.items()}
    else:
        index = {word: k for k, word in enumerate(vocab)}
    words = sorted(index, key=index.__getitem__)
    target = embeddings[index[b]] - embeddings[index[a]] + embeddings[index[c]]
    norms = embeddings.norm(dim=1) * target.norm()
    cosine = (embeddings @ target) / norms.clamp_min(torch.finfo(embeddings.dtype).tiny)
    best_word: str | None = None
    best_score = -math.inf
    excluded = {a, b, c}
    for word in words:
        if word in excluded:
            continue
        score = float(cosine[index[word]])
        if best_word is None or score > best_score:
            best_word, best_score = word, score
    if best_word is None:
        raise ValueError("vocab has no word outside {a, b, c}")
    return best_word


# --------------------------------------------------------------------------- 8
def attention_context(query: Tensor, encoder_states: Tensor) -> tuple[Tensor, Tensor]:
    """Dot-product (Luong) attention of one decoder query over encoder states.

    ``query`` (d,), ``encoder_states`` H (T, d).  Returns ``(alpha, context)``:
    ``alpha = softmax(H q)`` of shape (T,), ``context = alpha @ H`` of shape (d,).
    """
    scores = encoder_states @ query
    alpha = _softmax_last(scores)
    context = alpha @ encoder_states
    return alpha, context


# --------------------------------------------------------------------------- 9
def _attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """Scaled dot-product attention core shared by the two attention exercises.

    ``q`` (..., L_q, d_k), ``k`` (..., L_kv, d_k), ``v`` (..., L_kv, d_v); ``mask``
    boolean broadcastable to (..., L_q, L_kv) with ``True`` = may attend, or a float
    mask added to the scores.  Returns ``(out (..., L_q, d_v), weights (..., L_q, L_kv))``.
    """
    d_k = q.shape[-1]
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(d_k)
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask.to(scores.dtype)
    weights = _softmax_last(scores)
    # a query row with no allowed key gets zero weights (as F.scaled_dot_product_attention), not NaN
    weights = torch.nan_to_num(weights, nan=0.0)
    return weights @ v, weights


def scaled_dot_product_attention(
    q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """``softmax(q k^T / sqrt(d_k)) v`` with optional mask, as ``F.scaled_dot_product_attention``.

    ``q`` (..., L_q, d_k), ``k`` (..., L_kv, d_k), ``v`` (..., L_kv, d_v); any leading
    batch dims (broadcast).  ``mask`` boolean, broadcastable to (..., L_q, L_kv),
    ``True`` = may attend (a float mask is added to the scores instead).
    Returns ``(out (..., L_q, d_v), weights (..., L_q, L_kv))``.  A query row with no
    allowed key gives NaN, like a softmax over only ``-inf``.
    """
    return _attend(q, k, v, mask)


def multi_head_attention(
    x_q: Tensor,
    x_kv: Tensor,
    w_q: Tensor,
    w_k: Tensor,
    w_v: Tensor,
    w_o: Tensor,
    num_heads: int,
    mask: Tensor | None = None,
) -> Tensor:
    """Multi-head attention without biases, as ``nn.MultiheadAttention(bias=False, batch_first=True)``.

    ``x_q`` (N, L_q, d_model), ``x_kv`` (N, L_kv, d_model) (the same tensor for
    self-attention); ``w_q, w_k, w_v, w_o`` (d_model, d_model), projections ``x @ w``.
    The projected ``d_model`` is split into ``num_heads`` heads of ``d_head = d_model /
    num_heads`` columns each, scores are scaled by ``1/sqrt(d_head)``, the head outputs
    are concatenated and multiplied by ``w_o``.  ``mask`` boolean (L_q, L_kv), or a
    batch mask (N, L_q, L_kv) / (N, heads, L_q, L_kv); ``True`` = may attend.
    Returns (N, L_q, d_model).  Unbatched (L, d_model) inputs give (L_q, d_model).
    """
    unbatched = x_q.dim() == 2
    if unbatched:
        x_q, x_kv = x_q.unsqueeze(0), x_kv.unsqueeze(0)
    n, l_q, _ = x_q.shape
    l_kv = x_kv.shape[1]
    d_model = w_q.shape[1]
    if d_model % num_heads != 0:
        raise ValueError("d_model must be divisible by num_heads")
    d_head = d_model // num_heads

    def split(t: Tensor, length: int) -> Tensor:
        """(N, L, d_model) -> (N, heads, L, d_head)."""
        return t.reshape(n, length, num_heads, d_head).transpose(1, 2)

    q = split(x_q @ w_q, l_q)
    k = split(x_kv @ w_k, l_kv)
    v = split(x_kv @ w_v, l_kv)
    if mask is not None and mask.dim() == 3:
        mask = mask.unsqueeze(1)  # (N, L_q, L_kv) -> broadcast over heads
    heads, _ = _attend(q, k, v, mask)
    concat = heads.transpose(1, 2).reshape(n, l_q, d_model)
    out = concat @ w_o
    return out.squeeze(0) if unbatched else out


def sinusoidal_positional_encoding(seq_len: int, d_model: int) -> Tensor:
    """Sinusoidal positional encodings of "Attention is all you need", float64.

    Returns a float64 tensor (seq_len, d_model) with
    ``PE[pos, 2i] = sin(pos / 10000^(2i/d_model))`` and
    ``PE[pos, 2i+1] = cos(pos / 10000^(2i/d_model))``; odd ``d_model`` works (the last
    column is then a sine).  Cast with ``.to(dtype)`` if needed.
    """
    pe = torch.zeros(seq_len, d_model, dtype=torch.float64)
    position = torch.arange(seq_len, dtype=torch.float64).unsqueeze(1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)
    angle = position / torch.pow(torch.tensor(10000.0, dtype=torch.float64), two_i / d_model)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe


def layer_norm(
    x: Tensor, gamma: Tensor | None, beta: Tensor | None, eps: float = 1e-5
) -> Tensor:
    """Layer normalisation over the last dimension, as ``F.layer_norm(x, (D,), gamma, beta, eps)``.

    Mean and *biased* variance over the last dim of ``x`` (..., D); ``gamma``/``beta``
    (D,) (None means 1 / 0).  Returns a tensor of ``x``'s shape.
    """
    mean = x.mean(dim=-1, keepdim=True)
    centered = x - mean
    var = (centered * centered).mean(dim=-1, keepdim=True)
    y = centered / torch.sqrt(var + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y


# -------------------------------------------------------------------------- 10
def patchify(images: Tensor, patch_size: int) -> Tensor:
    """Cut images into non-overlapping square patches, as in a ViT.

    ``images`` (N, C, H, W) with H and W divisible by P = ``patch_size``.  Returns
    (N, (H/P)(W/P), C*P*P): patches in row-major order (left to right, then top to
    bottom), each flattened in (C, P, P) order.
    """
    n, c, h, w = images.shape
    p = patch_size
    if h % p or w % p:
        raise ValueError(f"image size {h}x{w} is not divisible by patch size {p}")
    gh, gw = h // p, w // p
    x = images.reshape(n, c, gh, p, gw, p)
    x = x.permute(0, 2, 4, 1, 3, 5)  # (N, gh, gw, C, P, P)
    return x.reshape(n, gh * gw, c * p * p)


# -------------------------------------------------------------------------- 11
def lora_linear(
    x: Tensor, weight: Tensor, lora_a: Tensor, lora_b: Tensor, alpha: float
) -> Tensor:
    """Linear layer with a LoRA update, no bias.

    ``x`` (..., in), ``weight`` W (out, in), ``lora_a`` A (r, in), ``lora_b`` B (out, r).
    Returns ``x W^T + (alpha/r) x A^T B^T`` of shape (..., out).
    """
    r = lora_a.shape[0]
    return x @ weight.transpose(0, 1) + (alpha / r) * ((x @ lora_a.transpose(0, 1)) @ lora_b.transpose(0, 1))


def lora_merge(weight: Tensor, lora_a: Tensor, lora_b: Tensor, alpha: float) -> Tensor:
    """Merged LoRA weight ``W + (alpha/r) B A`` of shape (out, in); ``r = A.shape[0]``."""
    r = lora_a.shape[0]
    return weight + (alpha / r) * (lora_b @ lora_a)


# -------------------------------------------------------------------------- 12
def _clamped_log(t: Tensor) -> Tensor:
    """``log(t)`` clamped below at -100, as ``F.binary_cross_entropy`` does."""
    return torch.log(t).clamp_min(-100.0)


def _clamped_log1m(t: Tensor) -> Tensor:
    """``log(1 - t)`` clamped below at -100, as ``F.binary_cross_entropy`` does."""
    return torch.log1p(-t).clamp_min(-100.0)


def gan_discriminator_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """Discriminator loss on probabilities: ``-(mean log d_real + mean log(1 - d_fake))``.

    ``d_real``/``d_fake`` any shapes, values in [0, 1].  Returns a 0-d tensor equal to
    ``BCE(d_real, 1) + BCE(d_fake, 0)`` (logs clamped at -100 like PyTorch).
    """
    return -(_clamped_log(d_real).mean() + _clamped_log1m(d_fake).mean())


def gan_generator_loss(d_fake: Tensor, non_saturating: bool = True) -> Tensor:
    """Generator loss on discriminator probabilities ``d_fake``.

    Non-saturating (default): ``-mean log d_fake``; otherwise the minimax form
    ``mean log(1 - d_fake)``.  Returns a 0-d tensor.
    """
    if non_saturating:
        return -_clamped_log(d_fake).mean()
    return _clamped_log1m(d_fake).mean()


def diffusion_q_sample(x0: Tensor, t: Tensor, noise: Tensor, alpha_bar: Tensor) -> Tensor:
    """Sample ``x_t ~ q(x_t | x_0)`` in closed form.

    ``x0`` and ``noise`` (N, ...), ``t`` (N,) integer steps, ``alpha_bar`` (T,).
    Returns ``sqrt(ab[t]) x0 + sqrt(1 - ab[t]) noise``, ``ab[t]`` broadcast per sample
    over the trailing dims; shape and dtype of ``x0``.
    """
    t = torch.as_tensor(t, dtype=torch.long, device=alpha_bar.device)
    ab = alpha_bar[t].to(x0.dtype)
    ab = ab.reshape(ab.shape + (1,) * (x0.dim() - ab.dim()))
    return torch.sqrt(ab) * x0 + torch.sqrt(1.0 - ab) * noise


def diffusion_loss(eps_pred: Tensor, eps: Tensor) -> Tensor:
    """Mean squared error between predicted and true noise; a 0-d tensor."""
    diff = eps_pred - eps
    return (diff * diff).mean()
