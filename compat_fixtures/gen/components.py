"""Reference fixtures for activations / regularizers / constraints / initializers
and Conv2D configs, generated with REAL tf.keras (``tf_keras``, primary
reference) and Keras 3 (``keras`` on the TensorFlow backend, secondary
reference).

Run (from the repository root, in the reference venv; see ``generate.py``)::

    .venv-keras/bin/python compat_fixtures/generate.py                  # every generator
    .venv-keras/bin/python compat_fixtures/generate.py --only components

Files written into ``out_dir``:

* ``activations.json`` + ``activations.safetensors``
* ``regularizers.json``
* ``constraints.json``
* ``initializers.json``
* ``components.safetensors`` (regularizer / constraint inputs, constraint
  outputs, large deterministic initializer values)
* ``keras3_configs.json``
* ``versions.json``

Everything is deterministic (fixed seeds; no memory addresses in recorded
error texts; explicit layer names).
"""
from __future__ import annotations

import contextlib
import json
import os
import warnings

import numpy as np

from .common import (
    clean_message,
    error_text,
    fresh_session,
    imports,
    jsonable,
    save_safetensors,
    shape_tag,
    to_numpy,
    versions,
    write_json,
)

F32 = np.float32
# "generator" metadata of the safetensors files: the name of this generator before the split,
# kept so that the recorded files stay byte-identical
GENERATOR = "gen_components.py"


def _fn_name(f):
    if hasattr(f, "__name__"):
        return f.__name__
    return type(f).__name__


def _kind_of(f):
    import types

    if isinstance(f, types.FunctionType) or isinstance(
        f, types.BuiltinFunctionType
    ):
        return "function"
    if isinstance(f, type):
        return "class"
    try:
        import tf_keras

        if isinstance(f, tf_keras.layers.Layer):
            return "layer_instance"
    except Exception:  # pragma: no cover
        pass
    if callable(f):
        return "callable_object"
    return type(f).__name__


def _activation_input():
    """(2,3,4,5) float32 in [-6, 6] incl. 0, +-2.5, +-3, +-6, values near 0."""
    special = [
        0.0, 2.5, -2.5, 3.0, -3.0, 6.0, -6.0,
        1e-3, -1e-3, 1e-6, -1e-6, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0,
        2.4, -2.4, 2.6, -2.6, 2.9, -2.9, 3.1, -3.1, 0.1, -0.1,
        5.9, -5.9, 4.0, -4.0, 0.25, -0.25, 1.5, -1.5,
    ]
    rng = np.random.default_rng(20240601)
    n = 2 * 3 * 4 * 5
    rest = rng.uniform(-6.0, 6.0, size=n - len(special))
    vals = np.concatenate([np.array(special, np.float64), rest]).astype(F32)
    perm = rng.permutation(n)
    x = vals[perm].reshape(2, 3, 4, 5)
    u = rng.normal(size=(2, 3, 4, 5)).astype(F32)
    return x, u


# ----------------------------------------------------------------------------
# 1. activations
# ----------------------------------------------------------------------------
# Names that tf_keras.activations.get() resolves but which are clearly not
# activation functions (module-level helpers picked up by deserialize()).
_NON_ACTIVATION_CALLABLES = {"serialize", "deserialize", "get", "keras_export"}


def gen_activations(out_dir):
    tf, tf_keras, keras = imports()
    from tf_keras.src import activations as A
    import tf_keras.src.layers.activation as activation_layers
    from tf_keras.src.utils import generic_utils

    x, u = _activation_input()
    tensors = {"input": x, "upstream": u}

    # Same enumeration deserialize() uses internally.
    module_objs = {}
    generic_utils.populate_dict_with_module_objects(
        module_objs, (activation_layers, A), obj_filter=callable
    )
    candidate_names = sorted(set(module_objs) | {
        "relu", "sigmoid", "softmax", "softplus", "softsign", "tanh", "selu",
        "elu", "exponential", "linear", "hard_sigmoid", "swish", "silu",
        "gelu", "relu6", "mish", "log_softmax", "leaky_relu",
    })
    # Names probed that tf_keras might reject (Keras-3-only names etc.)
    k3_names = sorted(keras.src.activations.ALL_OBJECTS_DICT.keys())
    probe_rejects = sorted(set(k3_names + [
        "softmax_v2", "hard_silu", "hard_swish", "Relu", "RELU", "bogus",
        "ReLU6", "Swish", "GELU", "Sigmoid", "sigmoid_v2",
    ]) - set(candidate_names))

    entries = {}
    accepted = []
    rejected = {}
    for name in candidate_names + probe_rejects:
        try:
            fn = tf_keras.activations.get(name)
        except Exception as e:
            rejected[name] = error_text(e)
            continue
        accepted.append(name)
        ent = {"kind": _kind_of(fn), "fn_name": _fn_name(fn)}
        try:
            ent["serialized"] = tf_keras.activations.serialize(fn)
        except Exception as e:
            ent["serialized"] = None
            ent["serialize_error"] = error_text(e)
        if name in _NON_ACTIVATION_CALLABLES:
            ent["note"] = ("accepted by tf_keras.activations.get() because it "
                           "is a callable in tf_keras/src/activations.py; not "
                           "an activation, no outputs recorded")
            entries[name] = ent
            continue
        if ent["kind"] == "layer_instance":
            ent["layer_config"] = fn.get_config()
        xt = tf.constant(x)
        ut = tf.constant(u)
        try:
            with tf.GradientTape() as tape:
                tape.watch(xt)
                y = fn(xt)
                s = tf.reduce_sum(y * ut)
            g = tape.gradient(s, xt)
            yo = to_numpy(y).astype(F32)
            if yo.shape != x.shape:
                raise ValueError("output shape %s != input shape" % (yo.shape,))
            tensors[name + ".output"] = yo
            ent["output_key"] = name + ".output"
            if g is None:
                ent["grad_key"] = None
                ent["grad_note"] = "tape.gradient returned None"
            else:
                tensors[name + ".grad"] = to_numpy(g).astype(F32)
                ent["grad_key"] = name + ".grad"
        except Exception as e:
            ent["apply_error"] = error_text(e)
        entries[name] = ent

    none_fn = tf_keras.activations.get(None)
    get_none = {
        "fn_name": _fn_name(none_fn),
        "serialized": tf_keras.activations.serialize(none_fn),
    }

    # ---- Keras 3 ----------------------------------------------------------
    k3 = {}
    k3_accepted = []
    for name in sorted(set(candidate_names) | set(k3_names) | set(probe_rejects)):
        try:
            fn = keras.activations.get(name)
        except Exception as e:
            k3[name] = {"accepted": False, "error": error_text(e)}
            continue
        k3_accepted.append(name)
        ent = {"accepted": True, "fn_name": _fn_name(fn)}
        try:
            ent["serialized"] = keras.activations.serialize(fn)
        except Exception as e:
            ent["serialize_error"] = error_text(e)
        if name in _NON_ACTIVATION_CALLABLES:
            k3[name] = ent
            continue
        try:
            y = to_numpy(fn(tf.constant(x))).astype(F32)
            if y.shape != x.shape:
                raise ValueError("output shape %s != input shape" % (y.shape,))
            key = name + ".keras3_output"
            tensors[key] = y
            ent["output_key"] = key
            if name in entries and entries[name].get("output_key"):
                ref = tensors[entries[name]["output_key"]]
                ent["max_abs_diff_vs_tf_keras"] = float(
                    np.max(np.abs(y.astype(np.float64) - ref.astype(np.float64)))
                )
        except Exception as e:
            ent["apply_error"] = error_text(e)
        k3[name] = ent
    k3_none = keras.activations.get(None)

    # ---- formula checks (float64 numpy formula vs recorded float32 output)
    x64 = x.astype(np.float64)
    from math import erf, sqrt, pi

    verf = np.vectorize(erf)
    formulas = {
        "hard_sigmoid": ("tf_keras", "clip(0.2*x + 0.5, 0, 1)",
                         np.clip(0.2 * x64 + 0.5, 0.0, 1.0)),
        "hard_sigmoid@keras3": ("keras3", "clip(x/6 + 0.5, 0, 1) == relu6(x+3)/6",
                                np.clip(x64 / 6.0 + 0.5, 0.0, 1.0)),
        "gelu": ("tf_keras", "0.5*x*(1+erf(x/sqrt(2)))  (approximate=False)",
                 0.5 * x64 * (1.0 + verf(x64 / sqrt(2.0)))),
        "gelu@tanh_approx": ("tf_keras:gelu", "0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715x^3)))",
                             0.5 * x64 * (1.0 + np.tanh(sqrt(2.0 / pi) * (x64 + 0.044715 * x64 ** 3)))),
        "gelu@keras3": ("keras3", "0.5*x*(1+erf(x/sqrt(2)))",
                        0.5 * x64 * (1.0 + verf(x64 / sqrt(2.0)))),
        "leaky_relu": ("tf_keras", "where(x>=0, x, 0.2*x)",
                       np.where(x64 >= 0, x64, 0.2 * x64)),
        "LeakyReLU": ("tf_keras", "LeakyReLU layer default: where(x>=0, x, 0.3*x)",
                      np.where(x64 >= 0, x64, 0.3 * x64)),
        "elu": ("tf_keras", "where(x>0, x, exp(x)-1)",
                np.where(x64 > 0, x64, np.expm1(x64))),
        "selu": ("tf_keras", "1.0507009873554805*where(x>0, x, 1.6732632423543772*(exp(x)-1))",
                 1.0507009873554805 * np.where(x64 > 0, x64, 1.6732632423543772 * np.expm1(x64))),
        "relu6": ("tf_keras", "clip(x, 0, 6)", np.clip(x64, 0, 6)),
        "swish": ("tf_keras", "x*sigmoid(x)", x64 / (1.0 + np.exp(-x64))),
        "mish": ("tf_keras", "x*tanh(softplus(x))", x64 * np.tanh(np.log1p(np.exp(x64)))),
        "ThresholdedReLU": ("tf_keras", "ThresholdedReLU layer default: x*(x>1.0)",
                            np.where(x64 > 1.0, x64, 0.0)),
        "softsign": ("tf_keras", "x/(1+|x|)", x64 / (1.0 + np.abs(x64))),
    }
    formula_checks = {}
    for key, (lib, text, ref) in formulas.items():
        base = key.split("@")[0]
        if lib == "keras3":
            tkey = base + ".keras3_output"
        else:
            tkey = base + ".output"
        if tkey not in tensors:
            continue
        formula_checks[key] = {
            "formula": text, "tensor": tkey,
            "max_abs_diff": float(np.max(np.abs(tensors[tkey].astype(np.float64) - ref))),
        }

    # ---- local derivative (grad / upstream) at special points ------------
    special_pts = [0.0, 2.5, -2.5, 3.0, -3.0, 6.0, -6.0, 1.0, -1.0]
    elementwise = [n for n, e in entries.items()
                   if e.get("grad_key") and n not in ("softmax", "log_softmax", "Softmax")]
    kink = {}
    for n in sorted(elementwise):
        g = tensors[n + ".grad"]
        row = {}
        for pt in special_pts:
            idx = np.argwhere(x == F32(pt))
            if len(idx) == 0:
                continue
            i = tuple(idx[0])
            row[repr(pt)] = float(g[i]) / float(u[i])
        kink[n] = row

    doc = {
        "description": (
            "tf_keras (tf.keras 2.x) activations applied to tensor 'input' "
            "(float32, shape [2,3,4,5]); '<name>.output' = activation(input); "
            "'<name>.grad' = d/d input of sum(output * upstream) via "
            "tf.GradientTape. softmax/log_softmax act on the last axis. "
            "'<name>.keras3_output' = Keras 3 activation on the same input."
        ),
        "input_key": "input",
        "upstream_key": "upstream",
        "shape": list(x.shape),
        "get_None": get_none,
        "formula_checks": formula_checks,
        "local_derivative_at_points": kink,
        "tf_keras_accepted": sorted(accepted),
        "tf_keras_rejected": rejected,
        "activations": entries,
        "keras3": {
            "get_None": {"fn_name": _fn_name(k3_none),
                         "serialized": keras.activations.serialize(k3_none)},
            "accepted": sorted(k3_accepted),
            "entries": k3,
        },
        "tf_keras_only": sorted(set(accepted) - set(k3_accepted)),
        "keras3_only": sorted(set(k3_accepted) - set(accepted)),
    }
    write_json(os.path.join(out_dir, "activations.json"), doc)
    save_safetensors(tensors, os.path.join(out_dir, "activations.safetensors"),
                     metadata={"generator": GENERATOR})
    return {"activations": len(entries), "activation_tensors": len(tensors)}


# ----------------------------------------------------------------------------
# shared recording for regularizers / constraints / initializers
# ----------------------------------------------------------------------------
def _libs():
    """``(library module, JSON key)`` pairs: tf_keras first, then Keras 3."""
    _, tf_keras, keras = imports()
    return ((tf_keras, "tf_keras"), (keras, "keras3"))


@contextlib.contextmanager
def _captured_warnings(enabled=True):
    """Record every warning raised in the block (list of WarningMessage).

    With ``enabled=False`` nothing is captured (warnings behave as outside)
    and the yielded list stays empty.
    """
    if not enabled:
        yield []
        return
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        yield w


def _per_input(inputs, fn):
    """``{tag: fn(tag, arr)}`` over ``inputs``; a failure gives ``{"error": ...}``."""
    out = {}
    for tag, arr in inputs.items():
        try:
            out[tag] = fn(tag, arr)
        except Exception as e:
            out[tag] = {"error": error_text(e)}
    return out


def _make_component(api, kind, ident):
    """Object for a ``(kind, ident)`` of REG_/CON_IDENTIFIERS from ``api``
    (``lib.regularizers`` / ``lib.constraints``): "obj" evaluates the
    constructor text in the module's namespace, "str"/"dict" go through
    ``api.get`` (dicts as a fresh JSON copy)."""
    if kind == "obj":
        return eval(ident, dict(vars(api)))  # noqa: S307
    return api.get(
        json.loads(json.dumps(ident)) if isinstance(ident, dict) else ident
    )


def _identifier_entry(eid, kind, ident, api_name, options):
    """One entry of regularizers.json / constraints.json: the identifier and,
    per library, ``_record_component`` of the object it resolves to in
    ``lib.<api_name>``; ``options(lib)`` gives the extra keyword arguments."""
    ent = {"id": eid, "kind": kind}
    ent["identifier"] = {"constructor": ident} if kind == "obj" else ident
    for lib, key in _libs():
        api = getattr(lib, api_name)
        ent[key] = _record_component(
            lib, api, lambda: _make_component(api, kind, ident), **options(lib))
    if kind == "obj" and "serialized" in ent["tf_keras"]:
        ent["identifier"]["serialized"] = ent["tf_keras"]["serialized"]
    return ent


def _record_component(lib, api, make, warn_make=False, warn_serialize=False,
                      field=None, inputs=None, per_input=None):
    """What one library does with one regularizer / constraint / initializer.

    ``make()`` builds the object; ``api`` is the library's component module
    (``lib.regularizers`` ...). Records, in this order: ``class`` (+
    ``warnings`` of ``make()`` if ``warn_make``), ``serialized``,
    ``serialized_legacy`` (tf_keras only), ``serialize_warnings`` (if
    ``warn_serialize``), ``config``, each as ``<step>_error`` when it fails;
    then, if ``field`` is given, ``field: {tag: per_input(obj, tag, arr)}``
    over ``inputs``. Anything else failing (``make()`` itself, usually)
    adds ``error``.
    """
    rec = {}
    try:
        with _captured_warnings(warn_make) as w:
            obj = make()
        rec["class"] = type(obj).__name__
        if w:
            rec["warnings"] = [clean_message(x.message) for x in w]
        with _captured_warnings(warn_serialize) as w:
            try:
                rec["serialized"] = api.serialize(obj)
            except Exception as e:
                rec["serialize_error"] = error_text(e)
            if lib.__name__ == "tf_keras":
                try:
                    rec["serialized_legacy"] = api.serialize(
                        obj, use_legacy_format=True)
                except Exception as e:
                    rec["serialize_legacy_error"] = error_text(e)
        if w:
            rec["serialize_warnings"] = sorted({clean_message(x.message) for x in w})
        try:
            rec["config"] = obj.get_config()
        except Exception as e:
            rec["config_error"] = error_text(e)
        if field is not None:
            rec[field] = _per_input(
                inputs, lambda tag, arr: per_input(obj, tag, arr))
    except Exception as e:
        rec["error"] = error_text(e)
    return rec


# ----------------------------------------------------------------------------
# 2. regularizers
# ----------------------------------------------------------------------------
REG_SHAPES = [(3, 3, 2, 4), (4,), (6, 5), (4, 6)]


def _reg_inputs():
    rng = np.random.default_rng(777)
    out = {}
    for s in REG_SHAPES:
        out[shape_tag(s)] = rng.normal(scale=0.8, size=s).astype(F32)
    return out


REG_IDENTIFIERS = [
    # (id, kind, identifier or constructor)
    ("l1", "str", "l1"),
    ("l2", "str", "l2"),
    ("l1_l2", "str", "l1_l2"),
    ("L1", "str", "L1"),
    ("L2", "str", "L2"),
    ("L1L2", "str", "L1L2"),
    ("l1l2", "str", "l1l2"),
    ("orthogonal_regularizer", "str", "orthogonal_regularizer"),
    ("OrthogonalRegularizer", "str", "OrthogonalRegularizer"),
    ("obj_L1_0.3", "obj", "L1(0.3)"),
    ("obj_L2_0.05", "obj", "L2(0.05)"),
    ("obj_L1L2_0.1_0.2", "obj", "L1L2(l1=0.1, l2=0.2)"),
    ("obj_L1L2_default", "obj", "L1L2()"),
    ("obj_l1_l2_fn_default", "obj", "l1_l2()"),
    ("obj_Orth_0.02_rows", "obj", "OrthogonalRegularizer(factor=0.02, mode='rows')"),
    ("obj_Orth_columns", "obj", "OrthogonalRegularizer(mode='columns')"),
    ("dict_legacy_L2_0.5", "dict", {"class_name": "L2", "config": {"l2": 0.5}}),
    ("dict_new_L1_0.2", "dict", {"module": "keras.regularizers", "class_name": "L1",
                                 "config": {"l1": 0.2}, "registered_name": None}),
    ("dict_legacy_L1L2_empty", "dict", {"class_name": "L1L2", "config": {}}),
]


def gen_regularizers(out_dir, comp_tensors):
    tf, tf_keras, keras = imports()
    inputs = _reg_inputs()
    for tag, arr in inputs.items():
        comp_tensors["reg_in." + tag] = arr

    def penalty(with_dtype):
        def apply(reg, tag, arr):
            v = reg(tf.constant(arr))
            rec = {"value": float(to_numpy(v))}
            if with_dtype:
                rec["dtype"] = str(getattr(v, "dtype", type(v).__name__))
            return rec
        return apply

    def options(lib):  # Keras 3: no warnings and no dtype recorded
        is_tk = lib is tf_keras
        return dict(warn_make=is_tk, warn_serialize=is_tk, field="values",
                    inputs=inputs, per_input=penalty(with_dtype=is_tk))

    entries = [_identifier_entry(rid, kind, ident, "regularizers", options)
               for rid, kind, ident in REG_IDENTIFIERS]

    doc = {
        "description": (
            "Regularizer identifiers resolved by tf_keras.regularizers.get "
            "(objects constructed directly), their serialize()/get_config() "
            "and penalty value on float32 inputs stored in "
            "components.safetensors as 'reg_in.<shape-tag>'. Same for Keras 3 "
            "under 'keras3'."
        ),
        "input_keys": {tag: "reg_in." + tag for tag in inputs},
        "entries": entries,
    }
    write_json(os.path.join(out_dir, "regularizers.json"), doc)
    return {"regularizer_entries": len(entries)}


# ----------------------------------------------------------------------------
# 3. constraints
# ----------------------------------------------------------------------------
CON_SHAPES = [(3, 3, 2, 4), (4,), (5, 5, 2, 3), (4, 4, 1, 2)]

CON_IDENTIFIERS = [
    ("max_norm", "str", "max_norm"),
    ("min_max_norm", "str", "min_max_norm"),
    ("unit_norm", "str", "unit_norm"),
    ("non_neg", "str", "non_neg"),
    ("MaxNorm", "str", "MaxNorm"),
    ("MinMaxNorm", "str", "MinMaxNorm"),
    ("UnitNorm", "str", "UnitNorm"),
    ("NonNeg", "str", "NonNeg"),
    ("maxnorm", "str", "maxnorm"),
    ("nonneg", "str", "nonneg"),
    ("unitnorm", "str", "unitnorm"),
    ("radial_constraint", "str", "radial_constraint"),
    ("RadialConstraint", "str", "RadialConstraint"),
    ("Constraint", "str", "Constraint"),
    ("obj_MaxNorm_1.5_axis012", "obj", "MaxNorm(1.5, axis=[0, 1, 2])"),
    ("obj_MaxNorm_0.5_axis3", "obj", "MaxNorm(0.5, axis=3)"),
    ("obj_MinMaxNorm_0.5_1.5_r0.7_axis012", "obj",
     "MinMaxNorm(0.5, 1.5, rate=0.7, axis=[0, 1, 2])"),
    ("obj_UnitNorm_axis012", "obj", "UnitNorm(axis=[0, 1, 2])"),
    ("obj_NonNeg", "obj", "NonNeg()"),
    ("obj_RadialConstraint", "obj", "RadialConstraint()"),
    ("dict_legacy_MaxNorm_3_axis012", "dict",
     {"class_name": "MaxNorm", "config": {"max_value": 3, "axis": [0, 1, 2]}}),
    ("dict_new_UnitNorm_axis012", "dict",
     {"module": "keras.constraints", "class_name": "UnitNorm",
      "config": {"axis": [0, 1, 2]}, "registered_name": None}),
    ("dict_legacy_MinMaxNorm_0.2_0.9", "dict",
     {"class_name": "MinMaxNorm", "config": {"min_value": 0.2, "max_value": 0.9}}),
]


def _con_inputs():
    rng = np.random.default_rng(4242)
    out = {}
    for s in CON_SHAPES:
        a = rng.normal(scale=0.9, size=s).astype(F32)
        out[shape_tag(s)] = a
    # make sure a few exact zeros / tiny values are present
    out[shape_tag((4,))][1] = 0.0
    out[shape_tag((3, 3, 2, 4))][1, 2, 1, 2] = 0.0
    return out


def gen_constraints(out_dir, comp_tensors):
    tf, tf_keras, keras = imports()
    inputs = _con_inputs()
    for tag, arr in inputs.items():
        comp_tensors["con_in." + tag] = arr

    entries = []
    for cid, kind, ident in CON_IDENTIFIERS:
        tk_out = {}  # tf_keras outputs by tag, compared against by Keras 3

        def tk_output(con, tag, arr):
            y = to_numpy(con(tf.constant(arr))).astype(F32)
            key = "con.%s.%s" % (cid, tag)
            comp_tensors[key] = y
            tk_out[tag] = y
            return {"key": key, "shape": list(y.shape)}

        def k3_output(con, tag, arr):
            # stored only where tf_keras failed or differs by > 1e-6
            y = to_numpy(con(tf.constant(arr))).astype(F32)
            o = {"shape": list(y.shape)}
            if tag in tk_out:
                d = float(np.max(np.abs(y.astype(np.float64)
                                        - tk_out[tag].astype(np.float64))))
                o["max_abs_diff_vs_tf_keras"] = d
            if tag not in tk_out or d > 1e-6:
                key = "con_k3.%s.%s" % (cid, tag)
                comp_tensors[key] = y
                o["key"] = key
            return o

        entries.append(_identifier_entry(
            cid, kind, ident, "constraints",
            lambda lib: dict(field="outputs", inputs=inputs,
                             per_input=tk_output if lib is tf_keras else k3_output)))

    doc = {
        "description": (
            "Constraint identifiers resolved by tf_keras.constraints.get "
            "(objects constructed directly). Outputs of applying them to "
            "float32 inputs 'con_in.<shape-tag>' are stored in "
            "components.safetensors as 'con.<id>.<shape-tag>'. Keras 3 "
            "outputs are only stored ('con_k3.<id>.<tag>') when they differ "
            "from tf_keras by > 1e-6 or tf_keras failed."
        ),
        "input_keys": {tag: "con_in." + tag for tag in inputs},
        "entries": entries,
    }
    write_json(os.path.join(out_dir, "constraints.json"), doc)
    return {"constraint_entries": len(entries)}


# ----------------------------------------------------------------------------
# 4. initializers
# ----------------------------------------------------------------------------
INIT_SHAPES = [(3, 3, 16, 32), (5, 4), (64, 128), (1, 1, 8, 8), (7,)]
ORTHO_SHAPES = [(64, 128), (128, 64), (3, 3, 16, 32)]
STAT_SEED = 11

# (id, constructor template, deterministic?)
# "{seed}" is substituted with STAT_SEED for the statistics run.
INIT_STAT_SPECS = [
    ("zeros", "Zeros()", True),
    ("ones", "Ones()", True),
    ("constant", "Constant()", True),
    ("random_normal", "RandomNormal(seed={seed})", False),
    ("random_uniform", "RandomUniform(seed={seed})", False),
    ("truncated_normal", "TruncatedNormal(seed={seed})", False),
    ("variance_scaling", "VarianceScaling(seed={seed})", False),
    ("orthogonal", "Orthogonal(seed={seed})", False),
    ("identity", "Identity()", True),
    ("glorot_normal", "GlorotNormal(seed={seed})", False),
    ("glorot_uniform", "GlorotUniform(seed={seed})", False),
    ("he_normal", "HeNormal(seed={seed})", False),
    ("he_uniform", "HeUniform(seed={seed})", False),
    ("lecun_normal", "LecunNormal(seed={seed})", False),
    ("lecun_uniform", "LecunUniform(seed={seed})", False),
    ("VS_2.0_fan_out_uniform",
     "VarianceScaling(scale=2.0, mode='fan_out', distribution='uniform', seed={seed})",
     False),
    ("VS_fan_avg_untruncated_normal",
     "VarianceScaling(mode='fan_avg', distribution='untruncated_normal', seed={seed})",
     False),
    ("RandomNormal_0.5_2.0", "RandomNormal(0.5, 2.0, seed={seed})", False),
    ("RandomUniform_-2_3", "RandomUniform(-2, 3, seed={seed})", False),
    ("TruncatedNormal_1.0_0.3", "TruncatedNormal(1.0, 0.3, seed={seed})", False),
    ("Constant_0.3", "Constant(0.3)", True),
    ("Orthogonal_gain2", "Orthogonal(gain=2.0, seed={seed})", False),
    ("Identity_gain0.5", "Identity(gain=0.5)", True),
    # its own seed (3) is part of the requested object
    ("GlorotUniform_seed3", "GlorotUniform(seed=3)", False),
]

INIT_OBJECTS = [
    ("VS_2.0_fan_out_uniform",
     "VarianceScaling(scale=2.0, mode='fan_out', distribution='uniform')"),
    ("VS_fan_avg_untruncated_normal",
     "VarianceScaling(mode='fan_avg', distribution='untruncated_normal')"),
    ("VS_distribution_normal_alias", "VarianceScaling(distribution='normal')"),
    ("RandomNormal_0.5_2.0", "RandomNormal(0.5, 2.0)"),
    ("RandomUniform_-2_3", "RandomUniform(-2, 3)"),
    ("TruncatedNormal_1.0_0.3", "TruncatedNormal(1.0, 0.3)"),
    ("Constant_0.3", "Constant(0.3)"),
    ("Orthogonal_gain2", "Orthogonal(gain=2.0)"),
    ("Identity_gain0.5", "Identity(gain=0.5)"),
    ("GlorotUniform_seed3", "GlorotUniform(seed=3)"),
]


def _init_ns(lib):
    return dict(vars(lib.initializers))


def _call_init(obj, shape, dtype="float32"):
    with _captured_warnings() as w:
        v = to_numpy(obj(shape, dtype=dtype))
    return v, [clean_message(x.message) for x in w]


def _vs_theory(cfg, shape):
    """Expected parameters for VarianceScaling-family initializers (tf_keras)."""
    from tf_keras.src.initializers.initializers import _compute_fans

    fan_in, fan_out = _compute_fans(shape)
    scale = float(cfg["scale"])
    if cfg["mode"] == "fan_in":
        n = max(1.0, fan_in)
    elif cfg["mode"] == "fan_out":
        n = max(1.0, fan_out)
    else:
        n = max(1.0, (fan_in + fan_out) / 2.0)
    s = scale / n
    d = cfg["distribution"]
    if d == "truncated_normal":
        return {"n": n, "truncated_normal_stddev_arg": float(np.sqrt(s) / 0.8796256610342398),
                "target_std": float(np.sqrt(s)), "truncation": "2 * stddev_arg"}
    if d == "untruncated_normal":
        return {"n": n, "normal_stddev": float(np.sqrt(s))}
    return {"n": n, "uniform_limit": float(np.sqrt(3.0 * s))}


def gen_initializers(out_dir, comp_tensors):
    tf, tf_keras, keras = imports()
    from tf_keras.src import initializers as TKI
    from tf_keras.src.initializers.initializers import _compute_fans

    TKI.populate_deserializable_objects()
    tk_names = sorted(TKI.LOCAL.ALL_OBJECTS.keys())
    k3_names = sorted(keras.src.initializers.ALL_OBJECTS_DICT.keys())

    def record(lib, make):
        return _record_component(lib, lib.initializers, make, warn_serialize=True)

    # ---- by-name ---------------------------------------------------------
    by_name = {}
    for name in sorted(set(tk_names) | set(k3_names) | {"bogus", "Zero", "One"}):
        by_name[name] = {key: record(lib, lambda: lib.initializers.get(name))
                         for lib, key in _libs()}

    # ---- objects with non-default args -----------------------------------
    objects = {}
    for oid, ctor in INIT_OBJECTS:
        ent = {"constructor": ctor}
        for lib, key in _libs():
            ent[key] = record(lib, lambda: eval(ctor, _init_ns(lib)))  # noqa: S307
        objects[oid] = ent

    # ---- statistics (tf_keras only) -------------------------------------
    stats = {}
    ns = _init_ns(tf_keras)
    for sid, tmpl, deterministic in INIT_STAT_SPECS:
        ctor = tmpl.format(seed=STAT_SEED)
        obj_cfg = eval(ctor, ns).get_config()  # noqa: S307
        ent = {"constructor": ctor, "deterministic": deterministic,
               "config": obj_cfg, "shapes": {}}
        for shape in INIT_SHAPES:
            tag = shape_tag(shape)
            obj = eval(ctor, ns)  # fresh object per shape  # noqa: S307
            fi, fo = _compute_fans(shape)
            rec = {"fan_in": fi, "fan_out": fo}
            try:
                v, w = _call_init(obj, shape)
                v64 = v.astype(np.float64)
                rec.update({
                    "shape": list(v.shape),
                    "dtype": str(v.dtype),
                    "mean": float(v64.mean()),
                    "std": float(v64.std()),
                    "min": float(v64.min()),
                    "max": float(v64.max()),
                })
                if w:
                    rec["warnings"] = w
                if not deterministic:
                    rec["first8"] = [float(a) for a in v.reshape(-1)[:8]]
                if deterministic and len(shape) == 2:
                    if v.size <= 64:
                        rec["values"] = v.tolist()
                    else:
                        key = "init.%s.%s" % (sid, tag)
                        comp_tensors[key] = v.astype(F32)
                        rec["values_key"] = key
                if "distribution" in obj_cfg or isinstance(
                        obj, TKI.initializers.VarianceScaling):
                    full = {"scale": obj.scale, "mode": obj.mode,
                            "distribution": obj.distribution}
                    rec["theory"] = _vs_theory(full, shape)
            except Exception as e:
                rec["error"] = error_text(e)
            ent["shapes"][tag] = rec
        stats[sid] = ent

    # ---- orthogonality ----------------------------------------------------
    ortho = {}
    for oid, ctor in (("orthogonal", "Orthogonal(seed=%d)" % STAT_SEED),
                      ("Orthogonal_gain2", "Orthogonal(gain=2.0, seed=%d)" % STAT_SEED)):
        ent = {"constructor": ctor, "shapes": {}}
        for shape in ORTHO_SHAPES:
            obj = eval(ctor, ns)  # noqa: S307
            gain = float(obj.gain)
            v, _ = _call_init(obj, shape)
            wflat = v.astype(np.float64).reshape(-1, shape[-1])
            r, c = wflat.shape
            if r >= c:
                gram = wflat.T @ wflat
                side = "W^T W (cols orthogonal)"
            else:
                gram = wflat @ wflat.T
                side = "W W^T (rows orthogonal)"
            dev = float(np.max(np.abs(gram - gain ** 2 * np.eye(min(r, c)))))
            ent["shapes"][shape_tag(shape)] = {
                "flat_shape": [r, c], "gram": side,
                "max_abs_dev_from_gain2_I": dev,
                "gain": gain,
            }
        ortho[oid] = ent

    # ---- repeat / seed semantics -----------------------------------------
    sem = {}
    shape = (5, 4)
    for cls in ("RandomNormal", "RandomUniform", "TruncatedNormal",
                "VarianceScaling", "GlorotUniform", "GlorotNormal",
                "HeNormal", "HeUniform", "LecunNormal", "LecunUniform",
                "Orthogonal"):
        rec = {}
        for lib, key in ((tf_keras, "tf_keras"), (keras, "keras3")):
            libns = _init_ns(lib)
            r = {}
            a = libns[cls](seed=STAT_SEED)
            v1, w1 = _call_init(a, shape)
            v2, w2 = _call_init(a, shape)
            b = libns[cls](seed=STAT_SEED)
            v3, _ = _call_init(b, shape)
            r["seeded_same_object_twice_equal"] = bool(np.array_equal(v1, v2))
            r["seeded_two_objects_same_seed_equal"] = bool(np.array_equal(v1, v3))
            c = libns[cls](seed=STAT_SEED + 1)
            v4, _ = _call_init(c, shape)
            r["different_seed_equal"] = bool(np.array_equal(v1, v4))
            # shape dependence: first values of a bigger draw vs smaller
            r["seeded_warnings"] = sorted(set(w1 + w2))
            u = libns[cls]()
            u1, uw1 = _call_init(u, shape)
            u2, uw2 = _call_init(u, shape)
            u_other = libns[cls]()
            u3, _ = _call_init(u_other, shape)
            r["unseeded_same_object_twice_equal"] = bool(np.array_equal(u1, u2))
            r["unseeded_two_objects_equal"] = bool(np.array_equal(u1, u3))
            r["unseeded_first_call_warnings"] = uw1
            r["unseeded_second_call_warnings"] = uw2
            rec[key] = r
        sem[cls] = rec
    # GlorotUniform(seed=s) vs VarianceScaling(1.0,'fan_avg','uniform',seed=s)
    g = tf_keras.initializers.GlorotUniform(seed=3)((6, 7))
    vs = tf_keras.initializers.VarianceScaling(
        1.0, "fan_avg", "uniform", seed=3)((6, 7))
    ru = tf_keras.initializers.RandomUniform(seed=3)((6, 7))
    lim = np.sqrt(3.0 / 6.5)
    extra = {
        "GlorotUniform_seed3_equals_VarianceScaling_fan_avg_uniform_seed3":
            bool(np.array_equal(to_numpy(g), to_numpy(vs))),
        "GlorotUniform_seed3_equals_RandomUniform(-lim,lim,seed3)_rescaled":
            bool(np.allclose(to_numpy(g), to_numpy(ru) / 0.05 * lim, rtol=0, atol=1e-6)),
    }
    # dtype float64 vs float32 with same seed
    a32 = to_numpy(tf_keras.initializers.RandomNormal(seed=STAT_SEED)((5, 4), dtype="float32"))
    a64 = to_numpy(tf_keras.initializers.RandomNormal(seed=STAT_SEED)((5, 4), dtype="float64"))
    extra["RandomNormal_seed11_float64_close_to_float32"] = bool(
        np.allclose(a32.astype(np.float64), a64, atol=1e-6))
    # prefix property: does a (5,4) draw equal the first 20 of a (20,) draw?
    p1 = to_numpy(tf_keras.initializers.RandomNormal(seed=STAT_SEED)((5, 4)))
    p2 = to_numpy(tf_keras.initializers.RandomNormal(seed=STAT_SEED)((20,)))
    extra["RandomNormal_seed11_shape5x4_equals_shape20_reshaped"] = bool(
        np.array_equal(p1.reshape(-1), p2))
    p3 = to_numpy(tf_keras.initializers.RandomNormal(seed=STAT_SEED)((7,)))
    extra["RandomNormal_seed11_shape7_equals_first7_of_shape5x4"] = bool(
        np.array_equal(p1.reshape(-1)[:7], p3))
    p4 = to_numpy(tf_keras.initializers.RandomUniform(seed=STAT_SEED)((7,)))
    p5 = to_numpy(tf_keras.initializers.RandomUniform(seed=STAT_SEED)((5, 4)))
    extra["RandomUniform_seed11_shape7_equals_first7_of_shape5x4"] = bool(
        np.array_equal(p5.reshape(-1)[:7], p4))
    try:
        rg = TKI.initializers.RandomNormal(seed=STAT_SEED)._random_generator
        rg._maybe_init()
        extra["tf_keras_rng_type"] = rg._rng_type
        extra["tf_keras_stateless_seed_pair"] = list(rg.make_seed_for_stateless_op())
    except Exception as e:  # pragma: no cover
        extra["rng_introspection_error"] = error_text(e)

    doc = {
        "description": (
            "tf_keras initializers: by-name resolution (every key of "
            "tf_keras initializers' ALL_OBJECTS plus Keras 3 names), configs "
            "of non-default objects, statistics of generated values "
            "(float32 generation, stats in float64, population std), "
            "orthogonality and seed/repeat semantics."
        ),
        "stat_seed": STAT_SEED,
        "std_ddof": 0,
        "tf_keras_names": tk_names,
        "keras3_names": k3_names,
        "tf_keras_only": sorted(set(tk_names) - set(k3_names)),
        "keras3_only": sorted(set(k3_names) - set(tk_names)),
        "by_name": by_name,
        "objects": objects,
        "stats": stats,
        "orthogonality": ortho,
        "repeat_semantics": sem,
        "repeat_semantics_extra": extra,
    }
    write_json(os.path.join(out_dir, "initializers.json"), doc)
    return {"initializer_names": len(by_name), "initializer_stat_specs": len(stats)}


# ----------------------------------------------------------------------------
# 5. Conv2D configs (Keras 3 vs tf_keras vs legacy)
# ----------------------------------------------------------------------------
# Each args string is evaluated with I/R/C bound to the initializers /
# regularizers / constraints module of the library being tested.
CONV_SPECS = [
    ("default", "filters=4, kernel_size=3", (None, 8, 8, 3)),
    ("strings_float64",
     "filters=8, kernel_size=(3, 5), strides=2, padding='same', activation='relu', "
     "kernel_initializer='he_normal', bias_initializer='zeros', "
     "kernel_regularizer='l2', dtype='float64'",
     (None, 9, 9, 2)),
    ("mixed_float16",
     "filters=6, kernel_size=3, activation='gelu', dtype='mixed_float16', "
     "kernel_initializer=I.GlorotNormal(seed=1), bias_initializer=I.Ones()",
     (None, 7, 7, 3)),
    ("l1_l2_objs_maxnorm_nonneg",
     "filters=4, kernel_size=3, kernel_regularizer=R.L1(0.3), "
     "bias_regularizer=R.L2(0.05), activity_regularizer=R.L1L2(l1=0.1, l2=0.2), "
     "kernel_constraint=C.MaxNorm(1.5, axis=[0, 1, 2]), bias_constraint=C.NonNeg(), "
     "kernel_initializer=I.RandomNormal(0.5, 2.0, seed=5), "
     "bias_initializer=I.Constant(0.3)",
     (None, 6, 6, 2)),
    ("orth_reg_minmax_unitnorm",
     "filters=5, kernel_size=(2, 2), padding='same', "
     "kernel_regularizer=R.OrthogonalRegularizer(factor=0.02, mode='rows'), "
     "bias_regularizer=R.OrthogonalRegularizer(mode='columns'), "
     "kernel_constraint=C.MinMaxNorm(0.5, 1.5, rate=0.7, axis=[0, 1, 2]), "
     "bias_constraint=C.UnitNorm(axis=0), "
     "kernel_initializer=I.Orthogonal(gain=2.0, seed=2), "
     "bias_initializer=I.RandomUniform(-2, 3, seed=1)",
     (None, 5, 5, 3)),
    ("radial_truncnormal_vs",
     "filters=3, kernel_size=5, activation='tanh', "
     "kernel_constraint=C.RadialConstraint(), "
     "kernel_initializer=I.VarianceScaling(scale=2.0, mode='fan_out', distribution='uniform'), "
     "bias_initializer=I.TruncatedNormal(1.0, 0.3)",
     (None, 9, 9, 2)),
    ("identity_kernel_lecun_bias",
     "filters=4, kernel_size=1, kernel_initializer=I.Identity(gain=0.5), "
     "bias_initializer=I.LecunUniform(seed=4), activation='softmax'",
     (None, 4, 4, 4)),
    ("dilated_grouped_channels_first",
     "filters=4, kernel_size=3, dilation_rate=2, groups=2, "
     "data_format='channels_first', use_bias=False, "
     "kernel_initializer='he_uniform', activation='swish'",
     (None, 4, 10, 10)),
    ("silu_lecun_normal_l1_l2_string",
     "filters=2, kernel_size=3, activation='silu', "
     "kernel_initializer='lecun_normal', kernel_regularizer='l1_l2'",
     (None, 6, 6, 1)),
    ("hard_sigmoid_glorot_normal_nonneg_l1",
     "filters=3, kernel_size=(3, 1), strides=(2, 1), activation='hard_sigmoid', "
     "kernel_initializer='glorot_normal', bias_initializer='ones', "
     "kernel_constraint='non_neg', bias_regularizer='l1'",
     (None, 8, 5, 2)),
    ("leaky_relu_zeros_unitnorm_orthreg",
     "filters=3, kernel_size=2, strides=(1, 2), activation='leaky_relu', "
     "kernel_initializer='zeros', kernel_constraint='unit_norm', "
     "kernel_regularizer='orthogonal_regularizer'",
     (None, 6, 6, 2)),
    ("LeakyReLU_layer_string_activation",
     "filters=2, kernel_size=3, activation='LeakyReLU'",
     (None, 5, 5, 1)),
    ("variance_scaling_orthogonal_strings_maxnorm_minmax",
     "filters=4, kernel_size=3, padding='same', "
     "kernel_initializer='variance_scaling', bias_initializer='random_normal', "
     "kernel_constraint='max_norm', bias_constraint='min_max_norm', "
     "activation='elu', use_bias=True",
     (None, 6, 6, 3)),
    ("orthogonal_string_trainable_false",
     "filters=4, kernel_size=3, kernel_initializer='orthogonal', "
     "bias_initializer='random_uniform', activation=None, trainable=False",
     (None, 6, 6, 2)),
    ("truncated_normal_glorot_uniform_he_normal",
     "filters=2, kernel_size=(1, 3), kernel_initializer='truncated_normal', "
     "bias_initializer=I.HeNormal(seed=9), activation='selu', padding='same'",
     (None, 4, 6, 2)),
    ("glorot_uniform_seed_lecun_normal_obj_softplus",
     "filters=2, kernel_size=2, kernel_initializer=I.GlorotUniform(seed=3), "
     "bias_initializer=I.LecunNormal(seed=1), activation='softplus', "
     "bias_constraint=C.MaxNorm(0.5, axis=0)",
     (None, 4, 4, 3)),
    ("he_uniform_obj_relu6_constant_int",
     "filters=2, kernel_size=3, kernel_initializer=I.HeUniform(seed=7), "
     "bias_initializer=I.Constant(2), activation='relu6', "
     "kernel_regularizer=R.L2(), bias_regularizer=R.L1()",
     (None, 5, 5, 2)),
]


def _lib_ns(lib):
    return {"I": lib.initializers, "R": lib.regularizers, "C": lib.constraints}


def _build_layer(lib, args, input_shape, name):
    layer = eval("lib.layers.Conv2D(%s, name=%r)" % (args, name),  # noqa: S307
                 dict(_lib_ns(lib), lib=lib))
    rec = {}
    try:
        layer.build(input_shape)
        rec["built"] = True
        rec["weight_shapes"] = {w.name.split("/")[-1].split(":")[0]: list(w.shape)
                                for w in layer.weights}
        rec["weight_dtypes"] = sorted({str(w.dtype.name if hasattr(w.dtype, "name")
                                           else w.dtype) for w in layer.weights})
    except Exception as e:
        rec["built"] = False
        rec["build_error"] = error_text(e)
    return layer, rec


def _h5_layer_config(tf_keras, layer, in_shape):
    """Layer entry of model_config as written by tf_keras' legacy H5 save."""
    import tempfile

    import h5py

    model = tf_keras.Sequential([tf_keras.Input(tuple(in_shape[1:])), layer])
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.h5")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.save(path, save_format="h5")
        with h5py.File(path, "r") as f:
            cfg = json.loads(f.attrs["model_config"])
    for lc in cfg["config"]["layers"]:
        if lc["class_name"] == "Conv2D":
            return lc
    raise RuntimeError("Conv2D not found in H5 model_config")


def gen_conv_configs(out_dir):
    tf, tf_keras, keras = imports()
    from tf_keras.src.saving.legacy import serialization as legacy_ser
    from tf_keras.src.saving.legacy.saved_model import utils as smu

    fresh_session(tf_keras, keras)

    out = []
    for cid, args, in_shape in CONV_SPECS:
        name = "conv_" + cid
        ent = {"id": cid, "args_desc": "Conv2D(%s)" % args,
               "input_shape": list(in_shape)}
        # keras 3
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                layer, rec = _build_layer(keras, args, in_shape, name)
            ent["keras3_config"] = layer.get_config()
            ent["keras3_build"] = rec
            try:
                ent["keras3_serialized"] = keras.saving.serialize_keras_object(layer)
            except Exception as e:
                ent["keras3_serialized"] = None
                ent["keras3_serialize_error"] = error_text(e)
        except Exception as e:
            ent["keras3_config"] = None
            ent["keras3_error"] = error_text(e)
        # tf_keras
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                layer, rec = _build_layer(tf_keras, args, in_shape, name)
            ent["tf_keras_config"] = layer.get_config()
            ent["tf_keras_build"] = rec
            try:
                ent["legacy_config"] = legacy_ser.serialize_keras_object(layer)
            except Exception as e:
                ent["legacy_config"] = None
                ent["legacy_error"] = error_text(e)
            try:
                with smu.keras_option_scope(save_traces=False,
                                            in_tf_saved_model_scope=True):
                    ent["legacy_config_fully_legacy"] = (
                        legacy_ser.serialize_keras_object(layer))
            except Exception as e:
                ent["legacy_config_fully_legacy"] = None
                ent["legacy_fully_legacy_error"] = error_text(e)
            if rec.get("built") and ent.get("legacy_config") is not None:
                try:
                    h5cfg = _h5_layer_config(tf_keras, layer, in_shape)
                    ent["h5_layer_config_equals_legacy_config"] = (
                        jsonable(h5cfg) == jsonable(ent["legacy_config"]))
                    if not ent["h5_layer_config_equals_legacy_config"]:
                        ent["h5_layer_config"] = h5cfg
                except Exception as e:
                    ent["h5_error"] = error_text(e)
            try:
                ent["tf_keras_serialized"] = tf_keras.layers.serialize(layer)
            except Exception as e:
                ent["tf_keras_serialized"] = None
                ent["tf_keras_serialize_error"] = error_text(e)
        except Exception as e:
            ent["tf_keras_config"] = None
            ent["legacy_config"] = None
            ent["tf_keras_error"] = error_text(e)
        out.append(ent)

    doc = {
        "description": (
            "Conv2D configurations. 'keras3_config' = keras.layers.Conv2D(...)"
            ".get_config() after build(input_shape) (Keras 3); "
            "'tf_keras_config' = tf_keras.layers.Conv2D(...).get_config() "
            "after build; 'legacy_config' = tf_keras.src.saving.legacy."
            "serialization.serialize_keras_object(layer) (the legacy "
            "{'class_name','config'} form, same as "
            "tf_keras.layers.serialize(layer, use_legacy_format=True)); "
            "'tf_keras_serialized' = tf_keras.layers.serialize(layer) "
            "(new format); 'legacy_config_fully_legacy' = same as "
            "legacy_config but computed inside tf_keras' SavedModel "
            "keras_option_scope(in_tf_saved_model_scope=True), where nested "
            "initializers/regularizers/constraints also use the legacy "
            "{'class_name','config'} form (as in old tf.keras<=2.12 files); "
            "'h5_layer_config_equals_legacy_config' tells whether the Conv2D "
            "entry of model_config written by tf_keras model.save(h5) equals "
            "legacy_config (if not, 'h5_layer_config' holds it); "
            "'keras3_serialized' = "
            "keras.saving.serialize_keras_object(layer). In args_desc, I/R/C "
            "are the initializers/regularizers/constraints module of each "
            "library. Build failures are recorded in *_build.build_error "
            "(config then describes the unbuilt layer)."
        ),
        "entries": out,
    }
    write_json(os.path.join(out_dir, "keras3_configs.json"), doc)
    return {"conv_config_entries": len(out)}


# ----------------------------------------------------------------------------
# 6. versions
# ----------------------------------------------------------------------------
def gen_versions(out_dir):
    _, tf_keras, keras = imports()
    doc = versions("tensorflow", "tf_keras", "keras", "numpy", "python", "keras_backend")
    doc.update({
        "tf_keras_floatx": tf_keras.backend.floatx(),
        "tf_keras_epsilon": tf_keras.backend.epsilon(),
        "keras3_epsilon": keras.backend.epsilon(),
    })
    doc.update(versions("safetensors"))
    write_json(os.path.join(out_dir, "versions.json"), doc)
    return doc


# ----------------------------------------------------------------------------
# Keras 3 activation names kerastorch maps onto its own ``keras3>NAME`` functions (kerastorch/activations.py),
# with Keras 3's formulas (``hard_sigmoid`` differs from tf.keras's; the others tf.keras lacks).
KERAS3_ACTIVATIONS = ("hard_sigmoid", "hard_silu", "hard_swish", "celu", "glu", "hard_tanh", "hard_shrink",
                      "soft_shrink", "tanh_shrink", "sparse_plus", "sparse_sigmoid", "squareplus", "log_sigmoid")


def gen_keras3_activations(out_dir):
    """``keras3_activations.json`` + ``.safetensors``: Keras 3 ``keras.activations.get(name)`` on ``input``
    (float32 [2,3,4,6]: last axis even for glu; it holds the kink points -3, -1, -0.5, 0, 0.5, 1, 3),
    ``<name>.output`` and ``<name>.grad`` (d/d input of sum(output * upstream), tf.GradientTape), and
    ``keras.activations.serialize`` of the function."""
    tf, _, keras = imports()
    rng = np.random.default_rng(3)
    x = rng.uniform(-4.0, 4.0, size=(2, 3, 4, 6)).astype(F32)
    flat = x.reshape(-1)
    flat[:9] = [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, -4.0, 4.0]
    u = rng.uniform(0.5, 1.5, size=x.shape).astype(F32)
    tensors = {"input": x, "upstream": u}
    entries = {}
    for name in KERAS3_ACTIVATIONS:
        fn = keras.activations.get(name)
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = fn(xt)
            loss = tf.reduce_sum(y * tf.constant(u if y.shape == x.shape else u[..., : y.shape[-1]]))
        tensors[name + ".output"] = y.numpy()
        tensors[name + ".grad"] = tape.gradient(loss, xt).numpy()
        entries[name] = {"serialized": keras.activations.serialize(fn), "output_shape": list(y.shape)}
    doc = {
        "description": gen_keras3_activations.__doc__.strip(),
        "keras_version": keras.__version__,
        "upstream_note": "for glu (output half as wide) the upstream is upstream[..., :3]",
        "entries": entries,
    }
    write_json(os.path.join(out_dir, "keras3_activations.json"), doc)
    save_safetensors(tensors, os.path.join(out_dir, "keras3_activations.safetensors"), metadata={"generator": GENERATOR})
    return {"keras3_activations": len(entries)}


def main(out_dir):
    out_dir = os.path.abspath(str(out_dir))
    os.makedirs(out_dir, exist_ok=True)
    tf, tf_keras, keras = imports()
    # Reset global layer-name counters so auto-generated names (e.g. the
    # LeakyReLU layer built from activation='LeakyReLU') are deterministic
    # even if other generators ran before in the same process.
    fresh_session(tf_keras, keras)
    # keep global state that could leak from other generators neutral
    prev_floatx = tf_keras.backend.floatx()
    tf_keras.backend.set_floatx("float32")
    try:
        summary = {}
        comp = {}
        summary.update(gen_activations(out_dir))
        summary.update(gen_keras3_activations(out_dir))
        summary.update(gen_regularizers(out_dir, comp))
        summary.update(gen_constraints(out_dir, comp))
        summary.update(gen_initializers(out_dir, comp))
        save_safetensors(comp, os.path.join(out_dir, "components.safetensors"),
                         metadata={"generator": GENERATOR})
        summary["components_tensors"] = len(comp)
        summary.update(gen_conv_configs(out_dir))
        gen_versions(out_dir)
    finally:
        tf_keras.backend.set_floatx(prev_floatx)
    return summary
