"""Record reference outputs of the REAL ``tf_keras.layers.Conv1D`` / ``Conv2D`` / ``Conv3D``.

Run (from the repository root, in the reference venv; see ``generate.py``)::

    .venv-keras/bin/python compat_fixtures/generate.py            # every generator
    .venv-keras/bin/python compat_fixtures/generate.py --only conv

It never re-implements any convolution: every number it writes was produced by calling a
``tf_keras.layers.Conv{1,2,3}D`` instance (TensorFlow 2.21 / tf-keras 2.21; Keras 3.15 is only
used to record Keras 3 error messages for comparison).  One rank-generic machinery
(:class:`CaseBuilder`, :func:`run_case`, :func:`gen_errors`) serves every rank; a
:class:`Family` only holds a rank's data: the values swept, the case plan and the error cases.

Files written into ``out_dir`` (``R`` = 1, 2, 3)
================================================

``conv{R}d_cases.json``
    A list of case records, one per ConvRD configuration::

        {"id": "c000",
         "group": "activation" | "kernel" | ... (which sweep produced it),
         "args": {...},            # JSON kwargs EXACTLY as passed to ConvRD
                                   # (the script passes json.loads(json.dumps(args)))
         "input_shape": [N, ...],  # layout given by args["data_format"]
         "kernel_shape": [*kernel_size, cin // groups, filters],   # Keras layout
         "output_shape": [...],    # actual shape of the call's output
         "compute_output_shape": layer.compute_output_shape([None] + input_shape[1:]),
         "compute_output_shape_none_spatial": same with the spatial dims None,
         "config": layer.get_config() after the call (tuples -> lists),
         "losses": [float(x) for x in layer.losses] after the call, Keras order,
         "dtype": "float32" | "float64",
         "xla": bool,              # True: the layer call + GradientTape ran inside
                                   # tf.function(jit_compile=True)
         "groups_internal_jit": bool,  # groups > 1: tf_keras itself jit-compiles the
                                       # grouped conv op (_jit_compiled_convolution_op)
         "activation_weights": [...]}  # only for activation="PReLU": extra weights

``conv{R}d_tensors.safetensors``
    Per case ``{id}.input`` ~ N(0, 1); ``{id}.kernel`` ~ N(0, var=1/fan_in) with
    fan_in = prod(kernel_size)*cin/groups (Keras layout (*kernel_size, cin/groups, filters));
    ``{id}.bias`` ~ N(0, std=0.5) (only when use_bias); ``{id}.upstream`` ~ N(0, 1)
    of the output shape; ``{id}.output``; ``{id}.grad_input``, ``{id}.grad_kernel``,
    ``{id}.grad_bias`` (only when use_bias) = gradients of
    ``reduce_sum(output * upstream)`` (taken under tf.GradientTape; regularization
    losses are NOT part of this scalar).  Weights are installed with
    ``layer.set_weights`` after ``layer.build(input_shape)``.  For
    activation="PReLU" the activation is a sub-layer with its own weight ``alpha``
    (shape = output shape without batch); it is built before the call, set to
    N(0, std=0.25) and stored as ``{id}.activation_alpha`` with its gradient
    ``{id}.grad_activation_alpha``.  Dtype of all tensors = the case dtype.

``conv{R}d_errors.json``
    A list of error cases::

        {"id": "e000", "kind": "init" | "call" | "build" | "losses",
         "args": {...}, "input_shape": [...] | null,
         "build_shape": [...]   # only for the "build first, then call" case
         "note": "..."          # optional remark on a surprising outcome
         "keras_error_type": "ValueError" | ... | null (null = tf_keras did not raise),
         "keras_message": str(e) | null,   # multi-element set-of-string
                                           # literals in messages are written
                                           # sorted (set order is hash-seeded)
         "keras_output_shape": [...],  # only when tf_keras did not raise on a call
         "keras_output_dtype": "float32" | ...,  # idem
         "keras3_error_type": ... | null, "keras3_message": ... | null}

    "init": error raised by the constructor; "build": by ``layer.build(shape)``;
    "call": by ``layer(x)`` with ``x = zeros(input_shape)`` (for the
    channel-change case the layer is first called with ``build_shape`` and the
    error of the SECOND call is recorded); "losses": raised only when
    ``layer.losses`` is read after a successful call (weight regularizers are
    evaluated lazily).  Error cases run eagerly (channels_first included).

Execution paths
===============
* channels_last cases run eagerly (the normal tf_keras path; grouped convs are
  jit-compiled internally by tf_keras itself).  If an eager run fails the case is
  re-run on the XLA path and ``xla`` is true.
* channels_first cases always run the layer call + tape inside
  ``tf.function(..., jit_compile=True)`` because TF's CPU kernels do not
  generally implement NCHW (float32 NCHW happens to work when oneDNN is on, but
  float64 NCHW does not; XLA handles all of them, independent of oneDNN).
* Configurations that real Keras cannot run at all are left out and printed.

Padding "causal" (Conv1D only): tf_keras pads ``dilation_rate * (kernel_size - 1)`` zeros on
the LEFT of the steps axis (``tf.pad`` in ``call``), then runs a "VALID" convolution, so
``output[t]`` only sees ``input[:t*stride+1]``; the output length is ``ceil(length / stride)``
like "same".

Everything is seeded; the output is identical run-to-run on the same machine.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .common import (
    fresh_session,
    import_tf,
    jsonable,
    save_safetensors,
    shape_list,
    try_call,
    write_json,
)

# ----------------------------------------------------------------------------
# Configuration space shared by the ranks
# ----------------------------------------------------------------------------

# Every identifier tf_keras.activations.get() accepts by string that really
# behaves as an activation.  The lower-case ones are functions; the CamelCase
# ones resolve (via tf_keras.layers.activation) to *layer instances*
# (ELU(alpha=1), LeakyReLU(alpha=0.3), PReLU(alpha zeros, trainable),
# ReLU(), Softmax(axis=-1), ThresholdedReLU(theta=1)).  "deserialize", "get",
# "serialize" and "keras_export" are also accepted names but are not
# activations; they appear in the error file instead.
ACTIVATIONS = [
    "relu", "sigmoid", "softmax", "softplus", "softsign", "tanh", "selu",
    "elu", "exponential", "linear", "hard_sigmoid", "swish", "silu", "gelu",
    "relu6", "mish", "log_softmax", "leaky_relu", None,
    "ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax", "ThresholdedReLU",
]


def function_activations(acts):
    """Layer-valued activations (ELU, PReLU, ...) are float32 sub-layers that autocast: a
    float64 conv then returns float32 (recorded in the error file), so float64 cases only draw
    function activations."""
    return [a for a in acts if a is None or a.islower()]


DATA_FORMATS = ["channels_last", "channels_first"]
STYLES = ["int", "tuple", "list"]

REGULARIZERS = [
    "l1",
    "l2",
    "l1_l2",
    "L1",
    "L2",
    "L1L2",
    {"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.02}},
    {"class_name": "L1", "config": {"l1": 0.003}},
    {"class_name": "L2", "config": {"l2": 0.2}},
    {"module": "keras.regularizers", "class_name": "L2",
     "config": {"l2": 0.05}, "registered_name": None},
    {"module": "keras.regularizers", "class_name": "L1",
     "config": {"l1": 0.04}, "registered_name": None},
    {"module": "keras.regularizers", "class_name": "L1L2",
     "config": {"l1": 0.001, "l2": 0.5}, "registered_name": None},
]

INITIALIZERS = [
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "glorot_normal",
    "ones",
    "zeros",
    "orthogonal",
    "random_normal",
    "truncated_normal",
    "variance_scaling",
    {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.1, "seed": 3}},
    {"class_name": "Constant", "config": {"value": 0.5}},
    {"module": "keras.initializers", "class_name": "HeNormal",
     "config": {"seed": 7}, "registered_name": None},
    {"module": "keras.initializers", "class_name": "RandomUniform",
     "config": {"minval": -0.2, "maxval": 0.2, "seed": 11}, "registered_name": None},
]

# "orthogonal" needs a >= 2-D tensor: real Keras refuses it for the bias
# (recorded in the error file instead).
BIAS_INITIALIZERS = [i for i in INITIALIZERS if i != "orthogonal"]

CONSTRAINTS = [
    "max_norm",
    "non_neg",
    "unit_norm",
    "min_max_norm",
    "radial_constraint",
    "maxnorm",
    {"class_name": "MaxNorm", "config": {"max_value": 2.0, "axis": [0, 1, 2]}},
    {"module": "keras.constraints", "class_name": "MinMaxNorm",
     "config": {"min_value": 0.5, "max_value": 1.5, "rate": 0.5, "axis": 0},
     "registered_name": None},
    {"module": "keras.constraints", "class_name": "NonNeg", "config": {},
     "registered_name": None},
]

_SPEC_KEYS = ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
              "kernel_initializer", "bias_initializer", "kernel_constraint",
              "bias_constraint", "omit_activation")


@dataclass
class Family:
    """Everything rank-specific about one ConvRD fixture set (data only)."""

    rank: int
    kernels: list               # kernel sizes drawn by random specs (int or rank-tuple)
    strides: list               # strides[0] must be 1 (the rest are drawn as "strided")
    dilations: list             # dilations[0] must be 1
    paddings: list              # paddings drawn by random specs
    activations: list
    plan: Callable              # plan(builder) adds the case specs in order
    error_cases: list           # (kind, args without name, input_shape, extra)
    seed: int                   # CaseBuilder seed
    max_size: int = 12          # largest spatial size drawn
    batch_range: tuple = (1, 4)  # numpy integers(lo, hi) bounds for the batch
    max_channels: int = 8       # cin, filters <= max_channels (multiples of groups)
    case_seed: int = 1000       # case i is run with seed case_seed + i
    # metadata "generator" string of the tensors file
    generator: str = "compat_fixtures/gen/conv.py"
    fn_activations: list = field(init=False)

    def __post_init__(self):
        self.fn_activations = function_activations(self.activations)

    @property
    def name(self):
        return f"conv{self.rank}d"

    @property
    def layer_class(self):
        return f"Conv{self.rank}D"


def _tup(v, rank):
    return (v,) * rank if isinstance(v, int) else tuple(v)


def _as_arg(v, style, rank):
    """Represent a rank-tuple hyper-parameter as int (when all equal), list or tuple."""
    t = _tup(v, rank)
    if style == "int" and len(set(t)) == 1:
        return t[0]
    if style == "list":
        return list(t)
    return t  # tuple (serialised to a JSON list, like everything else)


def _valid(spec, rank):
    """Check a spec is a configuration real Keras accepts (before running)."""
    k = _tup(spec["kernel_size"], rank)
    s = _tup(spec.get("strides", 1), rank)
    d = _tup(spec.get("dilation_rate", 1), rank)
    if max(s) > 1 and max(d) > 1:
        return False
    g = spec.get("groups", 1)
    if spec["cin"] % g or spec["filters"] % g:
        return False
    pad = spec.get("padding", "valid").lower()
    if pad == "valid":
        for i in range(rank):
            if spec["size"][i] < d[i] * (k[i] - 1) + 1:
                return False
    return True


class CaseBuilder:
    """Deterministically produces case specs covering a family's argument space."""

    def __init__(self, fam: Family):
        self.fam = fam
        self.rng = np.random.default_rng(fam.seed)
        self.specs = []

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def rand_spec(self, df=None, **fixed):
        """Random valid spec; fields in `fixed` are forced.

        Every draw happens whether or not the field is forced (``fixed.get(key, draw())``),
        so that the Conv2D specs stay exactly those recorded so far.
        """
        fam, rank = self.fam, self.fam.rank
        cmax = fam.max_channels
        for _ in range(1000):
            s = {}
            s["data_format"] = df or self.pick(DATA_FORMATS)
            s["groups"] = fixed.get("groups", self.pick([1, 1, 1, 2, 3, 4]))
            g = s["groups"]
            s["cin"] = fixed.get("cin", g * int(self.rng.integers(1, cmax // g + 1)))
            s["filters"] = fixed.get(
                "filters", g * int(self.rng.integers(1, cmax // g + 1)))
            s["kernel_size"] = fixed.get("kernel_size", self.pick(fam.kernels))
            if "strides" in fixed or "dilation_rate" in fixed:
                s["strides"] = fixed.get("strides", 1)
                s["dilation_rate"] = fixed.get("dilation_rate", 1)
            else:
                r = self.rng.random()
                if r < 0.5:
                    s["strides"], s["dilation_rate"] = 1, 1
                elif r < 0.75:
                    s["strides"], s["dilation_rate"] = self.pick(fam.strides[1:]), 1
                else:
                    s["strides"], s["dilation_rate"] = 1, self.pick(fam.dilations[1:])
            s["padding"] = fixed.get("padding", self.pick(fam.paddings))
            if "size" in fixed:
                s["size"] = fixed["size"]
            else:
                k = _tup(s["kernel_size"], rank)
                d = _tup(s["dilation_rate"], rank)
                lo = [d[i] * (k[i] - 1) + 1 if s["padding"] == "valid" else 1
                      for i in range(rank)]
                s["size"] = tuple(
                    int(self.rng.integers(min(lo[i], fam.max_size), fam.max_size + 1))
                    for i in range(rank))
            s["batch"] = fixed.get("batch", int(self.rng.integers(*fam.batch_range)))
            s["use_bias"] = fixed.get("use_bias", bool(self.rng.random() < 0.75))
            s["dtype"] = fixed.get("dtype", "float32")
            s["activation"] = fixed.get("activation", self.pick(
                fam.activations if s["dtype"] == "float32" else fam.fn_activations))
            for key in _SPEC_KEYS:
                if key in fixed:
                    s[key] = fixed[key]
            s["style"] = fixed.get("style", self.pick(STYLES))
            s["group"] = fixed.get("group", "random")
            if _valid(s, rank):
                return s
        raise RuntimeError(f"could not sample a valid spec for {fixed}")

    def add(self, df=None, **fixed):
        self.specs.append(self.rand_spec(df=df, **fixed))

    def build_all(self):
        self.fam.plan(self)
        return self.specs


def spec_to_args(s, fam: Family):
    st, rank = s["style"], fam.rank
    args = {
        "filters": s["filters"],
        "kernel_size": _as_arg(s["kernel_size"], st, rank),
    }
    # strides / dilation: alternate representation too
    args["strides"] = _as_arg(s["strides"], st, rank)
    args["padding"] = s["padding"]
    args["data_format"] = s["data_format"]
    args["dilation_rate"] = _as_arg(s["dilation_rate"], "list" if st == "int" else st, rank)
    args["groups"] = s["groups"]
    if not s.get("omit_activation"):
        args["activation"] = s["activation"]
    args["use_bias"] = s["use_bias"]
    for key in ("kernel_initializer", "bias_initializer", "kernel_regularizer",
                "bias_regularizer", "activity_regularizer", "kernel_constraint",
                "bias_constraint"):
        if key in s and s[key] is not None:
            args[key] = s[key]
    if s["dtype"] != "float32":
        args["dtype"] = s["dtype"]
    args["name"] = fam.name
    # exactly what goes into ConvRD: the JSON round trip of the args
    return json.loads(json.dumps(args))


def input_shape_of(s):
    if s["data_format"] == "channels_last":
        return [s["batch"], *s["size"], s["cin"]]
    return [s["batch"], s["cin"], *s["size"]]


# ----------------------------------------------------------------------------
# Conv2D: the case plan recorded so far (kept EXACTLY: same specs, same order)
# ----------------------------------------------------------------------------

def plan_2d(self: CaseBuilder):
    fam = self.fam
    # A. every activation name, once per data format
    for act in fam.activations:
        for df in DATA_FORMATS:
            self.add(df, activation=act, group="activation")
    # A2. activation omitted from args (default) — once per data format
    for df in DATA_FORMATS:
        self.add(df, omit_activation=True, group="activation_default")
    # B. kernel sizes x padding x data format, alternating representations
    i = 0
    for k in fam.kernels:
        for pad in ["valid", "same"]:
            for df in DATA_FORMATS:
                self.add(df, kernel_size=k, padding=pad, strides=1,
                         dilation_rate=1, style=STYLES[i % 3],
                         group="kernel")
                i += 1
    # C. strides x padding x data format; sizes that divide / don't divide
    for st in fam.strides:
        sh = _tup(st, 2)
        for pad in ["valid", "same"]:
            for df in DATA_FORMATS:
                div = (df == "channels_last")
                if div:
                    hw = (sh[0] * 4, sh[1] * 3) if pad == "same" else (
                        sh[0] * 3 + 2, sh[1] * 3 + 2)
                    hw = (min(hw[0], 12), min(hw[1], 12))
                else:
                    hw = (sh[0] * 3 + 1, sh[1] * 2 + 1)
                self.add(df, strides=st, dilation_rate=1, padding=pad,
                         kernel_size=self.pick([1, 2, 3, (2, 3), (3, 1)]),
                         size=hw, style=STYLES[i % 3], group="strides")
                i += 1
    # D. dilation x padding x data format (stride 1)
    for dl in fam.dilations:
        for pad in ["valid", "same"]:
            for df in DATA_FORMATS:
                self.add(df, dilation_rate=dl, strides=1, padding=pad,
                         kernel_size=self.pick([2, 3, (2, 3), (3, 1), (1, 4)]),
                         style=STYLES[i % 3], group="dilation")
                i += 1
    # E. groups 1..4 x data format x use_bias, plus groups with strides /
    #    dilation / same padding
    for g in [1, 2, 3, 4]:
        for df in DATA_FORMATS:
            for ub in [True, False]:
                self.add(df, groups=g, use_bias=ub, group="groups")
        for df in DATA_FORMATS:
            self.add(df, groups=g, strides=(2, 1), dilation_rate=1,
                     padding="same", group="groups")
            self.add(df, groups=g, strides=1, dilation_rate=(2, 3),
                     padding="valid", size=(10, 11), group="groups")
    # groups == cin (depthwise-like) and groups with cin=8, filters=4
    for df in DATA_FORMATS:
        self.add(df, groups=4, cin=4, filters=8, group="groups")
        self.add(df, groups=2, cin=8, filters=2, group="groups")
    # F. edge sizes
    edge = [
        # valid, size exactly equal to the dilated kernel
        dict(kernel_size=3, dilation_rate=2, strides=1, padding="valid", size=(5, 5)),
        dict(kernel_size=(2, 3), dilation_rate=1, strides=1, padding="valid", size=(2, 3)),
        dict(kernel_size=5, dilation_rate=1, strides=1, padding="valid", size=(5, 5)),
        dict(kernel_size=(3, 2), dilation_rate=(3, 2), strides=1, padding="valid", size=(7, 3)),
        dict(kernel_size=4, dilation_rate=1, strides=3, padding="valid", size=(4, 6)),
        # same, input smaller than the kernel
        dict(kernel_size=5, dilation_rate=1, strides=1, padding="same", size=(2, 2)),
        dict(kernel_size=4, dilation_rate=1, strides=1, padding="same", size=(1, 3)),
        dict(kernel_size=(5, 2), dilation_rate=1, strides=2, padding="same", size=(3, 1)),
        dict(kernel_size=3, dilation_rate=3, strides=1, padding="same", size=(4, 2)),
        dict(kernel_size=2, dilation_rate=1, strides=2, padding="same", size=(1, 1)),
        dict(kernel_size=1, dilation_rate=1, strides=3, padding="same", size=(1, 2)),
        # non-square inputs
        dict(kernel_size=(1, 4), dilation_rate=1, strides=(2, 3), padding="same", size=(3, 11)),
        dict(kernel_size=3, dilation_rate=1, strides=1, padding="valid", size=(12, 3)),
    ]
    for e in edge:
        for df in DATA_FORMATS:
            self.add(df, group="edge", **e)
    # G. padding spellings
    for sp, k in [("SAME", 4), ("Valid", 3), ("VALID", (2, 3)), ("Same", 2)]:
        for df in DATA_FORMATS:
            self.add(df, padding=sp, kernel_size=k, size=(7, 6),
                     group="padding_spelling")
    # H. regularizers
    regs = REGULARIZERS
    n = len(regs)
    for j in range(n):
        df = DATA_FORMATS[j % 2]
        self.add(df, kernel_regularizer=regs[j],
                 bias_regularizer=regs[(j + 3) % n],
                 activity_regularizer=regs[(j + 7) % n],
                 use_bias=True, group="regularizers")
    for j in range(n):
        df = DATA_FORMATS[(j + 1) % 2]
        which = ["kernel_regularizer", "bias_regularizer",
                 "activity_regularizer"][j % 3]
        self.add(df, **{which: regs[j]}, group="regularizers")
    # bias regularizer with use_bias=False (no bias loss) and groups
    for df in DATA_FORMATS:
        self.add(df, use_bias=False, kernel_regularizer="l2",
                 bias_regularizer="l1", activity_regularizer="l1",
                 group="regularizers")
        self.add(df, groups=2, kernel_regularizer="l1_l2",
                 activity_regularizer="l2", group="regularizers")
    # I. initializers / constraints (strings and dicts)
    for j, ini in enumerate(INITIALIZERS):
        self.add(DATA_FORMATS[j % 2], kernel_initializer=ini,
                 bias_initializer=BIAS_INITIALIZERS[j % len(BIAS_INITIALIZERS)],
                 kernel_constraint=CONSTRAINTS[j % len(CONSTRAINTS)],
                 bias_constraint=CONSTRAINTS[(j + 4) % len(CONSTRAINTS)]
                 if j % 3 == 0 else None,
                 use_bias=True, group="init_constraint")
    # J. float64
    for df in DATA_FORMATS:
        self.add(df, dtype="float64", group="float64")
        self.add(df, dtype="float64", groups=2, group="float64")
        self.add(df, dtype="float64", activity_regularizer="l2",
                 kernel_regularizer="l1", group="float64")
        self.add(df, dtype="float64", strides=(2, 3), dilation_rate=1,
                 padding="same", group="float64")
    # K. random fill
    for _ in range(40):
        self.add(None, group="random")


# ----------------------------------------------------------------------------
# Conv1D
# ----------------------------------------------------------------------------

CONV1D_ACTIVATIONS = [
    "relu", "tanh", "sigmoid", "gelu", "softmax", "elu", "swish", "linear",
    "selu", "hard_sigmoid", None, "LeakyReLU", "PReLU", "ReLU",
]


def plan_1d(self: CaseBuilder):
    both = [(df, i) for i, df in enumerate(DATA_FORMATS)]
    # A. activations, data formats alternating
    for j, act in enumerate(self.fam.activations):
        self.add(DATA_FORMATS[j % 2], activation=act, group="activation")
    # B. causal padding: kernel sizes (even and odd), dilations, strides; lengths that the
    #    stride does not divide; both data formats
    for j, k in enumerate([1, 2, 3, 4, 5]):
        for df, i in both:
            self.add(df, padding="causal", kernel_size=k, strides=1, dilation_rate=1,
                     style=STYLES[(j + i) % 3], group="causal")
    causal = [
        dict(kernel_size=3, dilation_rate=2, strides=1, size=(9,)),
        dict(kernel_size=2, dilation_rate=3, strides=1, size=(7,)),
        dict(kernel_size=4, dilation_rate=2, strides=1, size=(3,)),  # shorter than the kernel
        dict(kernel_size=3, dilation_rate=1, strides=2, size=(9,)),
        dict(kernel_size=2, dilation_rate=1, strides=3, size=(10,)),
        dict(kernel_size=5, dilation_rate=1, strides=2, size=(4,)),
        dict(kernel_size=4, dilation_rate=1, strides=4, size=(11,)),
    ]
    for e in causal:
        for df, _ in both:
            self.add(df, padding="causal", group="causal", **e)
    for df, _ in both:
        self.add(df, padding="causal", groups=2, group="causal")
        self.add(df, padding="causal", dtype="float64", kernel_size=3, dilation_rate=2,
                 strides=1, group="causal")
    self.add("channels_last", padding="Causal", kernel_size=3, group="padding_spelling")
    # C. kernel sizes x valid / same, even and odd
    j = 0
    for k in [1, 2, 3, 4, 5, 6]:
        for pad in ["valid", "same"]:
            self.add(DATA_FORMATS[j % 2], kernel_size=k, padding=pad, strides=1,
                     dilation_rate=1, style=STYLES[j % 3], group="kernel")
            j += 1
    # D. strides; lengths divisible (channels_last) or not (channels_first)
    for st in [2, 3, 4]:
        for pad in ["valid", "same"]:
            for df, i in both:
                size = (st * 3 + (2 if pad == "valid" else 0),) if i == 0 else (st * 3 + 1,)
                self.add(df, strides=st, dilation_rate=1, padding=pad,
                         kernel_size=self.pick([1, 2, 3, 4]), size=size,
                         style=STYLES[(st + i) % 3], group="strides")
    # E. dilation
    for dl in [2, 3]:
        for pad in ["valid", "same"]:
            for df, _ in both:
                self.add(df, dilation_rate=dl, strides=1, padding=pad,
                         kernel_size=self.pick([2, 3]), group="dilation")
    # F. groups (with / without bias), groups == cin
    for g in [2, 3, 4]:
        for df, i in both:
            self.add(df, groups=g, use_bias=bool(i), group="groups")
    for df, _ in both:
        self.add(df, groups=4, cin=4, filters=8, group="groups")
    # G. edge sizes
    edge = [
        dict(kernel_size=3, dilation_rate=2, strides=1, padding="valid", size=(5,)),
        dict(kernel_size=5, dilation_rate=1, strides=1, padding="same", size=(2,)),
        dict(kernel_size=4, dilation_rate=1, strides=3, padding="valid", size=(4,)),
        dict(kernel_size=2, dilation_rate=1, strides=2, padding="same", size=(1,)),
    ]
    for e in edge:
        for df, _ in both:
            self.add(df, group="edge", **e)
    # H. regularizers (losses)
    for df, i in both:
        self.add(df, kernel_regularizer=REGULARIZERS[i], bias_regularizer="l2",
                 activity_regularizer=REGULARIZERS[6 + i], use_bias=True,
                 padding="causal" if i else "same", group="regularizers")
    # I. float64
    for df, _ in both:
        self.add(df, dtype="float64", group="float64")
        self.add(df, dtype="float64", groups=2, strides=3, dilation_rate=1,
                 padding="same", group="float64")
    # J. random fill
    for _ in range(12):
        self.add(None, group="random")


CONV1D_ERRORS = [
    ("init", {"filters": 0, "kernel_size": 3}, None, {}),
    ("init", {"filters": -1, "kernel_size": 3}, None, {}),
    ("init", {"filters": 4, "kernel_size": [3, 3]}, None, {}),
    ("init", {"filters": 4, "kernel_size": 0}, None, {}),
    ("init", {"filters": 4, "kernel_size": [-2]}, None, {}),
    ("init", {"filters": 4, "kernel_size": "a"}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "strides": [1, 2]}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "strides": 0}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "dilation_rate": [1, 1]}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "dilation_rate": 0}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "padding": "causal", "strides": 2,
              "dilation_rate": 2}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "padding": "full"}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "data_format": "channels_middle"}, None, {}),
    ("init", {"filters": 8, "kernel_size": 3, "groups": 3}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "activation": "nope"}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "kernel_initializer": "nope"}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "padding": "CAUSAL"}, None, {}),
    ("losses", {"filters": 4, "kernel_size": 3, "kernel_regularizer": "nope"}, [2, 8, 2], {}),
    # wrong input rank
    ("call", {"filters": 4, "kernel_size": 3}, [2, 8], {}),
    ("call", {"filters": 4, "kernel_size": 3}, [8], {}),
    ("call", {"filters": 4, "kernel_size": 3}, [2, 3, 8, 2],
     {"note": "rank-4 input: tf_keras treats the extra leading dim as a batch dim"}),
    # channel count changes after build
    ("call", {"filters": 4, "kernel_size": 3}, [2, 8, 5], {"build_shape": [2, 8, 3]}),
    ("call", {"filters": 4, "kernel_size": 3, "data_format": "channels_first"},
     [2, 5, 8], {"build_shape": [2, 3, 8]}),
    ("call", {"filters": 4, "kernel_size": 3, "padding": "causal"}, [2, 8, 5],
     {"build_shape": [2, 8, 3]}),
    # groups not dividing the input channels
    ("call", {"filters": 4, "kernel_size": 3, "groups": 2}, [2, 8, 3], {}),
    ("build", {"filters": 4, "kernel_size": 3, "groups": 2}, [None, 8, 3], {}),
    # input shorter than the (dilated) kernel
    ("call", {"filters": 4, "kernel_size": 5}, [2, 3, 2], {}),
    ("build", {"filters": 4, "kernel_size": 5}, [None, 3, 2], {}),
    ("call", {"filters": 4, "kernel_size": 3, "dilation_rate": 3}, [2, 6, 2],
     {"note": "output length exactly 0"}),
    ("call", {"filters": 4, "kernel_size": 5, "padding": "causal"}, [2, 2, 2],
     {"note": "causal never shrinks the input: no error"}),
    ("call", {"filters": 4, "kernel_size": 3, "padding": "causal",
              "data_format": "channels_first"}, [2, 2, 8],
     {"note": "causal + channels_first, run eagerly"}),
    ("build", {"filters": 4, "kernel_size": 3}, [None, 8, None], {}),
    ("build", {"filters": 4, "kernel_size": 3, "bias_initializer": "orthogonal"},
     [None, 8, 2], {}),
    ("call", {"filters": 4, "kernel_size": 3, "padding": [[0, 0], [1, 1], [0, 0]]},
     [2, 8, 2], {}),
]


# ----------------------------------------------------------------------------
# Conv3D
# ----------------------------------------------------------------------------

CONV3D_ACTIVATIONS = ["relu", "tanh", None, "gelu", "softmax", "elu", "swish", "LeakyReLU"]


def plan_3d(self: CaseBuilder):
    both = [(df, i) for i, df in enumerate(DATA_FORMATS)]
    # A. activations, data formats alternating
    for j, act in enumerate(self.fam.activations):
        self.add(DATA_FORMATS[j % 2], activation=act, group="activation")
    # B. kernel sizes (cubic / non-cubic, even / odd) x valid / same
    j = 0
    for k in self.fam.kernels:
        for pad in ["valid", "same"]:
            self.add(DATA_FORMATS[j % 2], kernel_size=k, padding=pad, strides=1,
                     dilation_rate=1, style=STYLES[j % 3], group="kernel")
            j += 1
    # C. strides; sizes the stride does not divide
    for st in self.fam.strides[1:]:
        for pad in ["valid", "same"]:
            self.add(DATA_FORMATS[j % 2], strides=st, dilation_rate=1, padding=pad,
                     kernel_size=self.pick([1, 2, 3, (3, 1, 2)]), size=(5, 6, 5),
                     style=STYLES[j % 3], group="strides")
            j += 1
    # D. dilation
    for dl in self.fam.dilations[1:]:
        for pad in ["valid", "same"]:
            self.add(DATA_FORMATS[j % 2], dilation_rate=dl, strides=1, padding=pad,
                     kernel_size=self.pick([2, 3, (2, 3, 1)]), size=(6, 5, 6),
                     style=STYLES[j % 3], group="dilation")
            j += 1
    # E. 'same' whose padding does not split evenly (more on the right / bottom / back)
    same_asym = [
        dict(kernel_size=2, strides=1, size=(4, 5, 3)),
        dict(kernel_size=(4, 2, 3), strides=1, size=(5, 4, 4)),
        dict(kernel_size=3, strides=2, size=(6, 4, 6)),
        dict(kernel_size=(1, 3, 4), strides=(1, 2, 3), size=(3, 6, 5)),
        dict(kernel_size=(2, 2, 4), strides=1, dilation_rate=(1, 2, 1), size=(5, 5, 6)),
        dict(kernel_size=5, strides=1, size=(2, 3, 2)),  # smaller than the kernel
    ]
    for e in same_asym:
        for df, _ in both:
            self.add(df, padding="same", group="same_asymmetric",
                     **{"dilation_rate": 1, **e})
    # F. groups (with / without bias), groups == cin
    for g in [2, 3, 4]:
        for df, i in both:
            self.add(df, groups=g, use_bias=bool(i), group="groups")
    self.add("channels_first", groups=2, strides=(2, 1, 1), dilation_rate=1,
             padding="same", group="groups")
    # G. valid, size exactly the dilated kernel
    for df, _ in both:
        self.add(df, kernel_size=(3, 2, 1), dilation_rate=(2, 1, 1), strides=1,
                 padding="valid", size=(5, 2, 1), group="edge")
    # H. regularizers (losses), float64
    for df, i in both:
        self.add(df, kernel_regularizer=REGULARIZERS[2 + i], activity_regularizer="l2",
                 bias_regularizer=REGULARIZERS[9 + i], use_bias=True, group="regularizers")
        self.add(df, dtype="float64", group="float64")
    # I. random fill
    for _ in range(6):
        self.add(None, group="random")


CONV3D_ERRORS = [
    ("init", {"filters": 0, "kernel_size": 3}, None, {}),
    ("init", {"filters": 4, "kernel_size": [3, 3]}, None, {}),
    ("init", {"filters": 4, "kernel_size": [3, 3, 3, 3]}, None, {}),
    ("init", {"filters": 4, "kernel_size": [3, 0, 3]}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "strides": [1, 2]}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "strides": [1, 0, 1]}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "dilation_rate": [1, 2]}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "strides": [1, 1, 2],
              "dilation_rate": [2, 1, 1]}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "padding": "causal"}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "padding": "full"}, None, {}),
    ("init", {"filters": 8, "kernel_size": 3, "groups": 3}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "activation": "nope"}, None, {}),
    # wrong input rank
    ("call", {"filters": 4, "kernel_size": 3}, [2, 6, 6, 2], {}),
    ("call", {"filters": 4, "kernel_size": 3}, [2, 6], {}),
    ("call", {"filters": 4, "kernel_size": 1}, [2, 2, 3, 3, 3, 2],
     {"note": "rank-6 input: tf_keras treats the extra leading dim as a batch dim"}),
    # channel count changes after build
    ("call", {"filters": 4, "kernel_size": 3}, [2, 4, 4, 4, 5],
     {"build_shape": [2, 4, 4, 4, 3]}),
    ("call", {"filters": 4, "kernel_size": 3, "data_format": "channels_first"},
     [2, 5, 4, 4, 4], {"build_shape": [2, 3, 4, 4, 4]}),
    # groups not dividing the input channels
    ("call", {"filters": 4, "kernel_size": 3, "groups": 2}, [2, 4, 4, 4, 3], {}),
    ("build", {"filters": 4, "kernel_size": 3, "groups": 2}, [None, 4, 4, 4, 3], {}),
    # input smaller than the kernel
    ("call", {"filters": 4, "kernel_size": [2, 5, 2]}, [2, 4, 3, 4, 2], {}),
    ("build", {"filters": 4, "kernel_size": 5}, [None, 3, 3, 3, 2], {}),
    ("build", {"filters": 4, "kernel_size": 3}, [None, 4, 4, 4, None], {}),
    ("build", {"filters": 4, "kernel_size": 3, "bias_initializer": "orthogonal"},
     [None, 4, 4, 4, 2], {}),
    ("call", {"filters": 4, "kernel_size": 3, "data_format": "channels_first"},
     [2, 2, 4, 4, 4], {"note": "channels_first, run eagerly"}),
]


FAMILIES = {
    2: Family(
        rank=2,
        kernels=[1, 2, 3, 4, 5, (2, 3), (3, 1), (1, 4), (5, 2)],
        strides=[1, 2, 3, (1, 2), (2, 3), (3, 1), (2, 1)],
        dilations=[1, 2, 3, (1, 2), (2, 1), (3, 2), (2, 3)],
        paddings=["valid", "same"],
        activations=ACTIVATIONS,
        plan=plan_2d,
        error_cases=None,  # set below (CONV2D_ERRORS is defined further down)
        seed=20240611,
        # the name of the generator before the split, kept so that the tensors file stays
        # byte-identical
        generator="compat_fixtures/gen_conv.py",
    ),
    1: Family(
        rank=1,
        kernels=[1, 2, 3, 4, 5],
        strides=[1, 2, 3],
        dilations=[1, 2, 3],
        paddings=["valid", "same", "causal"],
        activations=CONV1D_ACTIVATIONS,
        plan=plan_1d,
        error_cases=CONV1D_ERRORS,
        seed=20250301,
    ),
    3: Family(
        rank=3,
        kernels=[1, 2, 3, (1, 2, 3), (3, 1, 2), (2, 3, 1)],
        strides=[1, 2, (1, 2, 3), (2, 1, 1)],
        dilations=[1, 2, (1, 2, 1), (2, 1, 2)],
        paddings=["valid", "same"],
        activations=CONV3D_ACTIVATIONS,
        plan=plan_3d,
        error_cases=CONV3D_ERRORS,
        seed=20250303,
        max_size=6,
        batch_range=(2, 3),  # always 2
        max_channels=4,
    ),
}
RANKS = [2, 1, 3]  # Conv2D first: it ran alone before, its files must not change


# ----------------------------------------------------------------------------
# running one forward/backward case through real tf_keras
# ----------------------------------------------------------------------------


def run_case(fam: Family, spec, args, input_shape, seed, use_xla):
    tf, tf_keras = import_tf()
    dtype = spec["dtype"]
    rng = np.random.default_rng(seed)
    # fresh Keras name scope per case: auto-generated names (e.g. of the
    # activation sub-layer, "leaky_re_lu") recorded in the config then do not
    # depend on what ran before in the process
    fresh_session(tf_keras, seed=seed)

    layer = getattr(tf_keras.layers, fam.layer_class)(**args)
    layer.build(tf.TensorShape(input_shape))
    out_shape = shape_list(layer.compute_output_shape(input_shape))

    cin = input_shape[-1] if layer.data_format == "channels_last" else input_shape[1]
    fan_in = int(np.prod(layer.kernel_size)) * cin // layer.groups
    x = rng.standard_normal(input_shape).astype(dtype)
    kernel = (rng.standard_normal(tuple(layer.kernel.shape)) / np.sqrt(fan_in)).astype(dtype)
    weights = [kernel]
    tensors = {"input": x, "kernel": kernel}
    if layer.use_bias:
        bias = (0.5 * rng.standard_normal((layer.filters,))).astype(dtype)
        weights.append(bias)
        tensors["bias"] = bias
    act_vars = []
    act_layer = layer.activation if isinstance(
        layer.activation, tf_keras.layers.Layer) else None
    if act_layer is not None and not act_layer.built:
        # activation given as a layer class name: build it now so that its
        # weights (PReLU alpha) exist before the call and can be set
        act_layer.build(tf.TensorShape(out_shape))
    if act_layer is not None and act_layer.weights:
        for v in act_layer.weights:
            short = v.name.split("/")[-1].split(":")[0]
            val = (0.25 * rng.standard_normal(tuple(v.shape))).astype(dtype)
            weights.append(val)
            tensors["activation_" + short] = val
            act_vars.append((short, v))
    layer.set_weights(weights)
    upstream = rng.standard_normal(out_shape).astype(dtype)
    tensors["upstream"] = upstream

    wvars = [layer.kernel] + ([layer.bias] if layer.use_bias else []) + [
        v for _, v in act_vars]

    def fwd_bwd(xt, ut):
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = layer(xt)
            loss = tf.reduce_sum(y * ut)
        grads = tape.gradient(loss, [xt] + wvars)
        losses = list(layer.losses)
        return y, grads, losses

    xt = tf.constant(x)
    ut = tf.constant(upstream)
    if use_xla:
        fn = tf.function(fwd_bwd, jit_compile=True, autograph=False)
        y, grads, losses = fn(xt, ut)
    else:
        y, grads, losses = fwd_bwd(xt, ut)

    tensors["output"] = y.numpy()
    tensors["grad_input"] = grads[0].numpy()
    tensors["grad_kernel"] = grads[1].numpy()
    gi = 2
    if layer.use_bias:
        tensors["grad_bias"] = grads[2].numpy()
        gi = 3
    for (short, _), gv in zip(act_vars, grads[gi:]):
        tensors["grad_activation_" + short] = gv.numpy()
    for k, v in tensors.items():
        assert v.dtype == np.dtype(dtype), (k, v.dtype)
        assert np.all(np.isfinite(v)), k

    none_spatial = [None] * (fam.rank + 2)
    if layer.data_format == "channels_last":
        none_spatial[-1] = cin
    else:
        none_spatial[1] = cin
    rec = {
        "kernel_shape": list(kernel.shape),
        "output_shape": list(y.shape),
        "compute_output_shape": shape_list(
            layer.compute_output_shape([None] + list(input_shape[1:]))),
        "compute_output_shape_none_spatial": shape_list(
            layer.compute_output_shape(none_spatial)),
        "config": jsonable(layer.get_config()),
        "losses": [float(l) for l in losses],
        "dtype": dtype,
    }
    if act_vars:
        rec["activation_weights"] = [s for s, _ in act_vars]
    assert rec["output_shape"] == out_shape
    return rec, tensors


def gen_family(fam: Family, out_dir):
    tf, tf_keras = import_tf()
    specs = CaseBuilder(fam).build_all()
    cases, all_tensors, skipped = [], {}, []
    n_xla = 0
    for idx, spec in enumerate(specs):
        cid = f"c{idx:03d}"
        args = spec_to_args(spec, fam)
        ishape = input_shape_of(spec)
        want_xla = spec["data_format"] == "channels_first"
        seed = fam.case_seed + idx
        rec = None
        try:
            rec, tensors = run_case(fam, spec, args, ishape, seed, want_xla)
            used_xla = want_xla
        except Exception as e:  # noqa: BLE001
            if want_xla:
                err = e
            else:
                print(f"[{fam.name} {cid}] eager run failed ({type(e).__name__}: "
                      f"{str(e).splitlines()[0][:200]}); retrying under XLA")
                try:
                    rec, tensors = run_case(fam, spec, args, ishape, seed, True)
                    used_xla = True
                except Exception as e2:  # noqa: BLE001
                    err = e2
        if rec is None:
            msg = f"{type(err).__name__}: {str(err).splitlines()[0][:300]}"
            print(f"[{fam.name} {cid}] SKIPPED: real Keras refused args={args} "
                  f"input_shape={ishape}: {msg}")
            skipped.append({"args": args, "input_shape": ishape, "error": msg})
            continue
        n_xla += used_xla
        case = {"id": cid, "group": spec["group"], "args": args,
                "input_shape": ishape}
        case.update(rec)
        case["xla"] = bool(used_xla)
        case["groups_internal_jit"] = spec["groups"] > 1
        cases.append(case)
        for k, v in tensors.items():
            all_tensors[f"{cid}.{k}"] = v

    write_json(os.path.join(out_dir, f"{fam.name}_cases.json"), cases)
    tensors_path = os.path.join(out_dir, f"{fam.name}_tensors.safetensors")
    save_safetensors(all_tensors, tensors_path, metadata={"generator": (
        f"{fam.generator} tensorflow={tf.__version__} "
        f"tf_keras={tf_keras.__version__}")})

    errors = gen_errors(fam)
    write_json(os.path.join(out_dir, f"{fam.name}_errors.json"), errors)

    size = os.path.getsize(tensors_path)
    acts = sorted({str(c["args"].get("activation", "<omitted>")) for c in cases})
    print(f"{fam.name}: {len(cases)} cases ({n_xla} via XLA, "
          f"{len(cases) - n_xla} eager), {len(skipped)} skipped, "
          f"{len(all_tensors)} tensors ({size / 1e6:.2f} MB), "
          f"{len(errors)} error cases "
          f"({sum(e['keras_error_type'] is None for e in errors)} do not raise "
          f"in tf_keras); activations covered: {len(acts)}")
    return {"cases": len(cases), "skipped": skipped, "errors": len(errors)}


def main(out_dir):
    tf, _ = import_tf()
    try:
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass
    os.makedirs(out_dir, exist_ok=True)
    return {FAMILIES[r].name: gen_family(FAMILIES[r], out_dir) for r in RANKS}


# ----------------------------------------------------------------------------
# error cases
# ----------------------------------------------------------------------------

CONV2D_ERRORS = [
    # kind, args (without name), input_shape, extra
    ("init", {"filters": 0, "kernel_size": 3}, None, {}),
    ("init", {"filters": -1, "kernel_size": 3}, None, {}),
    ("init", {"filters": 4, "kernel_size": [3, 3, 3]}, None, {}),
    ("init", {"filters": 4, "kernel_size": [3]}, None, {}),
    ("init", {"filters": 4, "kernel_size": 0}, None, {}),
    ("init", {"filters": 4, "kernel_size": [0, 3]}, None, {}),
    ("init", {"filters": 4, "kernel_size": -1}, None, {}),
    ("init", {"filters": 4, "kernel_size": [3, -2]}, None, {}),
    ("init", {"filters": 4, "kernel_size": "a"}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "strides": [1, 2, 3]}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "strides": 0}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "strides": [1, 0]}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "strides": -1}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "dilation_rate": [1, 1, 1]}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "dilation_rate": 0}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "dilation_rate": -1}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "strides": [2, 1], "dilation_rate": [1, 2]}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "padding": "causal"}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "padding": "full"}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "data_format": "channels_middle"}, None, {}),
    ("init", {"filters": 8, "kernel_size": 3, "groups": 3}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "activation": "nope"}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "kernel_initializer": "nope"}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "bias_initializer": "nope"}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "kernel_regularizer": "nope"}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "bias_regularizer": "nope"}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "activity_regularizer": "nope"}, None, {}),
    # tf_keras keeps an unknown regularizer *string* as-is: weight regularizers
    # then fail only when layer.losses is read, the activity one at call time
    ("losses", {"filters": 4, "kernel_size": 3, "kernel_regularizer": "nope"}, [2, 8, 8, 2], {}),
    ("losses", {"filters": 4, "kernel_size": 3, "bias_regularizer": "nope"}, [2, 8, 8, 2], {}),
    ("call", {"filters": 4, "kernel_size": 3, "activity_regularizer": "nope"}, [2, 8, 8, 2], {}),
    ("init", {"filters": 4, "kernel_size": 3, "kernel_constraint": "nope"}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "bias_constraint": "nope"}, None, {}),
    # accepted-but-odd arguments (tf_keras does not raise at init)
    ("init", {"filters": 4, "kernel_size": 3, "groups": 0}, None, {}),
    ("init", {"filters": 4.0, "kernel_size": 3}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "padding": "SAME", "data_format": "Channels_Last"}, None, {}),
    ("init", {"filters": 4, "kernel_size": 3, "activation": "keras_export"}, None, {}),
    # call / build cases
    ("call", {"filters": 4, "kernel_size": 3}, [2, 8, 8], {}),
    ("call", {"filters": 4, "kernel_size": 3}, [2, 8], {}),
    ("call", {"filters": 4, "kernel_size": 3, "data_format": "channels_first"}, [2, 8, 8], {}),
    ("call", {"filters": 4, "kernel_size": 3}, [2, 8, 8, 5], {"build_shape": [2, 8, 8, 3]}),
    ("call", {"filters": 4, "kernel_size": 3, "data_format": "channels_first"},
     [2, 5, 8, 8], {"build_shape": [2, 3, 8, 8]}),
    ("call", {"filters": 4, "kernel_size": 3, "groups": 2}, [2, 8, 8, 3], {}),
    ("call", {"filters": 4, "kernel_size": 3, "groups": 2, "data_format": "channels_first"},
     [2, 3, 8, 8], {}),
    ("call", {"filters": 4, "kernel_size": 5}, [2, 3, 3, 2], {}),
    ("call", {"filters": 4, "kernel_size": 3, "dilation_rate": 3}, [2, 6, 6, 2],
     {"note": "output size exactly 0: passes the shape check, fails in BiasAdd"}),
    ("call", {"filters": 4, "kernel_size": 5, "data_format": "channels_first"}, [2, 2, 3, 3], {}),
    ("call", {"filters": 4, "kernel_size": 3, "dilation_rate": 3,
              "data_format": "channels_first"}, [2, 2, 6, 6], {}),
    ("call", {"filters": 4, "kernel_size": [2, 5]}, [2, 3, 4, 2],
     {"note": "output size exactly 0: passes the shape check, fails in BiasAdd"}),
    # an output dim of exactly 0 passes tf_keras' shape check (only negative
    # sizes raise ValueError); the TF op then fails in BiasAdd, and without a
    # bias the call returns an empty tensor
    ("call", {"filters": 4, "kernel_size": 3, "dilation_rate": 3, "use_bias": False},
     [2, 6, 6, 2], {"note": "TF quirk: eager tf.nn.convolution with an empty "
                    "(0-size) output returns a tensor of the INPUT's shape "
                    "instead of raising; not behaviour to copy"}),
    ("build", {"filters": 4, "kernel_size": 3, "dilation_rate": 3}, [None, 6, 6, 2], {}),
    ("call", {"filters": 4, "kernel_size": 3, "strides": 2}, [2, 2, 8, 2],
     {"note": "output size exactly 0: passes the shape check, fails in BiasAdd"}),
    ("call", {"filters": 4, "kernel_size": 3, "groups": -2}, [2, 8, 8, 4], {}),
    ("call", {"filters": 4, "kernel_size": 3, "padding": [[0, 0], [1, 1], [1, 1], [0, 0]]},
     [2, 8, 8, 2], {}),
    ("call", {"filters": 4, "kernel_size": 3, "activation": "get"}, [2, 8, 8, 2], {}),
    ("call", {"filters": 4, "kernel_size": 3, "activation": "deserialize"}, [2, 8, 8, 2], {}),
    # rank-5 input: accepted by tf_keras (extra batch dims are squeezed)
    ("call", {"filters": 4, "kernel_size": 3}, [2, 3, 8, 8, 2], {}),
    ("build", {"filters": 4, "kernel_size": 3}, [None, 8, 8, None], {}),
    ("build", {"filters": 4, "kernel_size": 3, "data_format": "channels_first"},
     [None, None, 8, 8], {}),
    ("build", {"filters": 4, "kernel_size": 5}, [None, 3, 3, 2], {}),
    ("build", {"filters": 4, "kernel_size": 3, "groups": 2}, [None, 8, 8, 3], {}),
    ("build", {"filters": 4, "kernel_size": 3, "bias_initializer": "orthogonal"},
     [None, 8, 8, 2], {}),
    # layer-valued activations are float32 sub-layers (default dtype policy)
    # that autocast their input: a float64 conv with activation="ELU" /
    # "ThresholdedReLU" silently returns float32 (see keras_output_dtype)
    ("call", {"filters": 4, "kernel_size": 3, "dtype": "float64",
              "activation": "ThresholdedReLU"}, [2, 8, 8, 2], {}),
    ("call", {"filters": 4, "kernel_size": 3, "dtype": "float64",
              "activation": "ELU"}, [2, 8, 8, 2], {}),
    # OrthogonalRegularizer only accepts rank-2 tensors: raises when the
    # (lazily evaluated) weight regularization loss is read
    ("losses", {"filters": 4, "kernel_size": 3, "kernel_regularizer": "orthogonal_regularizer"},
     [2, 8, 8, 2], {}),
]
FAMILIES[2].error_cases = CONV2D_ERRORS


def _exercise(mod, fam: Family, kind, args, input_shape, extra):
    """Run one error case against a Keras module (tf_keras or keras 3)."""
    import tensorflow as tf

    def go():
        fresh_session(mod)
        layer = getattr(mod.layers, fam.layer_class)(**args)
        if kind == "init":
            return None
        if kind == "build":
            layer.build(tuple(input_shape))
            return None
        if kind == "compute_output_shape":  # (used by gen/conv_family.py) shape, no dtype
            return shape_list(layer.compute_output_shape(tuple(input_shape))), None
        dt = args.get("dtype", "float32")
        if "build_shape" in extra:
            layer(np.zeros(extra["build_shape"], dt))
        y = layer(np.zeros(input_shape, dt))
        if kind == "losses":
            [float(v) for v in layer.losses]
        if hasattr(y, "shape"):
            return list(y.shape), str(np.dtype(y.dtype.name if hasattr(
                y.dtype, "name") else y.dtype))
        return None

    with tf.device("/CPU:0"):
        return try_call(go)


def gen_errors(fam: Family):
    tf, tf_keras = import_tf()
    try:
        import keras as keras3
    except Exception:  # noqa: BLE001
        keras3 = None
    out = []
    for i, (kind, args, ishape, extra) in enumerate(fam.error_cases):
        args = dict(args)
        args["name"] = fam.name
        args = json.loads(json.dumps(args))
        rec = {"id": f"e{i:03d}", "kind": kind, "args": args,
               "input_shape": ishape}
        rec.update(extra)
        et, em, y = _exercise(tf_keras, fam, kind, args, ishape, extra)
        rec["keras_error_type"] = et
        rec["keras_message"] = em
        if et is None and y is not None:
            rec["keras_output_shape"], rec["keras_output_dtype"] = y
        if et is None:
            print(f"[{fam.name} e{i:03d}] note: tf_keras does not raise for {kind} "
                  f"args={args} input_shape={ishape}")
        if keras3 is not None:
            et3, em3, _ = _exercise(keras3, fam, kind, args, ishape, extra)
        else:
            et3 = em3 = None
        rec["keras3_error_type"] = et3
        rec["keras3_message"] = em3
        out.append(rec)
    return out
