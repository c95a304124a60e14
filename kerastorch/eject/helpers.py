"""Source text of the helper functions an ejected ``model.py`` may need: the Keras semantics torch has no
ready-made call for. Each is written into the file only when one of the model's layers asks for it, in the
order they were registered in (:func:`register_helpers`), so that the same model always gives the same text."""
from __future__ import annotations

HELPERS: dict[str, str] = {
    "tf_same_pad": '''
def tf_same_pad(x: torch.Tensor, kernel: tuple, strides: tuple, dilation: tuple, value: float = 0.0) -> torch.Tensor:
    """TensorFlow's 'same' padding of the spatial dims of a channels-first tensor: total padding
    max((ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0) per dim, the odd pixel going after (torch's padding=
    is symmetric, so it cannot express this split)."""
    pad = []
    for n, k, s, d in zip(reversed(x.shape[2:]), reversed(kernel), reversed(strides), reversed(dilation)):
        total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pad += [total // 2, total - total // 2]
    return F.pad(x, pad, value=value)
''',
    "avg_pool_same": '''
def avg_pool_same(x: torch.Tensor, kernel: tuple, strides: tuple) -> torch.Tensor:
    """Keras average pooling with 'same' padding: TF's asymmetric split, and padded positions excluded
    from each average (torch's count_include_pad=False needs symmetric padding)."""
    pool = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[x.dim() - 2]
    ones = torch.ones_like(x[:1, :1])
    total = pool(tf_same_pad(x, kernel, strides, (1,) * len(kernel)), kernel, strides)
    count = pool(tf_same_pad(ones, kernel, strides, (1,) * len(kernel)), kernel, strides)
    return total / count
''',
    "keras_relu": '''
def keras_relu(x: torch.Tensor, negative_slope: float = 0.0, max_value: float | None = None,
               threshold: float = 0.0) -> torch.Tensor:
    """Keras ReLU(max_value, negative_slope, threshold): x above threshold, negative_slope * (x - threshold)
    below it, clipped at max_value."""
    out = torch.where(x > threshold, x, torch.zeros_like(x)) if threshold != 0.0 else F.relu(x)
    if max_value is not None:
        out = out.clamp(max=max_value)
    if negative_slope != 0.0:
        out = torch.where(x < threshold, negative_slope * (x - threshold), out)
    return out
''',
    "hard_sigmoid_tf": '''
def hard_sigmoid_tf(x: torch.Tensor) -> torch.Tensor:
    """tf.keras / Keras 2 hard_sigmoid: clip(0.2 * x + 0.5, 0, 1) (Keras 3's is torch's F.hardsigmoid)."""
    return (0.2 * x + 0.5).clamp(0.0, 1.0)
''',
    "elu_tf": '''
def elu_tf(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """Keras ELU with alpha != 1: x for x >= 0, alpha * (exp(x) - 1) below."""
    return torch.where(x >= 0, x, alpha * torch.expm1(x.clamp(max=0)))
''',
    "batch_norm_biased": '''
def batch_norm_biased(bn: nn.modules.batchnorm._BatchNorm, x: torch.Tensor) -> torch.Tensor:
    """Keras BatchNormalization whose moving variance takes the *biased* batch variance (Keras 3; tf.keras
    off its fused 4-D/5-D path). torch's BatchNorm updates running_var with the unbiased one: rescale
    around the call so that the update is Keras's (outputs are the same either way)."""
    if not bn.training:
        return bn(x)
    n = x.numel() // x.shape[1]
    with torch.no_grad():
        bn.running_var.mul_(n / (n - 1))
    y = bn(x)
    with torch.no_grad():
        bn.running_var.mul_((n - 1) / n)
    return y
''',
    "drop_path": '''
def drop_path(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Keras StochasticDepth: in training, drop whole samples with probability rate (scaling the kept ones
    by 1 / (1 - rate)); the identity in inference."""
    if not training or rate == 0.0:
        return x
    keep = torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), dtype=x.dtype, device=x.device) >= rate
    return x * keep / (1.0 - rate)
''',
    "keras_dropout": '''
def keras_dropout(x: torch.Tensor, rate: float, noise_shape: tuple, training: bool) -> torch.Tensor:
    """Keras Dropout with a noise_shape: one keep/drop draw per element of noise_shape, broadcast over x,
    kept values scaled by 1 / (1 - rate); the identity in inference."""
    if not training or rate == 0.0:
        return x
    keep = torch.rand(noise_shape, dtype=x.dtype, device=x.device) >= rate
    return x * keep / (1.0 - rate)
''',
    "gaussian_noise": '''
def gaussian_noise(x: torch.Tensor, stddev: float, training: bool) -> torch.Tensor:
    """Keras GaussianNoise: adds N(0, stddev) noise in training; the identity in inference."""
    return x + stddev * torch.randn_like(x) if training else x
''',
    "gaussian_dropout": '''
def gaussian_dropout(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Keras GaussianDropout: multiplies by N(1, rate / (1 - rate)) noise in training; identity in inference."""
    return x * (1.0 + (rate / (1.0 - rate)) ** 0.5 * torch.randn_like(x)) if training else x
''',
    "lstm_keras": '''
def lstm_keras(x: torch.Tensor, state: tuple | None, w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor | None,
               activation, recurrent_activation) -> tuple:
    """A Keras LSTM whose activations are not torch's (tanh, sigmoid): a step loop over Keras's gates i, f, c, o
    (torch's order too). Returns what nn.LSTM returns: (outputs, (h_n, c_n))."""
    h, c = (x.new_zeros(x.shape[0], w_hh.shape[1]),) * 2 if state is None else (state[0][0], state[1][0])
    gates_x = F.linear(x, w_ih, b_ih)
    outputs = []
    for t in range(x.shape[1]):
        i, f, g, o = (gates_x[:, t] + F.linear(h, w_hh)).chunk(4, dim=-1)
        c = recurrent_activation(f) * c + recurrent_activation(i) * activation(g)
        h = recurrent_activation(o) * activation(c)
        outputs.append(h)
    return torch.stack(outputs, dim=1), (h.unsqueeze(0), c.unsqueeze(0))
''',
    "gru_keras": '''
def gru_keras(x: torch.Tensor, state: torch.Tensor | None, w_ih: torch.Tensor, w_hh: torch.Tensor,
              b_ih: torch.Tensor | None, b_hh: torch.Tensor | None, activation, recurrent_activation,
              reset_after: bool) -> tuple:
    """A Keras GRU that nn.GRU cannot run: reset_after=False (the reset gate scales h *before* the recurrent
    kernel) or activations other than tanh / sigmoid. Keras's gate order z, r, h (torch's is r, z, n).
    Returns what nn.GRU returns: (outputs, h_n)."""
    h = x.new_zeros(x.shape[0], w_hh.shape[1]) if state is None else state[0]
    gates_x = F.linear(x, w_ih, b_ih)
    w_hz, w_hr, w_hh_h = w_hh.chunk(3, dim=0)
    b_hz, b_hr, b_hh_h = (None, None, None) if b_hh is None else b_hh.chunk(3)
    outputs = []
    for t in range(x.shape[1]):
        x_z, x_r, x_h = gates_x[:, t].chunk(3, dim=-1)
        z = recurrent_activation(x_z + F.linear(h, w_hz, b_hz))
        r = recurrent_activation(x_r + F.linear(h, w_hr, b_hr))
        if reset_after:
            candidate = activation(x_h + r * F.linear(h, w_hh_h, b_hh_h))
        else:
            candidate = activation(x_h + F.linear(r * h, w_hh_h, b_hh_h))
        h = z * h + (1 - z) * candidate
        outputs.append(h)
    return torch.stack(outputs, dim=1), h.unsqueeze(0)
''',
    "rnn_outputs": '''
def rnn_outputs(result: tuple, return_sequences: bool) -> tuple:
    """nn.LSTM / nn.GRU / nn.RNN's (outputs, h_n) or (outputs, (h_n, c_n)) as Keras's return_state=True list:
    (the sequence or its last step, h[, c])."""
    outputs, states = result
    states = states if isinstance(states, tuple) else (states,)
    return (outputs if return_sequences else outputs[:, -1], *(s[-1] for s in states))
''',
    "bidirectional_merge": '''
def bidirectional_merge(result: tuple, return_sequences: bool, merge_mode: str | None):
    """Keras Bidirectional's merge of a bidirectional nn.LSTM / nn.GRU's directions: the backward direction's
    outputs re-reversed in time (torch's already are), or its final state for return_sequences=False;
    merge_mode 'concat' / 'sum' / 'ave' / 'mul', or None: both, as a tuple."""
    outputs, states = result
    h_n = states[0] if isinstance(states, tuple) else states
    if return_sequences:
        forward, backward = outputs.chunk(2, dim=-1)
    else:
        forward, backward = h_n[-2], h_n[-1]
    if merge_mode == "concat":
        return torch.cat([forward, backward], dim=-1)
    if merge_mode == "sum":
        return forward + backward
    if merge_mode == "ave":
        return (forward + backward) / 2
    if merge_mode == "mul":
        return forward * backward
    return forward, backward
''',
    "multi_head_attention": '''
def multi_head_attention(query: torch.Tensor, value: torch.Tensor, key: torch.Tensor, proj: nn.ModuleDict,
                         num_heads: int, dropout: float, training: bool, causal: bool = False,
                         num_kv_heads: int | None = None) -> torch.Tensor:
    """Keras MultiHeadAttention over the sequence axis: per-head query/key/value projections (Keras's key_dim
    need not be embed_dim / num_heads, so nn.MultiheadAttention does not fit), softmax(q k^T / sqrt(key_dim)) v
    in F.scaled_dot_product_attention (a causal mask is Keras's lower-triangular one), dropout on the attention
    probabilities in training, and the output projection of the concatenated heads. num_kv_heads: Keras 3's
    GroupQueryAttention, each key/value head serving num_heads / num_kv_heads consecutive query heads."""
    kv_heads = num_kv_heads or num_heads
    q = proj["query"](query).unflatten(-1, (num_heads, -1)).transpose(1, 2)
    k = proj["key"](key).unflatten(-1, (kv_heads, -1)).transpose(1, 2)
    v = proj["value"](value).unflatten(-1, (kv_heads, -1)).transpose(1, 2)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout if training else 0.0, is_causal=causal,
                                         enable_gqa=kv_heads != num_heads)
    return proj["output"](out.transpose(1, 2).flatten(2))
''',
}

#: Helpers that call other helpers.
REQUIRES: dict[str, tuple[str, ...]] = {"avg_pool_same": ("tf_same_pad",)}


def register_helpers(sources: dict[str, str], requires: dict[str, tuple[str, ...]] | None = None) -> None:
    """Add a family's helpers (its ``emit_*`` module calls this on import). A file lists helpers in the order
    they were registered, so a helper's dependencies are registered before it."""
    clash = set(sources) & set(HELPERS)
    if clash:
        raise ValueError(f"eject helpers registered twice: {sorted(clash)}")
    HELPERS.update(sources)
    REQUIRES.update(requires or {})


def helper_source(names: set[str]) -> str:
    """The source of the named helpers and what they need, in registration order (dependencies first)."""
    wanted = set(names)
    pending = list(wanted)
    while pending:
        for dep in REQUIRES.get(pending.pop(), ()):
            if dep not in wanted:
                wanted.add(dep)
                pending.append(dep)
    return "".join(HELPERS[n] + "\n" for n in HELPERS if n in wanted)
