"""``BaseImagePreprocessingLayer``: what every image preprocessing / augmentation layer shares (Keras 3's
``layers/preprocessing/image_preprocessing/base_image_preprocessing_layer.py``, tf.keras's ``BaseRandomLayer``).

Reproduced from Keras 3:

- ``data_format`` (``channels_last`` / ``channels_first``, ``None``: ``image_data_format()``); rank 3
  (one image) and rank 4 (a batch) inputs, any other rank a ``ValueError`` naming the layer;
- the call structure: ``get_random_transformation(data, training)`` draws one transformation (a dict of
  tensors, or ``None``) for the whole call, then ``transform_images`` / ``transform_bounding_boxes`` /
  ``transform_segmentation_masks`` / ``transform_labels`` apply it to each entry of a
  ``{"images", "bounding_boxes", "segmentation_masks", "labels"}`` dict (or to a plain image tensor).
  Unlike Keras, the transform methods always see batched tensors: an unbatched call is batched (a leading
  axis of one) before ``get_random_transformation`` and unbatched after;
- ``factor`` parsing (``_set_factor`` with the class's ``_FACTOR_BOUNDS`` and Keras's message),
  ``value_range`` checks (``_set_value_range``; a reversed or empty range is refused, where Keras sorts it)
  and ``_transform_value_range``;
- integer images become the layer's compute dtype (float32) as Keras's ``transform_images`` casts them; a
  floating input keeps its dtype (kerastorch's weight-free layers follow their input).

Training follows torch: ``train()`` augments, ``eval()`` gives the inference behaviour (the identity, or
Keras's deterministic transform), an explicit ``training=`` wins. (Keras's own default for a call without
``training`` is True; inside ``fit``/``predict`` Keras passes it, which ``train()``/``eval()`` stand for.)

Randomness: a layer with a ``seed`` draws from its own ``torch.Generator`` (seeded with ``seed``, one per
device, created on the input's device), so a seeded layer repeats its sequence of draws whatever else uses
torch's RNG. Without a seed it draws from torch's global generator (``torch.manual_seed``), as
``torch.nn.Dropout``. Under ``torch.compile`` the global generator is used (a ``torch.Generator`` cannot be
traced). The draws are torch's, not TensorFlow's: a given seed gives other numbers than in Keras; the
distributions (ranges, per image or per batch) are Keras's.
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import torch

from ...input_spec import InputSpec
from ...layer import Layer
from ...utils.conv_utils import normalize_data_format
from ...utils.mask_rules import keras3_config

__all__ = ["BaseImagePreprocessingLayer"]

Transformation = Any  # a dict of tensors (or None), made by get_random_transformation


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class BaseImagePreprocessingLayer(Layer):
    """Keras 3's ``BaseImagePreprocessingLayer`` as a kerastorch ``Layer`` (see the module docstring).

    Subclasses implement ``get_random_transformation`` and ``transform_images`` (or ``_transform_images``,
    which the default ``transform_images`` applies in training), and ``transform_bounding_boxes`` /
    ``transform_labels`` where Keras's class does. ``compute_output_shape`` is the identity unless overridden.
    """

    #: Keras's switch: whether the base parses a ``factor`` argument, and the bounds it must lie in.
    _USE_BASE_FACTOR = True
    _FACTOR_BOUNDS: tuple[float, float] = (-1, 1)
    #: tf.keras's random layers (``BaseRandomLayer``) write ``rng_type`` into their config.
    _TF_KERAS_RANDOM = False
    #: Keras 3-only classes always write Keras 3's config.
    _KERAS3_ONLY = False

    def __init__(
        self,
        factor: Any = None,
        bounding_box_format: str | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        rng_type = kwargs.pop("rng_type", None)
        kwargs.pop("force_generator", None)  # tf.keras BaseRandomLayer argument, without effect on torch's RNG
        keras3 = keras3_config(kwargs)
        super().__init__(**kwargs)
        #: whether ``get_config`` writes Keras 3's keys (``data_format``) or tf.keras's (``rng_type``)
        self._keras3 = bool(self._KERAS3_ONLY or keras3 or data_format is not None or bounding_box_format is not None)
        self._rng_type = rng_type
        self.bounding_box_format = bounding_box_format
        try:
            self.data_format = normalize_data_format(data_format)
        except ValueError as e:
            raise self._error(str(e)) from None
        if self._USE_BASE_FACTOR:
            self._set_factor(factor or 0.0)
        elif factor is not None:
            raise self._error(f"Layer {type(self).__name__} does not take a `factor` argument. Received: factor={factor}")
        self.input_spec = InputSpec(min_ndim=3, max_ndim=4, float_only=False)

    # ----- argument checks shared by the subclasses -----
    def _error(self, message: str) -> ValueError:
        """A ``ValueError`` naming the layer, with Keras's message after."""
        return ValueError(f'{type(self).__name__} layer "{self.name}": {message}')

    def _set_factor(self, factor: Any) -> None:
        """Keras's ``_set_factor``: a number ``f`` (in ``_FACTOR_BOUNDS``) means ``(max(-|f|, low), |f|)``,
        a pair is sorted; sets ``self.factor = (lower, upper)``."""
        low, high = self._FACTOR_BOUNDS
        message = (
            "The `factor` argument should be a number (or a list of two numbers) in the range "
            f"[{low}, {high}]. Received: factor={factor}"
        )
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or not all(_is_number(f) for f in factor):
                raise self._error(message)
            if factor[0] > high or factor[1] < low:
                raise self._error(message)
            lower, upper = sorted(factor)
        elif _is_number(factor):
            if factor < low or factor > high:
                raise self._error(message)
            factor = abs(factor)
            lower, upper = max(-factor, low), factor
        else:
            raise self._error(message)
        self.factor = (lower, upper)

    def _set_value_range(self, value_range: Any) -> None:
        """``value_range``: two numbers, ``low < high`` (Keras sorts a reversed pair; kerastorch refuses it, as a
        reversed range is a mistake that Keras would silently read the other way round)."""
        message = "The `value_range` argument should be a list of two numbers. "
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2 or not all(_is_number(v) for v in value_range):
            raise self._error(message + f"Received: value_range={value_range}")
        if not value_range[0] < value_range[1]:
            raise self._error(
                "The `value_range` argument must be increasing, (low, high) with low < high. "
                f"Received: value_range={value_range}"
            )
        self.value_range = list(value_range)

    def _check_choice(self, what: str, value: Any, allowed: Sequence[str]) -> str:
        """A string argument among ``allowed`` (``interpolation``, ``fill_mode``, ``mode``, ...)."""
        if not isinstance(value, str) or value not in allowed:
            raise self._error(f"Unknown `{what}` {value!r}. Expected one of {sorted(allowed)}. Received: {what}={value}")
        return value

    # ----- random draws -----
    def _generator(self, device: torch.device) -> torch.Generator | None:
        """This layer's generator on ``device`` when it has a ``seed`` (eager only), else None (torch's global one)."""
        seed = getattr(self, "seed", None)
        if seed is None or device.type == "meta" or torch.compiler.is_compiling() or torch.jit.is_tracing():
            return None
        generators = self.__dict__.setdefault("_kt_generators", {})
        key = str(device)
        generator = generators.get(key)
        if generator is None:
            generator = torch.Generator(device=device)
            generator.manual_seed(int(seed))
            generators[key] = generator
        return generator

    def _uniform(self, shape: Sequence[int], like: torch.Tensor, low: Any = 0.0, high: Any = 1.0) -> torch.Tensor:
        """Uniform float32 draws in ``[low, high)`` of ``shape`` on ``like``'s device (``low``/``high`` numbers or
        tensors); float32 whatever the images' dtype (Keras draws float32), so a seeded layer draws the same numbers
        for float32 and float64 images."""
        u = torch.rand(tuple(shape), generator=self._generator(like.device), device=like.device, dtype=torch.float32)
        if isinstance(low, torch.Tensor) or isinstance(high, torch.Tensor) or low != 0.0 or high != 1.0:
            u = low + (high - low) * u
        return u

    def _normal(self, shape: Sequence[int], like: torch.Tensor, mean: float = 0.0, stddev: float = 1.0) -> torch.Tensor:
        n = torch.randn(tuple(shape), generator=self._generator(like.device), device=like.device, dtype=torch.float32)
        return n * stddev + mean if (mean != 0.0 or stddev != 1.0) else n

    def _randint(self, shape: Sequence[int], like: torch.Tensor, low: int, high: int) -> torch.Tensor:
        """Integers in ``[low, high)`` (int64) on ``like``'s device."""
        return torch.randint(low, high, tuple(shape), generator=self._generator(like.device), device=like.device)

    # ----- layout helpers -----
    def _hw_axes(self, images: torch.Tensor) -> tuple[int, int]:
        """The (height, width) axes of a batched or unbatched image tensor in this layer's data format."""
        return (-3, -2) if self.data_format == "channels_last" else (-2, -1)

    def _image_size(self, images: torch.Tensor) -> tuple[int, int]:
        h_axis, w_axis = self._hw_axes(images)
        return int(images.shape[h_axis]), int(images.shape[w_axis])

    def _cast_images(self, images: torch.Tensor) -> torch.Tensor:
        """Keras's cast of the images to the compute dtype: integer and bool images become float32 (or the
        layer's explicit dtype); a floating input keeps its dtype."""
        if not images.dtype.is_floating_point:
            return images.to(self.compute_dtype)
        return images

    def _transform_value_range(self, images: torch.Tensor, original_range: Sequence[float], target_range: Sequence[float]) -> torch.Tensor:
        """Keras's ``_transform_value_range``: map ``original_range`` linearly onto ``target_range``."""
        if original_range[0] == target_range[0] and original_range[1] == target_range[1]:
            return images
        images = (images - original_range[0]) / (original_range[1] - original_range[0])
        return images * (target_range[1] - target_range[0]) + target_range[0]

    # ----- what subclasses provide (Keras 3's names) -----
    def get_random_transformation(self, data: Any, training: bool = True, seed: Any = None) -> Transformation:
        """One transformation for the call (``data``: the batched images, or the dict with them)."""
        return None

    def _transform_images(self, images: torch.Tensor, transformation: Transformation, interpolation: str) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement _transform_images")

    def transform_images(self, images: torch.Tensor, transformation: Transformation, training: bool = True) -> torch.Tensor:
        if training:
            images = self._transform_images(images, transformation, getattr(self, "interpolation", "bilinear"))
        return images

    def transform_labels(self, labels: torch.Tensor, transformation: Transformation, training: bool = True) -> torch.Tensor:
        raise self._error("does not take `labels` (kerastorch does not transform them for this layer).")

    def transform_bounding_boxes(self, bounding_boxes: dict, transformation: Transformation, training: bool = True) -> dict:
        raise self._error(
            "does not take `bounding_boxes`: kerastorch transforms boxes in Resizing, CenterCrop, RandomFlip, "
            "RandomTranslation, RandomZoom, RandomRotation, RandomShear, RandomPerspective and MaxNumBoundingBoxes (convert their format with "
            "image_preprocessing.bounding_boxes.convert_format)."
        )

    def transform_segmentation_masks(
        self, segmentation_masks: torch.Tensor, transformation: Transformation, training: bool = True
    ) -> torch.Tensor:
        """Keras's default: the image transform with nearest-neighbour sampling, in training."""
        if training:
            segmentation_masks = self._transform_images(segmentation_masks, transformation, "nearest")
        return segmentation_masks

    # ----- the call -----
    @staticmethod
    def _images_of(data: Any) -> torch.Tensor:
        return data["images"] if isinstance(data, dict) else data

    def _check_images(self, images: Any) -> None:
        if not isinstance(images, torch.Tensor):
            raise self._error(f"expects the images as a torch.Tensor. Received: {type(images).__name__}")
        if images.dim() not in (3, 4):
            raise self._error(
                "Expected image tensor to have rank 3 (single image) or 4 (batch of images). "
                f"Received: data.shape={tuple(images.shape)}"
            )

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        """torch's lazy-module hook: a dict input builds from its images."""
        if args and isinstance(args[0], dict):
            if "images" not in args[0]:
                raise self._error(f'expects a dict input to hold "images". Received keys: {sorted(args[0])}')
            self._check_images(args[0]["images"])
            args = (args[0]["images"], *args[1:])
        super().initialize_parameters(*args, **kwargs)

    def _prepare(self, inputs: Any) -> Any:
        if not isinstance(inputs, dict):
            return super()._prepare(inputs)
        # a dict of images and their annotations: the image checks and build; no fast-path key
        if "images" not in inputs:
            raise self._error(f'expects a dict input to hold "images". Received keys: {sorted(inputs)}')
        self._check_images(inputs["images"])
        if not self.built and self._weights_state() == "lazy":
            self.build(tuple(inputs["images"].shape))
        self._call_key = None
        return inputs

    def call(self, data: Any, training: bool = True) -> Any:
        if not isinstance(data, dict):
            images, batched = self._batch(data)
            transformation = self.get_random_transformation(images, training=training)
            out = self.transform_images(images, transformation, training=training)
            return out if batched else out.squeeze(0)
        return self._call_dict(data, training)

    def _batch(self, images: torch.Tensor) -> tuple[torch.Tensor, bool]:
        self._check_images(images)
        images = self._cast_images(images)
        return (images, True) if images.dim() == 4 else (images.unsqueeze(0), False)

    def _call_dict(self, data: dict, training: bool) -> dict:
        images, batched = self._batch(data["images"])
        out: dict[str, Any] = dict(data)
        out["images"] = images
        boxes = None
        if "bounding_boxes" in data:
            if not self.bounding_box_format:
                raise self._error(
                    "You passed an input with a 'bounding_boxes' key, but you didn't specify a bounding box format. "
                    f"Pass a `bounding_box_format` argument to your {type(self).__name__} layer, e.g. "
                    "`bounding_box_format='xyxy'`."
                )
            boxes = self._densify_boxes(data["bounding_boxes"], batched)
            out["bounding_boxes"] = boxes
        transformation = self.get_random_transformation(out, training=training)
        unbatch = (lambda t: t) if batched else (lambda t: t.squeeze(0))
        out["images"] = unbatch(self.transform_images(images, transformation, training=training))
        if boxes is not None:
            result = self.transform_bounding_boxes(boxes, transformation, training=training)
            out["bounding_boxes"] = {k: unbatch(v) if isinstance(v, torch.Tensor) else v for k, v in result.items()}
        if "labels" in data:
            labels = data["labels"] if batched else data["labels"].unsqueeze(0)
            out["labels"] = unbatch(self.transform_labels(labels, transformation, training=training))
        if "segmentation_masks" in data:
            masks = data["segmentation_masks"] if batched else data["segmentation_masks"].unsqueeze(0)
            out["segmentation_masks"] = unbatch(self.transform_segmentation_masks(masks, transformation, training=training))
        return out

    def _densify_boxes(self, bounding_boxes: Any, batched: bool) -> dict[str, torch.Tensor]:
        """``{"boxes": (B, N, 4), "labels": (B, N)}`` as float / int tensors (dense: kerastorch takes no ragged boxes)."""
        if not isinstance(bounding_boxes, dict) or "boxes" not in bounding_boxes or "labels" not in bounding_boxes:
            raise self._error('expects `bounding_boxes` as a dict with "boxes" and "labels".')
        boxes = torch.as_tensor(bounding_boxes["boxes"])
        labels = torch.as_tensor(bounding_boxes["labels"])
        if not boxes.dtype.is_floating_point:
            boxes = boxes.to(torch.float32)
        rank = 3 if batched else 2
        if boxes.dim() != rank or boxes.shape[-1] != 4 or tuple(labels.shape) != tuple(boxes.shape[:-1]):
            raise self._error(
                f"expects `bounding_boxes['boxes']` of shape {'(batch, num_boxes, 4)' if batched else '(num_boxes, 4)'} "
                f"and `labels` of shape {'(batch, num_boxes)' if batched else '(num_boxes,)'}. Received: boxes "
                f"{tuple(boxes.shape)}, labels {tuple(labels.shape)}"
            )
        out = {**bounding_boxes, "boxes": boxes, "labels": labels}
        if not batched:
            out["boxes"], out["labels"] = boxes.unsqueeze(0), labels.unsqueeze(0)
        return out

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return tuple(input_shape)

    # ----- config -----
    def get_config(self) -> dict[str, Any]:
        """Keras 3's keys (``data_format``, ``bounding_box_format`` when set) for a Keras 3 layer, tf.keras's
        (``rng_type`` for its random layers) for a tf.keras one."""
        config = super().get_config()
        if self._keras3:
            config["data_format"] = self.data_format
            if self.bounding_box_format is not None:
                config["bounding_box_format"] = self.bounding_box_format
        elif self._TF_KERAS_RANDOM:
            config["rng_type"] = self._rng_type or "stateful"
        return config

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}"]
        for key, value in self.get_config().items():
            if key not in ("name", "trainable", "dtype", "rng_type", "data_format") and value is not None:
                parts.append(f"{key}={value!r}")
        if self.data_format != "channels_last":
            parts.append(f"data_format={self.data_format!r}")
        return ", ".join(parts + self._repr_common())
