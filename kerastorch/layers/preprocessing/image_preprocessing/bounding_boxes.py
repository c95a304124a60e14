"""Bounding-box format conversion (Keras 3's ``keras.utils.bounding_boxes.convert_format``), pure torch.

Formats (case-insensitive): ``xyxy`` ``[left, top, right, bottom]``, ``yxyx``, ``xywh`` ``[left, top, w, h]``,
``center_xywh``, ``center_yxhw``, and the relative ``rel_*`` forms of each (coordinates divided by the image
``width`` / ``height``)."""
from __future__ import annotations

from typing import Any

import torch

FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw")
ALL_FORMATS = FORMATS + tuple(f"rel_{f}" for f in FORMATS)


def _check(fmt: str) -> str:
    if not isinstance(fmt, str) or fmt.lower() not in ALL_FORMATS:
        raise ValueError(f"Invalid bounding box format {fmt!r}. Expected one of {list(ALL_FORMATS)}.")
    return fmt.lower()


def _to_xyxy(boxes: torch.Tensor, fmt: str) -> torch.Tensor:
    a, b, c, d = boxes.unbind(-1)
    if fmt == "xyxy":
        return boxes
    if fmt == "yxyx":
        return torch.stack([b, a, d, c], dim=-1)
    if fmt == "xywh":
        return torch.stack([a, b, a + c, b + d], dim=-1)
    if fmt == "center_xywh":
        return torch.stack([a - c / 2, b - d / 2, a + c / 2, b + d / 2], dim=-1)
    return torch.stack([b - d / 2, a - c / 2, b + d / 2, a + c / 2], dim=-1)  # center_yxhw


def _from_xyxy(boxes: torch.Tensor, fmt: str) -> torch.Tensor:
    x1, y1, x2, y2 = boxes.unbind(-1)
    if fmt == "xyxy":
        return boxes
    if fmt == "yxyx":
        return torch.stack([y1, x1, y2, x2], dim=-1)
    if fmt == "xywh":
        return torch.stack([x1, y1, x2 - x1, y2 - y1], dim=-1)
    if fmt == "center_xywh":
        return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dim=-1)
    return torch.stack([(y1 + y2) / 2, (x1 + x2) / 2, y2 - y1, x2 - x1], dim=-1)  # center_yxhw


def convert_format(boxes: torch.Tensor, source: str, target: str, height: int | None = None, width: int | None = None) -> torch.Tensor:
    """Boxes ``(..., 4)`` from ``source`` to ``target`` format; ``height``/``width`` needed for a ``rel_`` format."""
    source, target = _check(source), _check(target)
    if boxes.shape[-1] != 4:
        raise ValueError(f"Bounding boxes must have 4 coordinates in the last axis. Received shape {tuple(boxes.shape)}")
    if source == target:
        return boxes
    if (source.startswith("rel_") or target.startswith("rel_")) and (height is None or width is None):
        raise ValueError(f"Converting from {source!r} to {target!r} needs the image `height` and `width`.")
    if not boxes.dtype.is_floating_point:
        boxes = boxes.to(torch.float32)
    scale = None if height is None else boxes.new_tensor([width, height, width, height])
    xyxy = _to_xyxy(boxes, source.removeprefix("rel_"))
    if source.startswith("rel_"):
        xyxy = xyxy * scale
    if target.startswith("rel_"):
        xyxy = xyxy / scale
    return _from_xyxy(xyxy, target.removeprefix("rel_"))


def clip_to_image_size(boxes: torch.Tensor, height: int, width: int, fmt: str = "xyxy") -> torch.Tensor:
    """Boxes clipped to the image (Keras 3's ``clip_to_image_size`` coordinates, without its label masking)."""
    xyxy = convert_format(boxes, fmt, "xyxy", height, width)
    x1, y1, x2, y2 = xyxy.unbind(-1)
    clipped = torch.stack([x1.clamp(0, width), y1.clamp(0, height), x2.clamp(0, width), y2.clamp(0, height)], dim=-1)
    return convert_format(clipped, "xyxy", fmt, height, width)


def clip_with_labels(bounding_boxes: dict, height: Any, width: Any, relative: bool = False) -> dict:
    """Keras 3's ``clip_to_image_size`` of an ``xyxy`` (or ``rel_xyxy``: ``relative``) ``{"boxes", "labels"}`` dict:
    coordinates clipped to the image, the label of a box left with no area set to -1. ``height``/``width`` are
    numbers or tensors broadcasting against the boxes' leading axes (ignored when ``relative``)."""
    x1, y1, x2, y2 = bounding_boxes["boxes"].unbind(-1)
    like = dict(dtype=x1.dtype, device=x1.device)
    high_x = torch.as_tensor(1.0 if relative else width, **like)
    high_y = torch.as_tensor(1.0 if relative else height, **like)
    x1, x2 = x1.clamp(min=0.0).minimum(high_x), x2.clamp(min=0.0).minimum(high_x)
    y1, y2 = y1.clamp(min=0.0).minimum(high_y), y2.clamp(min=0.0).minimum(high_y)
    boxes = torch.stack([x1, y1, x2, y2], dim=-1)
    out = {**bounding_boxes, "boxes": boxes}
    if "labels" in bounding_boxes:
        labels = bounding_boxes["labels"]
        area = (x2 - x1) * (y2 - y1)
        out["labels"] = torch.where(area > 0, labels, torch.full_like(labels, -1))
    return out
