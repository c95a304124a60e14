"""Every layer runs the layer contract (tests/layer_contract.py): one line per configuration.

A new layer joins by adding a ``LayerCase``; each applicable check becomes its own test id,
``<case id>-<check>`` (e.g. ``Conv2D-same-strides2-zero_copy``). Shapes are tiny to keep it fast.
"""
from __future__ import annotations

from layer_contract import LayerCase, parametrize_contract, run_check

from kerastorch.layers import (
    ELU, Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3D, Conv3DTranspose, Cropping1D, Cropping2D, Cropping3D,
    DepthwiseConv1D, DepthwiseConv2D, LeakyReLU, ReLU, SeparableConv1D, SeparableConv2D, Softmax, ThresholdedReLU,
    UpSampling1D, UpSampling2D, UpSampling3D, ZeroPadding1D, ZeroPadding2D, ZeroPadding3D,
)

CASES = [
    # ----- convolutions (kernel + bias, or kernel only) -----
    LayerCase(Conv1D, dict(filters=3, kernel_size=2), (2, 5, 2), id="Conv1D",
              expected_output_shape=(2, 4, 3), expected_num_weights=2),
    LayerCase(Conv1D, dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2), (2, 6, 2), id="Conv1D-causal",
              expected_output_shape=(2, 6, 3), expected_num_weights=2),
    LayerCase(Conv2D, dict(filters=4, kernel_size=3), (2, 5, 5, 3), id="Conv2D",
              expected_output_shape=(2, 3, 3, 4), expected_num_weights=2),
    LayerCase(Conv2D, dict(filters=4, kernel_size=(2, 3), data_format="channels_first"), (2, 3, 5, 6),
              id="Conv2D-channels_first", expected_output_shape=(2, 4, 4, 4), expected_num_weights=2),
    LayerCase(Conv2D, dict(filters=4, kernel_size=3, padding="same", groups=2, use_bias=False), (2, 4, 4, 4),
              id="Conv2D-groups-nobias", expected_output_shape=(2, 4, 4, 4), expected_num_weights=1),
    # stride 2 on an even size: TF's 'same' split is (0, 1), an explicit pad
    LayerCase(Conv2D, dict(filters=3, kernel_size=3, strides=2, padding="same"), (2, 6, 6, 2),
              id="Conv2D-same-strides2", expected_output_shape=(2, 3, 3, 3), expected_num_weights=2),
    LayerCase(Conv3D, dict(filters=2, kernel_size=2), (2, 3, 3, 3, 2), id="Conv3D",
              expected_output_shape=(2, 2, 2, 2, 2), expected_num_weights=2),
    # ----- transposed, depthwise and separable convolutions -----
    LayerCase(Conv1DTranspose, dict(filters=3, kernel_size=3, strides=2, padding="same"), (2, 4, 2), id="Conv1DTranspose",
              expected_output_shape=(2, 8, 3), expected_num_weights=2),
    LayerCase(Conv2DTranspose, dict(filters=3, kernel_size=3, strides=2, padding="same"), (2, 4, 4, 2),
              id="Conv2DTranspose-same", expected_output_shape=(2, 8, 8, 3), expected_num_weights=2),
    # torch's own conv_transpose2d copies its output for contiguous-format data with stride > 1 (hand-written
    # torch does the same), so the zero-copy claim is made for channels_last only
    LayerCase(Conv2DTranspose, dict(filters=2, kernel_size=(2, 3), strides=(2, 3), output_padding=(1, 2),
              data_format="channels_first", use_bias=False), (2, 3, 3, 3), id="Conv2DTranspose-output_padding-cf",
              expected_output_shape=(2, 2, 7, 11), expected_num_weights=1, zero_copy=False),
    LayerCase(Conv3DTranspose, dict(filters=2, kernel_size=2, strides=2), (2, 2, 2, 2, 3), id="Conv3DTranspose",
              expected_output_shape=(2, 4, 4, 4, 2), expected_num_weights=2),
    LayerCase(DepthwiseConv1D, dict(kernel_size=3, depth_multiplier=2, padding="same"), (2, 5, 3), id="DepthwiseConv1D",
              expected_output_shape=(2, 5, 6), expected_num_weights=2),
    LayerCase(DepthwiseConv2D, dict(kernel_size=3, depth_multiplier=2, strides=2, padding="same"), (2, 6, 6, 3),
              id="DepthwiseConv2D", expected_output_shape=(2, 3, 3, 6), expected_num_weights=2),
    LayerCase(SeparableConv1D, dict(filters=4, kernel_size=3, padding="causal"), (2, 5, 3), id="SeparableConv1D-causal",
              expected_output_shape=(2, 5, 4), expected_num_weights=3),
    LayerCase(SeparableConv2D, dict(filters=4, kernel_size=3, depth_multiplier=2), (2, 5, 5, 3), id="SeparableConv2D",
              expected_output_shape=(2, 3, 3, 4), expected_num_weights=3),
    # ----- resampling, padding, cropping (no weights) -----
    LayerCase(UpSampling1D, dict(size=3), (2, 3, 2), id="UpSampling1D", expected_output_shape=(2, 9, 2), expected_num_weights=0, float_only=False),
    LayerCase(UpSampling2D, dict(size=(2, 3)), (2, 3, 3, 2), id="UpSampling2D", expected_output_shape=(2, 6, 9, 2),
              expected_num_weights=0, float_only=False),
    LayerCase(UpSampling2D, dict(size=2, interpolation="bilinear"), (2, 3, 3, 2), id="UpSampling2D-bilinear",
              expected_output_shape=(2, 6, 6, 2), expected_num_weights=0, float_only=False),
    # TF's rarer sampling kernels run as resampling matrices (tensordot reorders its operands): no zero-copy claim
    LayerCase(UpSampling2D, dict(size=2, interpolation="lanczos3"), (2, 3, 3, 2), id="UpSampling2D-lanczos3",
              expected_output_shape=(2, 6, 6, 2), expected_num_weights=0, float_only=False, zero_copy=False),
    LayerCase(UpSampling3D, dict(size=2, data_format="channels_first"), (2, 2, 2, 2, 2), id="UpSampling3D-cf",
              expected_output_shape=(2, 2, 4, 4, 4), expected_num_weights=0, float_only=False),
    LayerCase(ZeroPadding1D, dict(padding=(1, 2)), (2, 3, 2), id="ZeroPadding1D", expected_output_shape=(2, 6, 2),
              expected_num_weights=0, float_only=False),
    LayerCase(ZeroPadding2D, dict(padding=((1, 0), (2, 1))), (2, 3, 3, 2), id="ZeroPadding2D",
              expected_output_shape=(2, 4, 6, 2), expected_num_weights=0, float_only=False),
    LayerCase(ZeroPadding3D, dict(padding=1), (2, 2, 2, 2, 2), id="ZeroPadding3D", expected_output_shape=(2, 4, 4, 4, 2),
              expected_num_weights=0, float_only=False),
    LayerCase(Cropping1D, dict(cropping=(1, 0)), (2, 4, 2), id="Cropping1D", expected_output_shape=(2, 3, 2),
              expected_num_weights=0, float_only=False),
    LayerCase(Cropping2D, dict(cropping=((1, 1), (0, 2)), data_format="channels_first"), (2, 2, 4, 5),
              id="Cropping2D-cf", expected_output_shape=(2, 2, 2, 3), expected_num_weights=0, float_only=False),
    LayerCase(Cropping3D, dict(cropping=1), (2, 3, 3, 3, 2), id="Cropping3D", expected_output_shape=(2, 1, 1, 1, 2),
              expected_num_weights=0, float_only=False),
    # ----- activation layers (no weights) -----
    # integer ReLU is well defined (torch.relu and tf.nn.relu take integer tensors): not float-only
    LayerCase(ReLU, dict(max_value=2.0, negative_slope=0.1), (2, 3, 4), id="ReLU", float_only=False,
              expected_output_shape=(2, 3, 4), expected_num_weights=0),
    LayerCase(LeakyReLU, dict(alpha=0.2), (2, 3, 4), id="LeakyReLU", expected_output_shape=(2, 3, 4), expected_num_weights=0),
    LayerCase(ELU, dict(alpha=0.5), (2, 3, 4), id="ELU", expected_output_shape=(2, 3, 4), expected_num_weights=0),
    LayerCase(Softmax, dict(axis=1), (2, 3, 4), id="Softmax", expected_output_shape=(2, 3, 4), expected_num_weights=0),
    LayerCase(ThresholdedReLU, dict(theta=0.5), (2, 3, 4), id="ThresholdedReLU",
              expected_output_shape=(2, 3, 4), expected_num_weights=0),
]


@parametrize_contract(CASES)
def test_layer_contract(case, check):
    run_check(case, check)
