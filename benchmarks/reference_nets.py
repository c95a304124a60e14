"""keras.applications networks written directly in torch.nn: the speed limit the model benchmark compares against.

What a torch expert writes for the same network: ``nn.Conv2d``/``nn.BatchNorm2d``/``nn.ReLU6``/``nn.Linear`` modules,
channels_last memory format, TF's asymmetric 'same' padding as an explicit ``F.pad`` only where Keras's split is
asymmetric. The weights come from a Keras model by layer name (``weights(name)`` returns the layer's weights in
Keras order, as ``layer.get_weights()`` does), so the outputs can be checked equal to the loaded model's.

Inputs are NHWC tensors (Keras's layout); internally every activation is the channels_last NCHW view of them.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

Weights = Callable[[str], Sequence[np.ndarray]]


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=torch.float32)


def conv(weights: Weights, name: str, stride: int = 1, padding: int = 0, groups: int = 1) -> nn.Conv2d:
    """``nn.Conv2d`` from a Keras Conv2D/DepthwiseConv2D's weights (HWIO or HWC1 kernel)."""
    w = list(weights(name))
    k = _t(w[0])
    kh, kw = k.shape[:2]
    if groups > 1:  # depthwise (kh, kw, C, 1) -> (C, 1, kh, kw)
        k = k.permute(2, 3, 0, 1)
    else:
        k = k.permute(3, 2, 0, 1)
    m = nn.Conv2d(k.shape[1] * groups, k.shape[0], (kh, kw), stride, padding, groups=groups, bias=len(w) > 1)
    with torch.no_grad():
        m.weight.copy_(k)
        if len(w) > 1:
            m.bias.copy_(_t(w[1]))
    return m


def bn(weights: Weights, name: str, eps: float) -> nn.BatchNorm2d:
    gamma, beta, mean, var = (_t(a) for a in weights(name))
    m = nn.BatchNorm2d(gamma.numel(), eps=eps)
    with torch.no_grad():
        m.weight.copy_(gamma)
        m.bias.copy_(beta)
        m.running_mean.copy_(mean)
        m.running_var.copy_(var)
    return m


def dense(weights: Weights, name: str) -> nn.Linear:
    kernel, bias = (_t(a) for a in weights(name))
    m = nn.Linear(kernel.shape[0], kernel.shape[1])
    with torch.no_grad():
        m.weight.copy_(kernel.t())
        m.bias.copy_(bias)
    return m


class _Net(nn.Module):
    """``body`` (NCHW channels_last in and out), global average pooling, ``head`` (Dense + softmax, as Keras's
    ``classifier_activation='softmax'``); ``dropout`` before the head where Keras has one."""

    dropout: float = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # NHWC in, class probabilities out
        y = self.body(x.permute(0, 3, 1, 2)).mean((2, 3))
        if self.dropout and self.training:
            y = F.dropout(y, self.dropout, True)
        return torch.softmax(self.head(y), -1)


# ---------------------------------------------------------------- ResNet50 (keras.applications.resnet)
class Bottleneck(nn.Module):
    def __init__(self, weights: Weights, name: str, stride: int, shortcut: bool):
        super().__init__()
        eps = 1.001e-5
        self.shortcut = nn.Sequential(conv(weights, f"{name}_0_conv", stride), bn(weights, f"{name}_0_bn", eps)) if shortcut else None
        self.branch = nn.Sequential(
            conv(weights, f"{name}_1_conv", stride), bn(weights, f"{name}_1_bn", eps), nn.ReLU(inplace=True),
            conv(weights, f"{name}_2_conv", 1, 1), bn(weights, f"{name}_2_bn", eps), nn.ReLU(inplace=True),
            conv(weights, f"{name}_3_conv"), bn(weights, f"{name}_3_bn", eps),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.shortcut(x) if self.shortcut is not None else x
        return F.relu(self.branch(x) + s, inplace=True)


class ResNet50(_Net):
    def __init__(self, weights: Weights):
        super().__init__()
        layers: list[nn.Module] = [
            nn.ZeroPad2d(3), conv(weights, "conv1_conv", 2), bn(weights, "conv1_bn", 1.001e-5), nn.ReLU(inplace=True),
            nn.ZeroPad2d(1), nn.MaxPool2d(3, 2),
        ]
        for stage, blocks, stride in ((2, 3, 1), (3, 4, 2), (4, 6, 2), (5, 3, 2)):
            for b in range(1, blocks + 1):
                layers.append(Bottleneck(weights, f"conv{stage}_block{b}", stride if b == 1 else 1, b == 1))
        self.body = nn.Sequential(*layers)
        self.head = dense(weights, "predictions")


# ---------------------------------------------------------------- MobileNetV2 (keras.applications.mobilenet_v2)
def _make_divisible(v: float, divisor: int = 8) -> int:
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class InvertedResidual(nn.Module):
    def __init__(self, weights: Weights, block_id: int, stride: int, residual: bool):
        super().__init__()
        eps = 1e-3
        prefix = f"block_{block_id}_" if block_id else "expanded_conv_"
        layers: list[nn.Module] = []
        if block_id:
            layers += [conv(weights, prefix + "expand"), bn(weights, prefix + "expand_BN", eps), nn.ReLU6(inplace=True)]
        channels = np.asarray(weights(prefix + "depthwise")[0]).shape[2]
        if stride == 2:  # Keras pads with correct_pad (even sizes: 0 before, 1 after) then a 'valid' conv
            layers += [nn.ZeroPad2d((0, 1, 0, 1)), conv(weights, prefix + "depthwise", 2, 0, channels)]
        else:
            layers += [conv(weights, prefix + "depthwise", 1, 1, channels)]
        layers += [bn(weights, prefix + "depthwise_BN", eps), nn.ReLU6(inplace=True),
                   conv(weights, prefix + "project"), bn(weights, prefix + "project_BN", eps)]
        self.branch = nn.Sequential(*layers)
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.branch(x) if self.residual else self.branch(x)


# (filters, stride, expansion) per block, as mobilenet_v2.MobileNetV2 lists them
MOBILENET_V2_BLOCKS = [(16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6), (64, 1, 6),
                       (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6), (160, 1, 6),
                       (160, 1, 6), (320, 1, 6)]


class MobileNetV2(_Net):
    def __init__(self, weights: Weights, alpha: float = 1.0):
        super().__init__()
        eps = 1e-3
        # Conv1: 3x3 stride 2 'same' on an even size: TF pads (0, 1)
        layers: list[nn.Module] = [nn.ZeroPad2d((0, 1, 0, 1)), conv(weights, "Conv1", 2), bn(weights, "bn_Conv1", eps),
                                   nn.ReLU6(inplace=True)]
        channels = _make_divisible(32 * alpha)
        for i, (filters, stride, _) in enumerate(MOBILENET_V2_BLOCKS):
            out = _make_divisible(int(filters * alpha))
            layers.append(InvertedResidual(weights, i, stride, channels == out and stride == 1))
            channels = out
        layers += [conv(weights, "Conv_1"), bn(weights, "Conv_1_bn", eps), nn.ReLU6(inplace=True)]
        self.body = nn.Sequential(*layers)
        self.head = dense(weights, "predictions")


# ---------------------------------------------------------------- EfficientNetB0 (keras.applications.efficientnet)
# (kernel, repeats, filters_in, filters_out, expand_ratio, strides, se_ratio) of EfficientNet's DEFAULT_BLOCKS_ARGS
EFFICIENTNET_BLOCKS = [(3, 1, 32, 16, 1, 1, 0.25), (3, 2, 16, 24, 6, 2, 0.25), (5, 2, 24, 40, 6, 2, 0.25),
                       (3, 3, 40, 80, 6, 2, 0.25), (5, 3, 80, 112, 6, 1, 0.25), (5, 4, 112, 192, 6, 2, 0.25),
                       (3, 1, 192, 320, 6, 1, 0.25)]


class MBConv(nn.Module):
    def __init__(self, weights: Weights, name: str, kernel: int, stride: int, expand: int, residual: bool,
                 drop_rate: float = 0.0):
        super().__init__()
        self.drop_rate = drop_rate
        eps = 1e-3
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [conv(weights, name + "expand_conv"), bn(weights, name + "expand_bn", eps), nn.SiLU(inplace=True)]
        channels = np.asarray(weights(name + "dwconv")[0]).shape[2]
        if stride == 2:  # correct_pad on an even size: (k//2 - 1, k//2) then 'valid'
            p = kernel // 2
            layers += [nn.ZeroPad2d((p - 1, p, p - 1, p)), conv(weights, name + "dwconv", 2, 0, channels)]
        else:
            layers += [conv(weights, name + "dwconv", 1, kernel // 2, channels)]
        layers += [bn(weights, name + "bn", eps), nn.SiLU(inplace=True)]
        self.expand_dw = nn.Sequential(*layers)
        self.se_reduce = conv(weights, name + "se_reduce")
        self.se_expand = conv(weights, name + "se_expand")
        self.project = nn.Sequential(conv(weights, name + "project_conv"), bn(weights, name + "project_bn", eps))
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand_dw(x)
        s = torch.sigmoid(self.se_expand(F.silu(self.se_reduce(y.mean((2, 3), keepdim=True)))))
        y = self.project(y * s)
        if not self.residual:
            return y
        if self.drop_rate and self.training:  # Keras's Dropout(noise_shape=(None, 1, 1, 1)): drop whole samples
            keep = (torch.rand(y.shape[0], 1, 1, 1, device=y.device) >= self.drop_rate).to(y.dtype)
            y = y * (keep / (1.0 - self.drop_rate))
        return y + x


class EfficientNetB0(_Net):
    """Input preprocessing (Rescaling 1/255, Normalization, Keras 3's Rescaling by 1/sqrt(stddev)) as in Keras."""

    dropout = 0.2

    def __init__(self, weights: Weights, preprocessing: Callable[[torch.Tensor], torch.Tensor],
                 drop_connect_rate: float = 0.2):
        super().__init__()
        eps = 1e-3
        self.preprocessing = preprocessing
        layers: list[nn.Module] = [nn.ZeroPad2d((0, 1, 0, 1)), conv(weights, "stem_conv", 2), bn(weights, "stem_bn", eps),
                                   nn.SiLU(inplace=True)]
        b = 0
        total = sum(r for _, r, *_ in EFFICIENTNET_BLOCKS)
        for i, (k, repeats, fin, fout, expand, stride, _) in enumerate(EFFICIENTNET_BLOCKS):
            for j in range(repeats):
                name = f"block{i + 1}{chr(j + 97)}_"
                s = stride if j == 0 else 1
                layers.append(MBConv(weights, name, k, s, expand, s == 1 and (fin if j == 0 else fout) == fout,
                                     drop_connect_rate * b / total))
                b += 1
        layers += [conv(weights, "top_conv"), bn(weights, "top_bn", eps), nn.SiLU(inplace=True)]
        self.body = nn.Sequential(*layers)
        self.head = dense(weights, "predictions")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(self.preprocessing(x))


def to_channels_last(net: nn.Module) -> nn.Module:
    return net.to(memory_format=torch.channels_last).eval()
