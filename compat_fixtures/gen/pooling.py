"""Pooling fixtures: Max/AveragePooling{1,2,3}D and GlobalMax/GlobalAveragePooling{1,2,3}D from real tf.keras.

Run with ``.venv-keras/bin/python compat_fixtures/generate.py --only pooling``. Writes, per class,
``<snake>_cases.json`` / ``<snake>_tensors.safetensors`` / ``<snake>_errors.json`` (format: ``layer_cases.py``).

Local pooling covers sizes that do and don't divide the stride, 'valid' and 'same' (TF's split, including the
asymmetric ones: stride 1 with an even pool, stride > 1 with an odd total), both data formats, pool_size !=
strides, non-square windows, windows larger than the input ('same'; for 3-D average one dim only too) and
float64 (ranks 1-2 only: TF's 3-D pooling ops take no float64; the layer gets ``dtype="float64"`` too, else
tf.keras's float32 policy casts the input down). TF's CPU pooling gradients refuse NCHW, so the 2-D
channels_first cases have no recorded gradients (their backward is the channels_last one). Max pooling draws
``inputs="distinct"`` so that its gradients have no ties. GlobalAveragePooling1D also records its ``mask``
call argument (bool and 0/1 masks, both data formats).
"""
from __future__ import annotations

from .layer_cases import Case, Err, record_family

# (group, args, spatial size); every spatial entry is for rank 2 and is trimmed / extended per rank
_LOCAL = [
    ("default", {}, (4, 6)),
    ("valid-nondividing", dict(pool_size=2), (5, 7)),
    ("valid-pool3-stride2", dict(pool_size=3, strides=2), (7, 6)),
    ("same-asym-stride2", dict(pool_size=3, strides=2, padding="same"), (6, 8)),
    ("same-asym-stride1-even-pool", dict(pool_size=2, strides=1, padding="same"), (4, 5)),
    ("same-sym-stride1", dict(pool_size=3, strides=1, padding="same"), (4, 5)),
    ("same-strides-none-odd", dict(pool_size=2, padding="same"), (5, 7)),
    ("same-pool4-stride2", dict(pool_size=4, strides=2, padding="same"), (7, 6)),
    ("same-pool-bigger-than-input", dict(pool_size=5, strides=2, padding="same"), (4, 3)),
    ("same-pool1-stride3", dict(pool_size=1, strides=3, padding="same"), (7, 5)),
    ("valid-stride-bigger-than-pool", dict(pool_size=2, strides=3), (8, 7)),
    ("same-uppercase", dict(pool_size=2, strides=2, padding="SAME"), (5, 4)),
]
# rank-specific: non-square windows / mixed splits (one dim stride 1 even pool, one dim stride 2)
_NONSQUARE = {
    1: [("tuple-args", dict(pool_size=(3,), strides=[2], padding="same"), (8,)),
        ("same-pool4-stride3", dict(pool_size=4, strides=3, padding="same"), (10,))],
    2: [("nonsquare-same-mixed", dict(pool_size=(2, 3), strides=(1, 2), padding="same"), (5, 6)),
        ("nonsquare-valid", dict(pool_size=(3, 2), strides=(2, 1)), (7, 5))],
    3: [("nonsquare-same-mixed", dict(pool_size=(2, 3, 1), strides=(1, 2, 2), padding="same"), (3, 4, 5)),
        ("nonsquare-valid", dict(pool_size=(1, 3, 2), strides=(2, 1, 2)), (3, 5, 4)),
        # one dim smaller than its pool, the others not (torch's avg_pool3d refuses such a window)
        ("same-one-dim-smaller-than-pool", dict(pool_size=(2, 4, 3), strides=(1, 2, 3), padding="same"), (3, 3, 7))],
}
_CHANNELS_FIRST = ["default", "same-asym-stride2", "same-asym-stride1-even-pool", "same-pool4-stride2",
                   "nonsquare-same-mixed", "tuple-args"]
_FLOAT64 = ["same-asym-stride2", "same-asym-stride1-even-pool", "valid-pool3-stride2"]


def _spatial(size, rank):
    size = tuple(size)
    if len(size) == rank:
        return list(size)
    if rank == 1:
        return [size[0] + size[1]]
    return [*size, 3]  # rank 3: a third dim of 3


def local_cases(rank, max_pool):
    inputs = "distinct" if max_pool else "normal"
    cases = []
    all_configs = _LOCAL + _NONSQUARE[rank]
    for group, args, size in all_configs:
        spatial = _spatial(size, rank)
        cases.append(Case(dict(args), [2, *spatial, 3], group=group, inputs=inputs))
    for group, args, size in all_configs:
        if group in _CHANNELS_FIRST:
            spatial = _spatial(size, rank)
            # TF's CPU MaxPoolGrad/AvgPoolGrad refuse NCHW ("only supports NHWC on device type CPU"): the 2-D
            # channels_first cases record the forward only (1-D and 3-D transpose to channels_last themselves)
            cases.append(Case(dict(args, data_format="channels_first"), [2, 3, *spatial], group=group + "-cf",
                              inputs=inputs, grads=rank != 2))
    for group, args, size in all_configs:
        # TF's MaxPool3D/AvgPool3D take half/bfloat16/float32 only: no float64 reference for rank 3
        if group in _FLOAT64 and rank < 3:
            # dtype="float64" on the layer too: tf.keras's default float32 policy would cast the input down
            cases.append(Case(dict(args, dtype="float64"), [2, *_spatial(size, rank), 2], group=group + "-f64",
                              dtype="float64", inputs=inputs))
    return cases


def local_errors(rank):
    n = rank + 2
    small = [2, *([1] * rank), 3]
    return [
        Err("init", dict(pool_size=0)),
        Err("init", dict(pool_size=-1)),
        Err("init", dict(pool_size=(2,) * (rank + 1))),
        Err("init", dict(pool_size="a")),
        Err("init", dict(pool_size=2.5)),
        Err("init", dict(pool_size=2, strides=-1)),
        Err("init", dict(pool_size=2, strides=(1,) * (rank + 1))),
        Err("init", dict(padding="full")),
        Err("init", dict(data_format="channels_middle")),
        Err("call", dict(pool_size=2, strides=0), [2, *([4] * rank), 3]),
        Err("call", dict(pool_size=2, padding="causal"), [2, *([4] * rank), 3]),
        Err("call", dict(pool_size=2), small),
        Err("call", dict(pool_size=2), [2] * (n + 1)),
        Err("call", dict(pool_size=2), [2] * (n - 1)),
        Err("build", dict(pool_size=2), [2] * (n + 1)),
        Err("compute_output_shape", dict(pool_size=3), [2, *([2] * rank), 3]),
        Err("compute_output_shape", dict(pool_size=2), [2, *([2] * rank), 3]),
    ]


def global_cases(rank, max_pool):
    inputs = "distinct" if max_pool else "normal"
    spatial = {1: [5], 2: [4, 3], 3: [3, 2, 4]}[rank]
    ones = [1] * rank
    return [
        Case({}, [2, *spatial, 3], group="default", inputs=inputs),
        Case(dict(keepdims=True), [2, *spatial, 3], group="keepdims", inputs=inputs),
        Case(dict(data_format="channels_first"), [2, 3, *spatial], group="cf", inputs=inputs),
        Case(dict(data_format="channels_first", keepdims=True), [2, 3, *spatial], group="cf-keepdims", inputs=inputs),
        Case(dict(data_format="channels_last"), [2, *spatial, 4], group="explicit-cl", inputs=inputs),
        Case({}, [2, *ones, 3], group="spatial-ones", inputs=inputs),
        Case(dict(keepdims=True), [3, *ones, 2], group="spatial-ones-keepdims", inputs=inputs),
        # dtype="float64" on the layer too: tf.keras's default float32 policy would cast the input down
        Case(dict(dtype="float64"), [2, *spatial, 3], group="f64", dtype="float64", inputs=inputs),
        Case(dict(keepdims=True, data_format="channels_first", dtype="float64"), [2, 2, *spatial],
             group="f64-cf-keepdims", dtype="float64", inputs=inputs),
        Case({}, [1, *[s + 2 for s in spatial], 5], group="bigger", inputs=inputs),
        Case(dict(data_format="channels_first"), [2, 1, *spatial], group="cf-one-channel", inputs=inputs),
    ]


_MASKS = [  # GlobalAveragePooling1D's `mask` call argument: (batch, steps), rows with different kept steps
    [[True, True, False, True, False], [False, True, True, True, True]],
    [[1, 0, 0, 1, 1], [1, 1, 1, 1, 0]],
]


def masked_cases():
    return [
        Case({}, [2, 5, 3], group="mask-bool", call_kwargs=dict(mask=_MASKS[0])),
        Case(dict(keepdims=True), [2, 5, 3], group="mask-int-keepdims", call_kwargs=dict(mask=_MASKS[1])),
        Case(dict(data_format="channels_first"), [2, 3, 5], group="mask-cf", call_kwargs=dict(mask=_MASKS[0])),
    ]


def global_errors(rank):
    n = rank + 2
    zero_last = [Err("build", {}, [2, *([2] * (rank - 1)), 0, 3])] if rank > 1 else []
    return [
        Err("init", dict(data_format="channels_middle")),
        Err("build", {}, [2, *([0] * rank), 3]),
        *zero_last,
        Err("build", dict(data_format="channels_first"), [2, 3, *([0] * rank)]),
        Err("call", {}, [2] * (n + 1)),
        Err("call", {}, [2] * (n - 1)),
        Err("build", {}, [2] * (n + 1)),
    ]


def main(out_dir):
    classes = {}
    for rank in (1, 2, 3):
        classes[f"MaxPooling{rank}D"] = (local_cases(rank, True), local_errors(rank))
        classes[f"AveragePooling{rank}D"] = (local_cases(rank, False), local_errors(rank))
    for rank in (1, 2, 3):
        classes[f"GlobalMaxPooling{rank}D"] = (global_cases(rank, True), global_errors(rank))
        masked = masked_cases() if rank == 1 else []
        classes[f"GlobalAveragePooling{rank}D"] = (global_cases(rank, False) + masked, global_errors(rank))
    return record_family(out_dir, classes, seed=40)
