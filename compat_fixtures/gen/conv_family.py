"""Record reference outputs of the REAL tf.keras layers of the rest of the convolutional module.

Run (from the repository root, in the reference venv; see ``generate.py``)::

    .venv-keras/bin/python compat_fixtures/generate.py --only conv_family

Classes (``LAYER_SETS`` below; ``<snake>`` is the class's default Keras layer name)::

    Conv1DTranspose  Conv2DTranspose  Conv3DTranspose       ("transpose")
    DepthwiseConv1D  DepthwiseConv2D                        ("depthwise")
    SeparableConv1D  SeparableConv2D                        ("separable")
    UpSampling1D/2D/3D  ZeroPadding1D/2D/3D  Cropping1D/2D/3D  (weight-free)

Like ``gen/conv.py`` it never re-implements a layer: every number written was produced by calling
a ``tf_keras.layers.<Class>`` instance (TensorFlow 2.21 / tf-keras 2.21).  Keras 3 (3.15.1, on
TensorFlow) is the second reference: per case its config / output shape / output difference, and
its error messages.  One rank-generic machinery serves every class: a :class:`LayerSet` only holds
data (class, rank, kind, case plan, error cases, seed); :class:`Builder` turns a plan into cases;
:func:`run_case` runs any class.  Error cases reuse ``conv.gen_errors``.

Files written into ``out_dir``, per class
=========================================

``<snake>_cases.json``
    A list of case records::

        {"id": "c000", "group": "activation" | "strides" | ... (which sweep produced it),
         "class": "Conv2DTranspose",
         "args": {...},             # kwargs EXACTLY as passed (json.loads(json.dumps(args)))
         "input_shape": [2, ...],   # layout given by args["data_format"] (channels_last if
                                    # absent / None; 1D weight-free classes have no data_format)
         "output_shape": [...],     # shape of the call's output
         "output_dtype": "float32" | "float64",  # differs from "dtype" for UpSampling2D with
                                    # float64 and interpolation != "nearest" (tf.image.resize
                                    # returns float32)
         "compute_output_shape": layer.compute_output_shape([None] + input_shape[1:]),
         "compute_output_shape_none_spatial": same with every spatial dim None (channels
                                    # known), or null with
         "compute_output_shape_none_spatial_error": "TypeError: ..." when Keras raises,
         "config": layer.get_config() after the call,
         "weight_names": ["depthwise_kernel", "pointwise_kernel", "bias"],  # layer.weights
         "weight_shapes": [[...], ...],                                     # order, Keras layout
         "losses": [float(x) for x in layer.losses] after the call (Keras order),
         "dtype": "float32" | "float64",   # the case (input / weight) dtype
         "xla": bool,               # True: call + tape ran in tf.function(jit_compile=True)
         "grad_error": "LookupError: ...",   # only when tf.keras cannot differentiate the
                                    # call (UpSampling2D "area"; float64 scale-and-translate
                                    # interpolations): no grad tensors are recorded then
         "keras3_config": keras.layers.<Class>(**args) get_config() after build + call,
         "keras3_compute_output_shape": its compute_output_shape (batch None),
         "keras3_output_shape", "keras3_output_dtype": its call's output,
         "keras3_max_abs_diff": max |keras3 - tf_keras| output (same weights) or null,
         "keras3_error": "Type: message" (only when Keras 3 refuses a step; the fields of
                                    # the steps after it are then absent)}

``<snake>_tensors.safetensors``
    Per case ``{id}.input`` ~ N(0, 1) (case dtype); ``{id}.weight.<name>`` per weight in
    ``layer.weights`` order, installed with ``set_weights`` after ``build``: kernels
    ~ N(0, 1/fan_in) (``kernel`` of a transposed conv, layout (*kernel_size, filters, cin):
    fan_in = prod(kernel_size)*cin; ``depthwise_kernel`` (*kernel_size, cin,
    depth_multiplier): prod(kernel_size); ``pointwise_kernel`` (1.., cin*depth_multiplier,
    filters): cin*depth_multiplier), ``bias`` ~ N(0, std=0.5); ``{id}.upstream`` ~ N(0, 1) of
    the output shape and dtype; ``{id}.output``; ``{id}.grad_input`` and ``{id}.grad.<name>``:
    gradients of ``reduce_sum(output * upstream)`` under tf.GradientTape (regularization losses
    are NOT part of this scalar).

``<snake>_errors.json``
    Same format as ``conv{R}d_errors.json`` (see ``gen/conv.py``), plus the kind
    ``"compute_output_shape"``: ``layer.compute_output_shape(input_shape)`` (a successful one
    records ``keras_output_shape`` and a null ``keras_output_dtype``).

Execution paths
===============
* Weight-free classes always run eagerly (both data formats work eagerly on the CPU).
* Conv-like classes: channels_last runs eagerly, channels_first inside
  ``tf.function(jit_compile=True)`` (as ``gen/conv.py``: TF's CPU kernels do not generally
  implement NCHW); an eager run that fails is re-run on the XLA path (``xla`` true).
* If the call + gradient fails but the call alone works, the forward result is recorded with
  ``grad_error``.  Configurations real Keras cannot run at all are not cases: they are in the
  error files.

UpSampling2D interpolation (tf_keras ``backend.resize_images``): channels_first is permuted to
NHWC, then ``tf.image.resize(x, (h*sh, w*sw), method=m)`` (v2: antialias=False,
preserve_aspect_ratio=False): "nearest" -> ``ResizeNearestNeighbor(half_pixel_centers=True)``,
"bilinear" -> ``ResizeBilinear(half_pixel_centers=True)``, "bicubic" ->
``ResizeBicubic(half_pixel_centers=True)`` (Keys cubic a=-0.5), "area" -> ``ResizeArea``
(align_corners=False; no gradient registered), "lanczos3" / "lanczos5" / "gaussian" /
"mitchellcubic" -> ``ScaleAndTranslate(kernel_type=m, scale=new/old, translation=0,
antialias=False)``.  UpSampling1D / 3D (and "nearest" with integer factors) repeat elements.

Everything is seeded; the output is identical run-to-run on the same machine.
"""
from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .common import (
    clean_message,
    fresh_session,
    import_keras3,
    import_tf,
    jsonable,
    save_safetensors,
    shape_list,
    try_call,
    write_json,
)
from .conv import (
    DATA_FORMATS,
    REGULARIZERS,
    STYLES,
    _as_arg,
    _tup,
    function_activations,
    gen_errors,
)

GENERATOR = "compat_fixtures/gen/conv_family.py"
BATCH = 2

# Activations drawn by conv-like cases (float64 cases only draw the function ones, see
# conv.function_activations); "LeakyReLU" / "ReLU" are weight-free layer-valued activations.
ACTIVATIONS = ["relu", "tanh", "sigmoid", "gelu", "softmax", "elu", "swish", "linear",
               "selu", "relu6", "softplus", None, "LeakyReLU", "ReLU"]
FN_ACTIVATIONS = function_activations(ACTIVATIONS)

INTERPOLATIONS = ["nearest", "bilinear", "bicubic", "area", "lanczos3", "lanczos5",
                  "gaussian", "mitchellcubic"]


@dataclass
class RankSpace:
    """Hyper-parameter values swept for one rank (conv-like classes)."""

    kernels: list
    strides: list       # all > 1 somewhere
    dilations: list     # all > 1 somewhere
    max_size: int       # largest input spatial size drawn
    max_channels: int


RANKS = {
    1: RankSpace(kernels=[1, 2, 3, 4, 5], strides=[2, 3, 4], dilations=[2, 3],
                 max_size=9, max_channels=4),
    2: RankSpace(kernels=[1, 2, 3, 4, (2, 3), (3, 1), (1, 4)],
                 strides=[2, 3, (1, 2), (2, 3), (3, 1)],
                 dilations=[2, 3, (1, 2), (2, 3)], max_size=7, max_channels=4),
    3: RankSpace(kernels=[1, 2, 3, (1, 2, 3), (3, 1, 2), (2, 2, 1)],
                 strides=[2, (1, 2, 1), (2, 1, 3)], dilations=[2, (1, 2, 1)],
                 max_size=4, max_channels=3),
}

# weight-name stem of each conv-like kind's regularizer / initializer / constraint arguments
WEIGHT_ARGS = {
    "transpose": ["kernel", "bias"],
    "depthwise": ["depthwise", "bias"],
    "separable": ["depthwise", "pointwise", "bias"],
}


@dataclass
class LayerSet:
    """Everything class-specific about one fixture set (data only)."""

    layer_class: str       # tf_keras.layers attribute
    name: str              # snake name: file prefix and the layer name passed
    rank: int
    kind: str              # "transpose" | "depthwise" | "separable" | "weight_free"
    plan: Callable         # plan(builder) adds the cases in order
    error_cases: list      # (kind, args without name, input_shape, extra), see conv.py
    seed: int
    min_cases: int = 25    # conv-like plans are topped up with random cases up to this
    max_size: int = None   # overrides RANKS[rank].max_size

    @property
    def conv_like(self):
        return self.kind != "weight_free"

    @property
    def space(self):
        return RANKS[self.rank]


# ----------------------------------------------------------------------------- validity
def _keff(k, d):
    return d * (k - 1) + 1


def _dilation_in_op(ls):
    # tf_keras Conv3DTranspose accepts dilation_rate but neither its call nor its
    # compute_output_shape uses it (get_config even drops it)
    return ls.layer_class != "Conv3DTranspose"


def _valid(ls, a, size):
    """Is this a configuration real tf.keras runs? (checked before running)."""
    R = ls.rank
    k = _tup(a["kernel_size"], R)
    s = _tup(a.get("strides", 1), R)
    d = _tup(a.get("dilation_rate", 1), R)
    pad = a.get("padding", "valid").lower()
    if max(s) > 1 and max(d) > 1:
        return False
    if ls.layer_class == "Conv2DTranspose" and d[0] != d[1]:
        return False  # raises at call: atrous_conv2d_transpose needs equal rates
    if not _dilation_in_op(ls):
        d = (1,) * R
    op = a.get("output_padding")
    for i in range(R):
        ke, n = _keff(k[i], d[i]), size[i]
        if ls.kind == "transpose":
            if op is None:
                continue
            o = _tup(op, R)[i]
            if o >= s[i]:
                return False
            out = (n - 1) * s[i] + ke - 2 * (ke // 2 if pad == "same" else 0) + o
            # TF checks the forward conv of the requested output shape gives back n
            back = -(-out // s[i]) if pad == "same" else (out - ke) // s[i] + 1
            if out < 1 or back != n:
                return False
        elif pad == "valid" and n < ke:
            return False
    return True


# ----------------------------------------------------------------------------- case building
class Builder:
    """Deterministically turns a LayerSet's plan into case specs."""

    def __init__(self, ls: LayerSet):
        self.ls = ls
        self.rng = np.random.default_rng(ls.seed)
        self.cases = []

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def channels(self):
        return int(self.rng.integers(1, self.ls.space.max_channels + 1)) \
            if self.ls.conv_like else int(self.rng.integers(1, 4))

    def add(self, group, args, size, cin=None, dtype="float32"):
        """Add a case: ``args`` without name / dtype; ``size`` the spatial dims."""
        ls = self.ls
        args = dict(args)
        if dtype != "float32":
            args["dtype"] = dtype
        args["name"] = ls.name
        args = json.loads(json.dumps(args))
        cin = self.channels() if cin is None else cin
        df = (args.get("data_format") or "channels_last").lower()
        size = list(_tup(size, ls.rank))
        shape = [BATCH, *size, cin] if df == "channels_last" else [BATCH, cin, *size]
        self.cases.append({"group": group, "args": args, "input_shape": shape,
                           "dtype": dtype, "data_format": df})

    def conv(self, group, df=None, size=None, cin=None, dtype="float32", style=None,
             **fixed):
        """Add a conv-like case; fields not in ``fixed`` are drawn (valid ones only)."""
        ls, sp, R = self.ls, self.ls.space, self.ls.rank
        max_size = ls.max_size or sp.max_size
        for _ in range(1000):
            f = dict(fixed)
            st = style or self.pick(STYLES)
            a = {}
            if ls.kind in ("transpose", "separable"):
                a["filters"] = f.pop("filters", int(self.rng.integers(1, sp.max_channels + 1)))
            a["kernel_size"] = f.pop("kernel_size", self.pick(sp.kernels))
            if "strides" in f or "dilation_rate" in f:
                a["strides"], a["dilation_rate"] = f.pop("strides", 1), f.pop("dilation_rate", 1)
            else:
                r = self.rng.random()
                a["strides"] = self.pick(sp.strides) if 0.5 <= r < 0.8 else 1
                a["dilation_rate"] = self.pick(sp.dilations) if r >= 0.8 else 1
            a["padding"] = f.pop("padding", self.pick(["valid", "same"]))
            if ls.kind == "transpose" and "output_padding" in f:
                op = f.pop("output_padding")
                if op == "draw":  # a random explicit value < stride, valid for the sizes
                    op = tuple(int(self.rng.integers(0, s)) for s in _tup(a["strides"], R))
                a["output_padding"] = None if op is None else _as_arg(op, st, R)
            a["data_format"] = df or self.pick(DATA_FORMATS)
            if ls.kind in ("depthwise", "separable"):
                a["depth_multiplier"] = f.pop("depth_multiplier", int(self.rng.integers(1, 4)))
            a["activation"] = f.pop("activation", self.pick(
                ACTIVATIONS if dtype == "float32" else FN_ACTIVATIONS))
            a["use_bias"] = f.pop("use_bias", bool(self.rng.random() < 0.75))
            for key in ("kernel_size", "strides", "dilation_rate"):
                a[key] = _as_arg(a[key], st, R)
            a.update(f)  # regularizers / initializers / constraints, as given
            if size is None:
                k, d = _tup(a["kernel_size"], R), _tup(a["dilation_rate"], R)
                lo = [_keff(k[i], d[i]) if a["padding"] == "valid" and ls.kind != "transpose"
                      else 1 for i in range(R)]
                sz = tuple(int(self.rng.integers(min(lo[i], max_size), max_size + 1))
                           for i in range(R))
            else:
                sz = _tup(size, R)
            if _valid(ls, a, sz):
                self.add(group, a, sz, cin=cin, dtype=dtype)
                return
        raise RuntimeError(f"{ls.name}: no valid case for {fixed}")

    def build_all(self):
        self.ls.plan(self)
        if self.ls.conv_like:
            while len(self.cases) < self.ls.min_cases:
                self.conv("random")
        return self.cases


def _reg_args(ls, j):
    """Regularizer arguments for the j-th regularizer case of a conv-like class."""
    n = len(REGULARIZERS)
    out = {f"{w}_regularizer": REGULARIZERS[(j + 4 * i) % n]
           for i, w in enumerate(WEIGHT_ARGS[ls.kind])}
    out["activity_regularizer"] = REGULARIZERS[(j + 7) % n]
    return out


def _init_constraint_args(ls):
    """Initializers / constraints (only visible in the config: weights are set explicitly)."""
    out = {}
    for w, ini, con in zip(WEIGHT_ARGS[ls.kind], ["he_normal", "lecun_uniform", "ones"],
                           ["max_norm", "non_neg", "unit_norm"]):
        out[f"{w}_initializer"] = ini if w != "bias" else "ones"
        out[f"{w}_constraint"] = con if w != "bias" else "non_neg"
    return out


# ----------------------------------------------------------------------------- plans
def plan_conv_like(b: Builder):
    """One plan for every conv-like class (transposed / depthwise / separable, any rank)."""
    ls, sp, R = b.ls, b.ls.space, b.ls.rank
    both = list(enumerate(DATA_FORMATS))
    tr = ls.kind == "transpose"
    # A. activations, data formats alternating
    for j, act in enumerate(ACTIVATIONS):
        b.conv("activation", DATA_FORMATS[j % 2], activation=act)
    # A2. only the required arguments (every default)
    req = {"kernel_size": 3}
    if ls.kind != "depthwise":
        req["filters"] = 2
    b.add("defaults", req, size=5, cin=2)
    # B. kernel sizes (odd / even / non-square) x valid / same, stride 1
    j = 0
    for k in sp.kernels:
        for pad in ["valid", "same"]:
            b.conv("kernel", DATA_FORMATS[j % 2], kernel_size=k, padding=pad, strides=1,
                   dilation_rate=1, style=STYLES[j % 3])
            j += 1
    # C. strides x valid / same; input sizes the stride divides (channels_last) or not
    #    (channels_first); transposed convs: output_padding None (channels_last) / explicit
    small = [k for k in sp.kernels if max(_tup(k, R)) <= 3]
    for st in sp.strides:
        s = _tup(st, R)
        for pad in ["valid", "same"]:
            for i, df in both:
                k = b.pick(small)
                if tr:
                    size = tuple(min(3, ls.max_size or sp.max_size) if si > 1 else 4
                                 for si in s) if R == 3 else tuple(3 + i for _ in s)
                    extra = {"output_padding": "draw" if i else None}
                else:
                    mx = ls.max_size or sp.max_size
                    size = tuple(min(si * 2 + (i if pad == "same" else 2 + i), mx) for si in s)
                    extra = {}
                if tr and i and pad == "same" and any(
                        ki % 2 == 0 and si == 1 for ki, si in zip(_tup(k, R), s)):
                    k = 3  # even kernel + stride 1: no valid explicit output_padding
                b.conv("strides", df, size=size, kernel_size=k, strides=st, padding=pad,
                       dilation_rate=1, style=STYLES[(j + i) % 3], **extra)
                j += 1
    # D. dilation (stride 1) x valid / same
    dils = [d for d in sp.dilations
            if ls.layer_class != "Conv2DTranspose" or len(set(_tup(d, R))) == 1]
    for dl in dils:
        for pad in ["valid", "same"]:
            b.conv("dilation", DATA_FORMATS[j % 2], dilation_rate=dl, strides=1, padding=pad,
                   kernel_size=b.pick([2, 3]), style=STYLES[j % 3])
            j += 1
    # E. kind-specific sweeps
    if tr:
        # explicit output_padding: 0 and stride - 1 (max), with 'same' and 'valid',
        # odd and even kernels; output_padding with dilation (stride 1 -> 0)
        sts = [2, 3] if R < 3 else [2, (2, 1, 2)]
        for st in sts:
            for pad, k in [("valid", 2), ("same", 3), ("same", 4), ("valid", 3)]:
                s = _tup(st, R)
                op = tuple(si - 1 for si in s) if k != 3 else (0,) * R
                sz = 3 if R == 3 else 4
                if _valid(ls, {"kernel_size": k, "strides": st, "padding": pad,
                               "output_padding": op}, _tup(sz, R)):
                    b.conv("output_padding", DATA_FORMATS[j % 2], size=sz, kernel_size=k,
                           strides=st, padding=pad, output_padding=op, dilation_rate=1)
                    j += 1
        b.conv("output_padding", "channels_last", strides=1, dilation_rate=2, kernel_size=3,
               padding="same", output_padding=0)
        b.conv("output_padding", "channels_first", strides=1, dilation_rate=1, kernel_size=2,
               padding="valid", output_padding=0)
        # edges: one input step; kernel smaller than the stride (gaps of zeros); kernel 1
        b.conv("edge", "channels_last", size=1, kernel_size=3, strides=2, padding="valid",
               dilation_rate=1)
        b.conv("edge", "channels_first", size=1, kernel_size=2, strides=3, padding="same",
               dilation_rate=1)
        b.conv("edge", "channels_last", size=3, kernel_size=2, strides=3, padding="valid",
               dilation_rate=1)
        b.conv("edge", "channels_first", size=3, kernel_size=1, strides=3, padding="same",
               dilation_rate=1, output_padding=2)
    else:
        # depth_multiplier 1..3 x data formats, strided / dilated ones too
        for dm in [1, 2, 3]:
            for i, df in both:
                b.conv("depth_multiplier", df, depth_multiplier=dm)
        b.conv("depth_multiplier", "channels_last", depth_multiplier=3, cin=1, strides=2,
               padding="same")
        b.conv("depth_multiplier", "channels_first", depth_multiplier=2, cin=4,
               dilation_rate=2, padding="valid")
        # edges: 'valid' with the input exactly the dilated kernel; 'same' input smaller than
        # the kernel; stride larger than the input
        b.conv("edge", "channels_last", size=5, kernel_size=3, dilation_rate=2, strides=1,
               padding="valid")
        b.conv("edge", "channels_first", size=2, kernel_size=5 if R < 3 else 3,
               dilation_rate=1, strides=1, padding="same")
        b.conv("edge", "channels_last", size=2, kernel_size=1, dilation_rate=1, strides=3,
               padding="same")
        b.conv("edge", "channels_first", size=4, kernel_size=4, dilation_rate=1, strides=3,
               padding="valid")
    if ls.layer_class == "SeparableConv1D":
        # causal: tf_keras pads dilation*(k-1) zeros on the left, then a 'valid' conv
        for i, (k, s, d, n) in enumerate([(2, 1, 1, 6), (3, 1, 2, 8), (4, 2, 1, 7),
                                          (3, 3, 1, 8), (5, 1, 1, 3), (3, 1, 3, 5)]):
            b.conv("causal", DATA_FORMATS[i % 2], size=n, kernel_size=k, strides=s,
                   dilation_rate=d, padding="causal")
        b.conv("padding_spelling", "channels_last", padding="Causal", kernel_size=2)
    # F. padding spellings, use_bias=False, initializers / constraints, regularizers, float64
    b.conv("padding_spelling", "channels_last", padding="SAME", kernel_size=2)
    b.conv("padding_spelling", "channels_first", padding="Valid", kernel_size=3,
           size=_tup(4, R))
    for i, df in both:
        b.conv("use_bias", df, use_bias=False)
    b.conv("init_constraint", "channels_last", use_bias=True, **_init_constraint_args(ls))
    for i, df in both:
        b.conv("regularizers", df, use_bias=True, **_reg_args(ls, i))
    for i, df in both:
        b.conv("float64", df, dtype="float64")
    st2 = sp.strides[0]
    b.conv("float64", "channels_last", dtype="float64", strides=st2, dilation_rate=1,
           padding="same", **({"output_padding": "draw"} if tr else {}))
    if ls.layer_class == "Conv3DTranspose":
        # dilation_rate is accepted but ignored by tf_keras (call, output shape, config)
        b.conv("dilation_ignored", "channels_last", dilation_rate=2, strides=1, kernel_size=2,
               padding="valid")
        b.conv("dilation_ignored", "channels_first", dilation_rate=(1, 2, 1), strides=1,
               kernel_size=3, padding="same")


def plan_upsampling(b: Builder):
    ls, R = b.ls, b.ls.rank
    if R == 1:  # UpSampling1D: size only (an int; Keras applies int())
        for j, (size, n) in enumerate([(1, 4), (2, 5), (3, 3), (4, 2), (5, 1), (2, 7), (3, 6)]):
            b.add("size", {"size": size}, size=n)
        b.add("defaults", {}, size=4)
        b.add("size_spelling", {"size": 3.0}, size=3)
        b.add("size_spelling", {"size": 2.9}, size=3)  # int(2.9) == 2
        b.add("float64", {"size": 2}, size=4, dtype="float64")
        b.add("float64", {"size": 3}, size=2, dtype="float64")
        return
    sizes = {2: [2, (2, 3), (3, 2), [1, 2], (2, 2), [3, 1], 3, (1, 1)],
             3: [2, (1, 2, 3), [2, 1, 2], (3, 1, 1), 1, (2, 2, 2)]}[R]
    n = 5 if R == 2 else 3
    if R == 2:
        # every interpolation x both data formats, size factors cycling (int / tuple / list /
        # non-uniform)
        j = 0
        for interp in INTERPOLATIONS:
            for i, df in enumerate(DATA_FORMATS):
                b.add("interpolation", {"size": sizes[j % len(sizes)], "data_format": df,
                                        "interpolation": interp},
                      size=(n - i, n + 1 - 2 * i))
                j += 1
        # every interpolation with the non-uniform (2, 3)
        for interp in INTERPOLATIONS:
            b.add("interpolation_2x3", {"size": (2, 3), "interpolation": interp,
                                        "data_format": DATA_FORMATS[j % 2]}, size=(3, 4))
            j += 1
        b.add("interpolation_spelling", {"size": 2, "interpolation": "Bilinear"}, size=(3, 3))
        b.add("interpolation_spelling", {"size": (2, 1), "interpolation": "NEAREST",
                                         "data_format": "channels_first"}, size=(3, 2))
        b.add("edge", {"size": (3, 2), "interpolation": "bilinear"}, size=(1, 1))
        b.add("edge", {"size": (2, 2), "interpolation": "bicubic",
                       "data_format": "channels_first"}, size=(1, 2))
        for interp in ["nearest", "bilinear", "bicubic", "area", "lanczos3"]:
            b.add("float64", {"size": (2, 3), "interpolation": interp}, size=(3, 3),
                  dtype="float64")
    else:
        for j, size in enumerate(sizes):
            for i, df in enumerate(DATA_FORMATS):
                b.add("size", {"size": size, "data_format": df}, size=(n - i, 2, n - 1 + i))
        b.add("float64", {"size": (2, 1, 2)}, size=(2, 3, 2), dtype="float64")
        b.add("float64", {"size": 2, "data_format": "channels_first"}, size=2, dtype="float64")
    b.add("defaults", {}, size=_tup(3, R))
    b.add("defaults", {"data_format": None}, size=_tup(2, R))


# padding / cropping spellings per rank: ints, tuple of ints (symmetric per dim), tuple of
# (before, after) tuples, mixes of the two, lists; zeros on either end (Cropping's slicing
# branches)
_PAD_SPELLINGS = {
    1: [0, 1, 2, 3, (1, 2), (0, 3), (2, 0), [1, 1], (0, 0), [2, 3]],
    2: [0, 1, 2, (1, 2), (0, 3), ((1, 2), (3, 0)), ((0, 1), (2, 2)), ((1, 2), 3),
        (2, (0, 1)), [[2, 0], [0, 0]], [1, [1, 2]], ((0, 0), (0, 0))],
    3: [0, 1, (1, 2, 0), ((1, 0), (0, 2), (1, 1)), ((0, 1), 2, (1, 0)), [1, [0, 1], 0],
        ((0, 0), (1, 0), (0, 0)), [[1, 1], [0, 0], [0, 2]]],
}


def _pad_total(spec, R):
    """(before, after) per dim of a padding / cropping spelling."""
    if isinstance(spec, int):
        return [(spec, spec)] * R
    if R == 1:
        return [tuple(spec)]
    return [(e, e) if isinstance(e, int) else tuple(e) for e in spec]


def plan_pad_crop(b: Builder):
    ls, R = b.ls, b.ls.rank
    key = "padding" if ls.layer_class.startswith("ZeroPadding") else "cropping"
    crop = key == "cropping"
    j = 0
    for spec in _PAD_SPELLINGS[R]:
        tot = _pad_total(spec, R)
        # cropping: the input keeps 1..2 elements per dim (the exact-fit edge for some)
        size = [a + c + (1 + (j + i) % 2 if crop else 2 + (j + i) % 3)
                for i, (a, c) in enumerate(tot)]
        dfs = DATA_FORMATS if R > 1 else [None]
        for df in dfs:
            args = {key: spec}
            if df is not None:
                args["data_format"] = df
            b.add("spelling", args, size=size)
            j += 1
    b.add("defaults", {}, size=_tup(4, R))
    if R > 1:
        b.add("defaults", {"data_format": None}, size=_tup(3, R))
    spec = _PAD_SPELLINGS[R][4]
    size = [a + c + 2 for a, c in _pad_total(spec, R)]
    b.add("float64", {key: spec}, size=size, dtype="float64")
    b.add("float64", {key: 1, **({"data_format": "channels_first"} if R > 1 else {})},
          size=_tup(3, R), dtype="float64")


# ----------------------------------------------------------------------------- error cases
_TR_ERRORS_COMMON = [
    ("init", {"filters": 0, "kernel_size": 3}, None, {}),
    ("init", {"filters": 2, "kernel_size": 0}, None, {}),
    ("init", {"filters": 2, "kernel_size": 3, "strides": 0}, None, {}),
    ("init", {"filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, None, {}),
    ("init", {"filters": 2, "kernel_size": 3, "padding": "causal"}, None, {}),
    ("init", {"filters": 2, "kernel_size": 3, "padding": "full"}, None, {}),
    ("init", {"filters": 2, "kernel_size": 3, "data_format": "channels_middle"}, None, {}),
    ("init", {"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 2}, None, {}),
    ("init", {"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 3}, None, {}),
    ("init", {"filters": 2, "kernel_size": 3, "output_padding": 1}, None,
     {"note": "output_padding must be < strides (default 1)"}),
    ("init", {"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": -1}, None, {}),
    ("init", {"filters": 2, "kernel_size": 3, "strides": 1, "output_padding": 0}, None, {}),
    ("init", {"filters": 2, "kernel_size": 3, "activation": "nope"}, None, {}),
    ("init", {"filters": 2, "kernel_size": 3, "groups": 2}, None,
     {"note": "groups is a Conv argument the transposed layers pass through"}),
]


def _tr_errors(R):
    sp = [2] + [5] * R
    spd = [2] + [5] * R + [3]
    cf = [2, 3] + [5] * R
    op_bad = [2] * (R - 1) + [3]
    return _TR_ERRORS_COMMON + [
        ("init", {"filters": 2, "kernel_size": [3] * (R + 1)}, None, {}),
        ("init", {"filters": 2, "kernel_size": 3, "strides": [2] * (R + 1)}, None, {}),
        ("init", {"filters": 2, "kernel_size": 3, "strides": 2,
                  "output_padding": [1] * (R + 1)}, None, {}),
        ("init", {"filters": 2, "kernel_size": 3, "strides": 3, "output_padding": op_bad},
         None, {}),
        ("call", {"filters": 2, "kernel_size": 3}, sp, {"note": "wrong input rank"}),
        ("call", {"filters": 2, "kernel_size": 3}, [2] + spd, {"note": "wrong input rank"}),
        ("build", {"filters": 2, "kernel_size": 3}, [None] * (R + 1) + [None], {}),
        ("build", {"filters": 2, "kernel_size": 3, "data_format": "channels_first"},
         [None, None] + [5] * R, {}),
        ("call", {"filters": 2, "kernel_size": 3}, [2] + [5] * R + [4],
         {"build_shape": [2] + [5] * R + [3]}),
        ("call", {"filters": 2, "kernel_size": 3, "data_format": "channels_first"}, cf,
         {"note": "channels_first, run eagerly"}),
        ("call", {"filters": 2, "kernel_size": 2, "strides": 2, "padding": "same",
                  "output_padding": 0}, spd,
         {"note": "'same' + even kernel + output_padding 0: the requested output "
                  "(n-1)*s does not map back to n under a SAME conv; the TF op fails "
                  "(with oneDNN the error is an oneDNN primitive error)"}),
        ("call", {"filters": 2, "kernel_size": 4, "strides": 1, "padding": "same",
                  "output_padding": 0}, spd,
         {"note": "'same' + even kernel + explicit output_padding with stride 1"}),
        ("compute_output_shape", {"filters": 2, "kernel_size": 2, "strides": 2,
                                  "padding": "same", "output_padding": 0},
         [None] + [5] * R + [3], {"note": "no check in compute_output_shape"}),
        ("call", {"filters": 2, "kernel_size": 3, "padding": [[0, 0]] * (R + 2)}, spd, {}),
        ("call", {"filters": 2, "kernel_size": 3, "groups": 2}, [2] + [5] * R + [4],
         {"note": "groups is accepted and ignored (kernel (*k, filters, cin))"}),
    ]


CONV1D_TRANSPOSE_ERRORS = _tr_errors(1) + [
    ("call", {"filters": 2, "kernel_size": 3, "padding": "causal"}, [2, 5, 3],
     {"note": "Conv1DTranspose subclasses Conv1D: 'causal' passes the init check"}),
]
CONV2D_TRANSPOSE_ERRORS = _tr_errors(2) + [
    ("call", {"filters": 2, "kernel_size": 3, "dilation_rate": [2, 1]}, [2, 6, 6, 3],
     {"note": "unequal dilation rates: backend.conv2d_transpose uses "
              "tf.nn.atrous_conv2d_transpose (one rate)"}),
    ("call", {"filters": 2, "kernel_size": 3, "dilation_rate": [1, 2],
              "data_format": "channels_first"}, [2, 3, 6, 6], {}),
    ("compute_output_shape", {"filters": 2, "kernel_size": 3, "dilation_rate": [2, 1]},
     [None, 6, 6, 3], {}),
]
CONV3D_TRANSPOSE_ERRORS = _tr_errors(3) + [
    ("call", {"filters": 2, "kernel_size": 3, "dilation_rate": 2}, [2, 3, 3, 3, 2],
     {"note": "dilation_rate accepted and ignored by tf_keras (no error; output shape of "
              "the undilated kernel)"}),
]


def _dw_errors(cls, R):
    sep = cls.startswith("Separable")
    base = {"filters": 2, "kernel_size": 3} if sep else {"kernel_size": 3}
    sp = [2] + [5] * R + [3]

    def a(**kw):
        return {**base, **kw}

    errs = [
        ("init", a(kernel_size=0), None, {}),
        ("init", a(kernel_size=[3] * (R + 1)), None, {}),
        ("init", a(strides=0), None, {}),
        ("init", a(strides=[1] * (R + 1)), None, {}),
        ("init", a(strides=2, dilation_rate=2), None, {}),
        ("init", a(padding="full"), None, {}),
        ("init", a(data_format="channels_middle"), None, {}),
        ("init", a(activation="nope"), None, {}),
        ("init", a(depthwise_initializer="nope"), None, {}),
        ("init", a(depth_multiplier=0), None,
         {"note": "depth_multiplier is not validated at init"}),
        ("build", a(depth_multiplier=0), [None] + [5] * R + [3], {}),
        ("init", a(depth_multiplier=-1), None, {}),
        ("call", a(depth_multiplier=1.5), sp, {"note": "float depth_multiplier"}),
        ("call", a(), [2] + [5] * R, {"note": "wrong input rank"}),
        ("call", a(), [2, 2] + [5] * R + [3], {"note": "wrong input rank"}),
        ("build", a(), [None] + [5] * R + [None], {}),
        ("call", a(), [2] + [5] * R + [4], {"build_shape": sp}),
        ("call", a(kernel_size=7), sp, {"note": "input shorter than the kernel: output "
                                             "size -1"}),
        ("call", a(kernel_size=3, dilation_rate=3), [2] + [6] * R + [3],
         {"note": "output size exactly 0: no error; if the eager call returns a tensor "
                  "of the INPUT's shape, that is a TF quirk on empty outputs (see "
                  "conv2d_errors.json), not behaviour to copy"}),
        ("compute_output_shape", a(kernel_size=7), [None] + [5] * R + [3], {}),
        ("call", a(data_format="channels_first"), [2, 3] + [5] * R,
         {"note": "channels_first, run eagerly"}),
    ]
    if sep:
        errs += [
            ("init", a(filters=0), None, {}),
            ("init", a(pointwise_initializer="nope"), None, {}),
            ("losses", a(pointwise_regularizer="nope"), sp, {}),
        ]
    else:
        errs += [
            ("init", a(filters=2), None,
             {"note": "DepthwiseConv has no filters argument"}),
            ("init", a(kernel_initializer="he_normal"), None,
             {"note": "kernel_initializer is not a DepthwiseConv argument"}),
            ("losses", a(depthwise_regularizer="nope"), sp, {}),
        ]
    if R == 1:
        errs.append(("init" if not sep else "call", a(padding="causal"),
                     None if not sep else [2, 5, 3], {}))
        if sep:
            errs.append(("init", a(padding="causal", strides=2, dilation_rate=2), None, {}))
    else:
        errs.append(("init", a(padding="causal"), None, {}))
    return errs


def _pad_crop_errors(cls, R):
    crop = cls.startswith("Cropping")
    key = "cropping" if crop else "padding"
    sp = [2] + [4] * R + [3]
    errs = [
        ("init", {key: -1}, None, {}),
        ("init", {key: [1] * (R + 1) if R > 1 else [1, 1, 1]}, None, {}),
        ("init", {key: "a"}, None, {}),
        ("init", {key: 1.5}, None, {}),
        ("init", {key: [[1, -1]] + [[0, 0]] * (R - 1) if R > 1 else [1, -1]}, None, {}),
        ("init", {key: [[1, 2, 3]] + [[0, 0]] * (R - 1) if R > 1 else [[1, 2]]}, None, {}),
        ("call", {key: 1}, [2] + [4] * R, {"note": "wrong input rank"}),
        ("call", {key: 1}, [2, 2] + [4] * R + [3], {"note": "wrong input rank"}),
        ("compute_output_shape", {key: 1}, [None] + [None] * R + [3], {}),
    ]
    if R > 1:
        errs.append(("call", {key: -1}, sp, {"note": "an int is not validated at init "
                                                 "(only tuple entries are)"}))
        errs.append(("init", {key: 1, "data_format": "channels_middle"}, None, {}))
        errs.append(("init", {key: [1] * R, "data_format": "Channels_First"}, None,
                     {"note": "data_format is lower-cased"}))
        if R == 2:
            errs.append(("init", {key: [1.0, 2]}, None, {}))
    else:
        errs.append(("init", {key: 1, "data_format": "channels_last"}, None,
                     {"note": "tf_keras' 1D layer has no data_format (Keras 3's has)"}))
    if crop:
        note3 = "; Cropping3D.call has no size check" if R == 3 else ""
        errs += [
            ("call", {key: 2}, sp, {"note": "cropping == input size" + note3}),
            ("call", {key: 3}, sp, {"note": "cropping larger than the input"}),
            ("call", {key: [[0, 4]] + [[0, 0]] * (R - 1) if R > 1 else [0, 4]}, sp, {}),
            ("compute_output_shape", {key: 3}, [None] + [4] * R + [3],
             {"note": "compute_output_shape does not check"}),
            ("build", {key: 3}, [None] + [4] * R + [3], {}),
            ("call", {key: 2, **({"data_format": "channels_first"} if R > 1 else {})},
             [2, 3] + [4] * R if R > 1 else [2, 4, 3], {}),
        ]
        if R > 1:
            errs.append(("compute_output_shape", {key: 1}, [None] + [0] * R + [3],
                         {"note": "a 0 spatial dim is taken as unknown (None)"}))
    else:
        errs.append(("call", {key: 0}, sp, {"note": "zero padding: identity"}))
    return errs


_UP3D_NOTE = ("; tf_keras UpSampling3D sets input_spec BEFORE Layer.__init__, which "
              "resets it: no rank check, axes 1..3 (channels_last) are repeated")


def _upsampling_errors(R):
    sp = [2] + [3] * R + [2]
    errs = [
        ("init", {"size": 0}, None, {}),
        ("init", {"size": -1}, None, {}),
        ("init", {"size": "a"}, None, {}),
        ("call", {"size": 2}, [2] + [3] * R,
         {"note": "wrong input rank" + _UP3D_NOTE * (R == 3)}),
        ("call", {"size": 2}, [2, 2] + [3] * R + [2],
         {"note": "wrong input rank" + _UP3D_NOTE * (R == 3)}),
        ("compute_output_shape", {"size": 2}, [None] * (R + 1) + [2], {}),
    ]
    if R == 1:
        errs += [
            ("init", {"size": [2]}, None, {"note": "tf_keras applies int(size)"}),
            ("call", {"size": "3"}, sp, {"note": "int('3') == 3: a string is accepted"}),
            ("call", {"size": 0}, sp, {"note": "size 0: not validated at init; the call "
                                               "fails inside TF (an internal kernel-lookup "
                                               "error whose KernelDef text varies run to run "
                                               "and is written as '...')"}),
            ("init", {"size": 2, "data_format": "channels_last"}, None, {}),
        ]
    else:
        errs += [
            ("init", {"size": [2] * (R + 1)}, None, {}),
            ("init", {"size": [2] * (R - 1) + [0]}, None, {}),
            ("init", {"size": 2.5}, None, {}),
            ("init", {"size": 2, "data_format": "channels_middle"}, None, {}),
        ]
    if R == 2:
        errs += [
            ("init", {"size": 2, "interpolation": "nope"}, None, {}),
            ("init", {"size": 2, "interpolation": "linear"}, None, {}),
            ("init", {"size": 2, "interpolation": "lanczos"}, None, {}),
            ("init", {"size": 2, "interpolation": None}, None, {}),
            ("call", {"size": 2, "interpolation": "Area"}, sp,
             {"note": "interpolation is lower-cased"}),
        ]
    return errs


# ----------------------------------------------------------------------------- the classes
LAYER_SETS = [
    LayerSet("Conv1DTranspose", "conv1d_transpose", 1, "transpose", plan_conv_like,
             CONV1D_TRANSPOSE_ERRORS, seed=20250701),
    LayerSet("Conv2DTranspose", "conv2d_transpose", 2, "transpose", plan_conv_like,
             CONV2D_TRANSPOSE_ERRORS, seed=20250702, max_size=5),
    LayerSet("Conv3DTranspose", "conv3d_transpose", 3, "transpose", plan_conv_like,
             CONV3D_TRANSPOSE_ERRORS, seed=20250703, max_size=3),
    LayerSet("DepthwiseConv1D", "depthwise_conv1d", 1, "depthwise", plan_conv_like,
             _dw_errors("DepthwiseConv1D", 1), seed=20250711),
    LayerSet("DepthwiseConv2D", "depthwise_conv2d", 2, "depthwise", plan_conv_like,
             _dw_errors("DepthwiseConv2D", 2), seed=20250712),
    LayerSet("SeparableConv1D", "separable_conv1d", 1, "separable", plan_conv_like,
             _dw_errors("SeparableConv1D", 1), seed=20250721),
    LayerSet("SeparableConv2D", "separable_conv2d", 2, "separable", plan_conv_like,
             _dw_errors("SeparableConv2D", 2), seed=20250722),
    LayerSet("UpSampling1D", "up_sampling1d", 1, "weight_free", plan_upsampling,
             _upsampling_errors(1), seed=20250731),
    LayerSet("UpSampling2D", "up_sampling2d", 2, "weight_free", plan_upsampling,
             _upsampling_errors(2), seed=20250732),
    LayerSet("UpSampling3D", "up_sampling3d", 3, "weight_free", plan_upsampling,
             _upsampling_errors(3), seed=20250733),
    LayerSet("ZeroPadding1D", "zero_padding1d", 1, "weight_free", plan_pad_crop,
             _pad_crop_errors("ZeroPadding1D", 1), seed=20250741),
    LayerSet("ZeroPadding2D", "zero_padding2d", 2, "weight_free", plan_pad_crop,
             _pad_crop_errors("ZeroPadding2D", 2), seed=20250742),
    LayerSet("ZeroPadding3D", "zero_padding3d", 3, "weight_free", plan_pad_crop,
             _pad_crop_errors("ZeroPadding3D", 3), seed=20250743),
    LayerSet("Cropping1D", "cropping1d", 1, "weight_free", plan_pad_crop,
             _pad_crop_errors("Cropping1D", 1), seed=20250751),
    LayerSet("Cropping2D", "cropping2d", 2, "weight_free", plan_pad_crop,
             _pad_crop_errors("Cropping2D", 2), seed=20250752),
    LayerSet("Cropping3D", "cropping3d", 3, "weight_free", plan_pad_crop,
             _pad_crop_errors("Cropping3D", 3), seed=20250753),
]


# ----------------------------------------------------------------------------- running a case
def _short(v):
    return v.name.split("/")[-1].split(":")[0]


def _fan_in(name, shape):
    if name == "depthwise_kernel":     # (*kernel_size, cin, depth_multiplier)
        return int(np.prod(shape[:-2]))
    if name == "pointwise_kernel":     # (1.., cin * depth_multiplier, filters)
        return int(shape[-2])
    return int(np.prod(shape[:-2])) * int(shape[-1])  # transposed: (*k, filters, cin)


def _random_weight(rng, name, shape, dtype):
    if name == "bias":
        return (0.5 * rng.standard_normal(shape)).astype(dtype)
    return (rng.standard_normal(shape) / np.sqrt(_fan_in(name, shape))).astype(dtype)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_KERNEL_DEF = re.compile(r"KernelDef: '.*?'(?= \[Op:)", re.S)


def _first_line(e_type, msg):
    """``"Type: message"`` on one line: ANSI codes and Keras' trailing "(Call) arguments
    received by ..." block dropped, the remaining lines joined with " | "."""
    text = _ANSI.sub("", clean_message(msg))
    text = re.split(r"\n\s*(?:Call a|A)rguments received by", text)[0]
    return f"{e_type}: " + " | ".join(ln.strip() for ln in text.splitlines() if ln.strip())


def _call(tf, fn, args, use_xla):
    if use_xla:
        return tf.function(fn, jit_compile=True, autograph=False)(*args)
    return fn(*args)


def run_case(ls: LayerSet, case, seed, use_xla):
    """One forward/backward case through real tf_keras -> (record, tensors)."""
    tf, tf_keras = import_tf()
    args, ishape, dtype = case["args"], case["input_shape"], case["dtype"]
    rng = np.random.default_rng(seed)
    fresh_session(tf_keras, seed=seed)

    layer = getattr(tf_keras.layers, ls.layer_class)(**args)
    layer.build(tf.TensorShape(ishape))
    out_shape = shape_list(layer.compute_output_shape(ishape))
    x = rng.standard_normal(ishape).astype(dtype)
    tensors = {"input": x}
    wvars = list(layer.weights)
    names = [_short(v) for v in wvars]
    weights = [_random_weight(rng, n, tuple(v.shape), dtype) for n, v in zip(names, wvars)]
    for n, w in zip(names, weights):
        tensors["weight." + n] = w
    if weights:
        layer.set_weights(weights)
    upstream = rng.standard_normal(out_shape)  # cast to the output dtype in the graph

    def fwd(with_grad):
        def f(xt, ut):
            with tf.GradientTape() as tape:
                tape.watch(xt)
                y = layer(xt)
                loss = tf.reduce_sum(y * tf.cast(ut, y.dtype))
            grads = tape.gradient(loss, [xt] + wvars) if with_grad else []
            return y, grads, list(layer.losses)
        return f

    xt, ut = tf.constant(x), tf.constant(upstream)
    et, em, res = try_call(lambda: _call(tf, fwd(True), (xt, ut), use_xla))
    grad_error = None
    if et is not None:
        y, _, losses = _call(tf, fwd(False), (xt, ut), use_xla)  # raises: forward fails
        grads = None
        grad_error = _first_line(et, em)
    else:
        y, grads, losses = res
    y = y.numpy()
    tensors["output"] = y
    tensors["upstream"] = upstream.astype(y.dtype)
    if grads is not None:
        tensors["grad_input"] = grads[0].numpy()
        for n, g in zip(names, grads[1:]):
            tensors["grad." + n] = g.numpy()
    for k, v in tensors.items():
        assert np.all(np.isfinite(v)), k
        assert k in ("output", "upstream") or v.dtype == np.dtype(dtype), (k, v.dtype)

    none_spatial = [None] * (ls.rank + 2)
    c_axis = -1 if case["data_format"] == "channels_last" else 1
    none_spatial[c_axis] = ishape[c_axis]
    et2, em2, cos_none = try_call(lambda: shape_list(layer.compute_output_shape(none_spatial)))
    rec = {
        "output_shape": list(y.shape),
        "output_dtype": str(y.dtype),
        "compute_output_shape": shape_list(layer.compute_output_shape([None] + ishape[1:])),
        "compute_output_shape_none_spatial": cos_none,
    }
    if et2 is not None:
        rec["compute_output_shape_none_spatial_error"] = _first_line(et2, em2)
    rec.update({
        "config": jsonable(layer.get_config()),
        "weight_names": names,
        "weight_shapes": [list(v.shape) for v in wvars],
        "losses": [float(v) for v in losses],
        "dtype": dtype,
        "xla": bool(use_xla),
    })
    if grad_error:
        rec["grad_error"] = grad_error
    assert rec["output_shape"] == out_shape, (rec["output_shape"], out_shape)
    return rec, tensors, weights


def keras3_record(ls: LayerSet, case, x, weights, y_ref):
    """The same case through Keras 3 (config, output shape, output difference)."""
    import tensorflow as tf

    keras = import_keras3()
    fresh_session(keras)
    out = {}
    ishape = case["input_shape"]
    et, em, layer = try_call(lambda: getattr(keras.layers, ls.layer_class)(**case["args"]))
    if et is None:
        et, em, _ = try_call(lambda: layer.build(tuple(ishape)))
    if et is None and weights:
        et, em, _ = try_call(lambda: layer.set_weights(weights))
    if et is None:
        et, em, y = try_call(lambda: layer(tf.constant(x)))
        if et is not None:  # e.g. NCHW on the CPU: retry under XLA
            et, em, y = try_call(lambda: tf.function(
                layer, jit_compile=True, autograph=False)(tf.constant(x)))
    if et is not None:
        out["keras3_error"] = _first_line(et, em)
        if layer is None:
            return out
    out["keras3_config"] = jsonable(layer.get_config())
    et2, em2, cos = try_call(lambda: shape_list(
        layer.compute_output_shape(tuple([None] + ishape[1:]))))
    out["keras3_compute_output_shape"] = cos if et2 is None else _first_line(et2, em2)
    if et is None:
        y = np.asarray(y)
        out["keras3_output_shape"] = list(y.shape)
        out["keras3_output_dtype"] = str(y.dtype)
        out["keras3_max_abs_diff"] = (
            float(np.max(np.abs(y.astype(np.float64) - y_ref.astype(np.float64))))
            if y.shape == y_ref.shape and y.size else None)
    return out


def gen_layer_set(ls: LayerSet, out_dir):
    tf, tf_keras = import_tf()
    cases_in = Builder(ls).build_all()
    cases, all_tensors, n_xla, n_k3_diff = [], {}, 0, 0
    for idx, case in enumerate(cases_in):
        cid = f"c{idx:03d}"
        want_xla = ls.conv_like and case["data_format"] == "channels_first"
        seed = ls.seed + idx
        try:
            rec, tensors, weights = run_case(ls, case, seed, want_xla)
        except Exception as e:  # noqa: BLE001
            if want_xla:
                raise
            print(f"[{ls.name} {cid}] eager run failed "
                  f"({_first_line(type(e).__name__, e)[:200]}); retrying under XLA")
            rec, tensors, weights = run_case(ls, case, seed, True)
        n_xla += rec["xla"]
        entry = {"id": cid, "group": case["group"], "class": ls.layer_class,
                 "args": case["args"], "input_shape": case["input_shape"]}
        entry.update(rec)
        with warnings.catch_warnings():  # Keras 3's softmax-over-a-size-1-axis warning
            warnings.simplefilter("ignore")
            entry.update(keras3_record(ls, case, tensors["input"], weights, tensors["output"]))
        d = entry.get("keras3_max_abs_diff")
        n_k3_diff += d is None or d > (1e-5 if case["dtype"] == "float32" else 1e-12)
        cases.append(entry)
        for k, v in tensors.items():
            all_tensors[f"{cid}.{k}"] = v

    write_json(os.path.join(out_dir, f"{ls.name}_cases.json"), cases)
    tensors_path = os.path.join(out_dir, f"{ls.name}_tensors.safetensors")
    save_safetensors(all_tensors, tensors_path, metadata={"generator": (
        f"{GENERATOR} tensorflow={tf.__version__} tf_keras={tf_keras.__version__}")})
    errors = gen_errors(ls)
    for e in errors:  # TF's internal kernel-lookup errors embed debug text that varies
        for key in ("keras_message", "keras3_message"):
            if e[key]:
                e[key] = _KERNEL_DEF.sub("KernelDef: '...'", e[key])
    write_json(os.path.join(out_dir, f"{ls.name}_errors.json"), errors)
    size = os.path.getsize(tensors_path)
    print(f"{ls.name}: {len(cases)} cases ({n_xla} via XLA), {len(all_tensors)} tensors "
          f"({size / 1e6:.2f} MB), {len(errors)} error cases "
          f"({sum(e['keras_error_type'] is None for e in errors)} do not raise in tf_keras); "
          f"{n_k3_diff} cases where Keras 3 differs or fails")
    return {"cases": len(cases), "errors": len(errors), "bytes": size}


def main(out_dir, only=None):
    tf, _ = import_tf()
    try:
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass
    os.makedirs(out_dir, exist_ok=True)
    return {ls.name: gen_layer_set(ls, out_dir) for ls in LAYER_SETS
            if only is None or ls.name in only}
