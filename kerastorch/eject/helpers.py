"""Source text of the helper functions an ejected ``model.py`` may need: the Keras semantics torch has no
ready-made call for. Each is written into the file only when one of the model's layers asks for it, in the
order they were registered in (:func:`register_helpers`), so that the same model always gives the same text."""
from __future__ import annotations

import ast

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
    "masked_mean": '''
def masked_mean(x: torch.Tensor, mask: torch.Tensor, keepdim: bool = False) -> torch.Tensor:
    """Keras GlobalAveragePooling1D with a mask: the mean over the kept steps only, sum(x * mask) / sum(mask)
    (a row with no kept step gives NaN, as in Keras)."""
    mask = mask.unsqueeze(-1).to(x.dtype)
    return (x * mask).sum(dim=1, keepdim=keepdim) / mask.sum(dim=1, keepdim=keepdim)
''',
    "keras3_masked_merge": '''
def keras3_masked_merge(op: str, xs: list, masks: list) -> torch.Tensor:
    """Keras 3's Multiply / Maximum / Minimum of masked inputs (a mask per input or None): a masked-out element
    does not take part. Multiply: it counts as 1, and where every input has a mask, an element none keeps is 0;
    Maximum / Minimum: it takes the value merged so far (or the next input's)."""
    masks = [None if m is None else m.unsqueeze(-1).expand_as(x) for x, m in zip(xs, masks)]
    if op == "multiply":
        every = all(m is not None for m in masks)
        out, keep = None, None
        for x, m in zip(xs, masks):
            if m is not None:
                x = torch.where(m, x, torch.ones_like(x))
                keep = m if keep is None else keep | m
            out = x if out is None else out * x
        return torch.where(keep, out, torch.zeros_like(out)) if every else out
    extremum = torch.maximum if op == "maximum" else torch.minimum
    out, keep = xs[0], masks[0]
    for x, m in zip(xs[1:], masks[1:]):
        if m is not None:
            x = torch.where(m, x, out)
        if keep is not None:
            out = torch.where(keep, out, x)
        keep = keep | m if keep is not None and m is not None else None
        out = extremum(out, x)
    return out
''',
    "rnn_loop": '''
def rnn_loop(step, inputs: torch.Tensor, state: list, mask: torch.Tensor | None = None, zero_output: bool = False,
             output: int = 0) -> tuple:
    """Keras's recurrent time loop: `state = step(inputs[:, t], state)` for each step t, the step's output being
    the new state's tensor `output`. With a (batch, steps) mask, a padded step (False) keeps the state and
    repeats the previous output (zeros with zero_output: Bidirectional's halves), wherever the padding is.
    Returns (outputs (batch, steps, units), final state)."""
    outputs = []
    for t in range(inputs.shape[1]):
        new = step(inputs[:, t], state)
        if mask is None:
            state = new
            outputs.append(new[output])
            continue
        keep = mask[:, t, None]
        state = [torch.where(keep, n, s) for n, s in zip(new, state)]
        previous = outputs[-1] if outputs and not zero_output else torch.zeros_like(new[output])
        outputs.append(torch.where(keep, new[output], previous))
    return torch.stack(outputs, dim=1), state
''',
    "rnn_dropout_mask": '''
def rnn_dropout_mask(like: torch.Tensor, rate: float) -> torch.Tensor:
    """Keras's dropout mask inside a recurrent layer: drawn once per sequence (the same at every step), kept values
    scaled by 1 / (1 - rate)."""
    return torch.empty_like(like).bernoulli_(1.0 - rate) / (1.0 - rate) if rate < 1.0 else torch.zeros_like(like)
''',
    "rnn_dropout": '''
def rnn_dropout(x: torch.Tensor, h: torch.Tensor, dropout: float, recurrent_dropout: float, training: bool) -> tuple:
    """Keras's dropout inside a recurrent layer, in training: a mask on the inputs and one on the state h where it
    meets the recurrent kernel. Returns (x, the recurrent mask or None)."""
    if training and dropout > 0:
        x = x * rnn_dropout_mask(x[:, 0], dropout).unsqueeze(1)
    return x, (rnn_dropout_mask(h, recurrent_dropout) if training and recurrent_dropout > 0 else None)
''',
    "lstm_step": '''
def lstm_step(gates_x: torch.Tensor, state: list, w_hh: torch.Tensor, activation, recurrent_activation,
              recurrent_mask: torch.Tensor | None = None) -> list:
    """One Keras LSTM step from the input's share of the gates (x W_ih^T + b): gates i, f, c, o (torch's order
    too); recurrent_mask: Keras's recurrent dropout on h where it meets W_hh. Returns the new [h, c]."""
    h, c = state
    i, f, g, o = (gates_x + F.linear(h if recurrent_mask is None else h * recurrent_mask, w_hh)).chunk(4, dim=-1)
    c = recurrent_activation(f) * c + recurrent_activation(i) * activation(g)
    return [recurrent_activation(o) * activation(c), c]
''',
    "gru_step": '''
def gru_step(gates_x: torch.Tensor, state: list, w_hh: torch.Tensor, b_hh: torch.Tensor | None, activation,
             recurrent_activation, reset_after: bool, recurrent_mask: torch.Tensor | None = None) -> list:
    """One Keras GRU step from the input's share of the gates: Keras's gate order z, r, h (torch's is r, z, n);
    reset_after=False applies the reset gate to h *before* the recurrent kernel. Returns the new [h]."""
    h = state[0]
    h_in = h if recurrent_mask is None else h * recurrent_mask
    x_z, x_r, x_h = gates_x.chunk(3, dim=-1)
    if reset_after:
        h_z, h_r, h_h = F.linear(h_in, w_hh, b_hh).chunk(3, dim=-1)
        z, r = recurrent_activation(x_z + h_z), recurrent_activation(x_r + h_r)
        candidate = activation(x_h + r * h_h)
    else:
        units = h.shape[-1]
        h_z, h_r = F.linear(h_in, w_hh[: 2 * units]).chunk(2, dim=-1)
        z, r = recurrent_activation(x_z + h_z), recurrent_activation(x_r + h_r)
        candidate = activation(x_h + F.linear(r * h_in, w_hh[2 * units:]))
    return [z * h + (1 - z) * candidate]
''',
    "simple_rnn_step": '''
def simple_rnn_step(gates_x: torch.Tensor, state: list, w_hh: torch.Tensor, activation,
                    recurrent_mask: torch.Tensor | None = None) -> list:
    """One Keras SimpleRNN step: h = activation(x W_ih^T + b + h W_hh^T). Returns the new [h]."""
    h = state[0] if recurrent_mask is None else state[0] * recurrent_mask
    return [activation(gates_x + F.linear(h, w_hh))]
''',
    "lstm_keras": '''
def lstm_keras(x: torch.Tensor, state: tuple | None, w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor | None,
               activation, recurrent_activation, mask: torch.Tensor | None = None, zero_output: bool = False,
               dropout: float = 0.0, recurrent_dropout: float = 0.0, training: bool = False) -> tuple:
    """A Keras LSTM as a step loop, for what nn.LSTM cannot run: activations other than tanh / sigmoid, a mask
    (rnn_loop), dropout (rnn_dropout). Returns what nn.LSTM returns: (outputs, (h_n, c_n))."""
    h, c = (x.new_zeros(x.shape[0], w_hh.shape[1]),) * 2 if state is None else (state[0][0], state[1][0])
    x, recurrent_mask = rnn_dropout(x, h, dropout, recurrent_dropout, training)
    outputs, (h, c) = rnn_loop(lambda g, s: lstm_step(g, s, w_hh, activation, recurrent_activation, recurrent_mask),
                               F.linear(x, w_ih, b_ih), [h, c], mask, zero_output)
    return outputs, (h.unsqueeze(0), c.unsqueeze(0))
''',
    "gru_keras": '''
def gru_keras(x: torch.Tensor, state: torch.Tensor | None, w_ih: torch.Tensor, w_hh: torch.Tensor,
              b_ih: torch.Tensor | None, b_hh: torch.Tensor | None, activation, recurrent_activation,
              reset_after: bool, mask: torch.Tensor | None = None, zero_output: bool = False, dropout: float = 0.0,
              recurrent_dropout: float = 0.0, training: bool = False) -> tuple:
    """A Keras GRU as a step loop, for what nn.GRU cannot run: reset_after=False, activations other than
    tanh / sigmoid, a mask (rnn_loop), dropout (rnn_dropout). Returns what nn.GRU returns: (outputs, h_n)."""
    h = x.new_zeros(x.shape[0], w_hh.shape[1]) if state is None else state[0]
    x, recurrent_mask = rnn_dropout(x, h, dropout, recurrent_dropout, training)
    outputs, (h,) = rnn_loop(
        lambda g, s: gru_step(g, s, w_hh, b_hh, activation, recurrent_activation, reset_after, recurrent_mask),
        F.linear(x, w_ih, b_ih), [h], mask, zero_output)
    return outputs, h.unsqueeze(0)
''',
    "simple_rnn_keras": '''
def simple_rnn_keras(x: torch.Tensor, state: torch.Tensor | None, w_ih: torch.Tensor, w_hh: torch.Tensor,
                     b_ih: torch.Tensor | None, activation, mask: torch.Tensor | None = None, zero_output: bool = False,
                     dropout: float = 0.0, recurrent_dropout: float = 0.0, training: bool = False) -> tuple:
    """A Keras SimpleRNN as a step loop, for what nn.RNN cannot run: activations other than tanh / relu, a mask
    (rnn_loop), dropout (rnn_dropout). Returns what nn.RNN returns: (outputs, h_n)."""
    h = x.new_zeros(x.shape[0], w_hh.shape[1]) if state is None else state[0]
    x, recurrent_mask = rnn_dropout(x, h, dropout, recurrent_dropout, training)
    outputs, (h,) = rnn_loop(lambda g, s: simple_rnn_step(g, s, w_hh, activation, recurrent_mask),
                             F.linear(x, w_ih, b_ih), [h], mask, zero_output)
    return outputs, h.unsqueeze(0)
''',
    "stacked_rnn_keras": '''
def stacked_rnn_keras(x: torch.Tensor, state: list | None, cells: list, state_sizes: list,
                      mask: torch.Tensor | None = None, zero_output: bool = False, dropout: list | None = None,
                      training: bool = False) -> tuple:
    """A Keras RNN over StackedRNNCells: at each step the cells run in turn, each on the one before's output
    (cells: one `cell(x_t, its state, recurrent dropout mask) -> its new state` per cell, state_sizes: each
    cell's state sizes; dropout: each cell's (dropout, recurrent_dropout), masks drawn once per call).
    Returns what nn.LSTM returns: (outputs, (every state, as (1, batch, size))...)."""
    if state is None:
        state = [x.new_zeros(x.shape[0], n) for sizes in state_sizes for n in sizes]
    masks, width, first = [], x.shape[-1], 0
    for rates, sizes in zip(dropout or [(0.0, 0.0)] * len(cells), state_sizes):
        masks.append((rnn_dropout_mask(x.new_empty(x.shape[0], width), rates[0]) if training and rates[0] > 0 else None,
                      rnn_dropout_mask(state[first], rates[1]) if training and rates[1] > 0 else None))
        width, first = sizes[0], first + len(sizes)

    def step(x_t: torch.Tensor, state: list) -> list:
        new = []
        for cell, sizes, (input_mask, recurrent_mask) in zip(cells, state_sizes, masks):
            x_t = x_t if input_mask is None else x_t * input_mask
            out = cell(x_t, state[len(new):len(new) + len(sizes)], recurrent_mask)
            x_t = out[0]
            new += out
        return new

    outputs, state = rnn_loop(step, x, list(state), mask, zero_output, output=len(state) - len(state_sizes[-1]))
    return outputs, tuple(s.unsqueeze(0) for s in state)
''',
    "rnn_outputs": '''
def rnn_outputs(result: tuple, return_sequences: bool) -> tuple:
    """nn.LSTM / nn.GRU / nn.RNN's (outputs, h_n) or (outputs, (h_n, c_n)) as Keras's return_state=True list:
    (the sequence or its last step, h[, c])."""
    outputs, states = result
    states = states if isinstance(states, tuple) else (states,)
    return (outputs if return_sequences else outputs[:, -1], *(s[-1] for s in states))
''',
    "merge_directions": '''
def merge_directions(forward: torch.Tensor, backward: torch.Tensor, merge_mode: str | None):
    """Keras Bidirectional's merge_mode: 'concat' / 'sum' / 'ave' / 'mul', or None: both, as a tuple."""
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
    "bidirectional_merge": '''
def bidirectional_merge(result: tuple, return_sequences: bool, merge_mode: str | None):
    """Keras Bidirectional's merge of a bidirectional nn.LSTM / nn.GRU's directions: the backward direction's
    outputs re-reversed in time (torch's already are), or its final state for return_sequences=False."""
    outputs, states = result
    h_n = states[0] if isinstance(states, tuple) else states
    if return_sequences:
        forward, backward = outputs.chunk(2, dim=-1)
    else:
        forward, backward = h_n[-2], h_n[-1]
    return merge_directions(forward, backward, merge_mode)
''',
    "bidirectional_keras": '''
def bidirectional_keras(forward: tuple, backward: tuple, return_sequences: bool, merge_mode: str | None,
                        return_state: bool = False):
    """Keras Bidirectional over its two layers' step-loop results (outputs, states), the backward layer run on the
    reversed sequence: its outputs reversed back in time, or each layer's last output for return_sequences=False;
    with return_state, the merged output(s) then the forward layer's final states and the backward layer's."""
    if return_sequences:
        merged = merge_directions(forward[0], backward[0].flip(1), merge_mode)
    else:
        merged = merge_directions(forward[0][:, -1], backward[0][:, -1], merge_mode)
    if not return_state:
        return merged
    states = [s[0] for _, st in (forward, backward) for s in (st if isinstance(st, tuple) else (st,))]
    return (*(merged if isinstance(merged, tuple) else (merged,)), *states)
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
    "masked_multi_head_attention": '''
def masked_multi_head_attention(query: torch.Tensor, value: torch.Tensor, key: torch.Tensor, proj: nn.ModuleDict,
                                num_heads: int, dropout: float, training: bool, mask: torch.Tensor | None,
                                causal: bool = False, num_kv_heads: int | None = None, additive_mask: bool = False,
                                return_scores: bool = False, zero_masked_rows: bool = False):
    """multi_head_attention with a (batch, T, S) boolean mask (Keras's query, value, key and attention masks
    ANDed) or the attention weights returned: the softmax written out, masked logits -1e9 (added, as tf.keras
    does, with additive_mask), so that a query row masked whole gets uniform weights, or zeros with
    zero_masked_rows (Keras 3 when it materializes the scores). Returns the output (and the weights)."""
    group = num_heads // (num_kv_heads or num_heads)  # query heads per key/value head (GroupQueryAttention)
    q = proj["query"](query).unflatten(-1, (num_heads, -1)).transpose(1, 2)
    k = proj["key"](key).unflatten(-1, (num_heads // group, -1)).transpose(1, 2).repeat_interleave(group, dim=1)
    v = proj["value"](value).unflatten(-1, (num_heads // group, -1)).transpose(1, 2).repeat_interleave(group, dim=1)
    logits = torch.matmul(q * q.shape[-1] ** -0.5, k.transpose(-1, -2))
    if causal:
        rows = torch.ones(logits.shape[-2], logits.shape[-1], dtype=torch.bool, device=logits.device).tril()
        mask = rows if mask is None else mask & rows
    if mask is not None:
        mask = mask.unsqueeze(-3) if mask.dim() == 3 else mask  # the heads axis
        if additive_mask:
            logits = logits + (~mask).to(logits.dtype) * -1e9
        else:
            logits = logits.masked_fill(~mask, -1e9)
    probs = torch.softmax(logits, dim=-1)
    if zero_masked_rows and mask is not None:
        probs = probs * mask.to(probs.dtype)
    out = torch.matmul(F.dropout(probs, dropout, training) if dropout > 0 else probs, v)
    out = proj["output"](out.transpose(1, 2).flatten(2))
    return (out, probs) if return_scores else out
''',
    "keras_attention": '''
def keras_attention(scores: torch.Tensor, value: torch.Tensor, value_mask: torch.Tensor | None = None,
                    query_mask: torch.Tensor | None = None, causal: bool = False, dropout: float = 0.0,
                    training: bool = False, return_scores: bool = False):
    """Keras Attention / AdditiveAttention from the scores (batch, Tq, Tv): -1e9 where a value step is padded
    (value_mask False) or, causal, lies after the query step; softmax; dropout on the weights in training;
    weights @ value, zeros at padded query steps (query_mask False). Returns the output, and the weights
    with return_scores."""
    keep = None if value_mask is None else value_mask.unsqueeze(-2)
    if causal:
        rows = torch.ones(scores.shape[-2], scores.shape[-1], dtype=torch.bool, device=scores.device).tril()
        keep = rows if keep is None else keep & rows
    if keep is not None:
        scores = scores - (~keep).to(scores.dtype) * 1e9
    weights = torch.softmax(scores, dim=-1)
    out = torch.matmul(F.dropout(weights, dropout, training) if dropout > 0 else weights, value)
    if query_mask is not None:
        out = out * query_mask.unsqueeze(-1).to(out.dtype)
    return (out, weights) if return_scores else out
''',
}

#: Helpers that call other helpers.
REQUIRES: dict[str, tuple[str, ...]] = {
    "avg_pool_same": ("tf_same_pad",),
    "rnn_dropout": ("rnn_dropout_mask",),
    "lstm_keras": ("rnn_loop", "rnn_dropout", "lstm_step"),
    "gru_keras": ("rnn_loop", "rnn_dropout", "gru_step"),
    "simple_rnn_keras": ("rnn_loop", "rnn_dropout", "simple_rnn_step"),
    "stacked_rnn_keras": ("rnn_loop", "rnn_dropout_mask"),
    "bidirectional_merge": ("merge_directions",),
    "bidirectional_keras": ("merge_directions",),
}


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


_NAMES: dict[int, frozenset[str]] = {}


def module_names() -> frozenset[str]:
    """Every module-level name a helper defines (functions, classes, constants): a local variable of ``forward``
    with one of these names would shadow it (reserved whether or not the model includes that helper)."""
    key = len(HELPERS)
    if key not in _NAMES:
        names = set()
        for source in HELPERS.values():
            for node in ast.parse(source).body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    names.add(node.name)
                elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    names.update(t.id for t in targets if isinstance(t, ast.Name))
        _NAMES.clear()
        _NAMES[key] = frozenset(names)
    return _NAMES[key]
