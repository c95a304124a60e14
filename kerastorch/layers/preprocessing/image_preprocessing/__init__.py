"""Keras's image preprocessing and augmentation layers (Keras 3 ``layers/preprocessing/image_preprocessing``)."""
from .base import BaseImagePreprocessingLayer
from .center_crop import CenterCrop
from .max_num_bounding_boxes import MaxNumBoundingBoxes
from .pipeline import Pipeline
from .random_crop import RandomCrop
from .random_elastic_transform import RandomElasticTransform
from .random_flip import RandomFlip
from .random_perspective import RandomPerspective
from .random_rotation import RandomRotation
from .random_shear import RandomShear
from .random_translation import RandomTranslation
from .random_zoom import RandomZoom
from .resizing import Resizing

__all__: list[str] = [
    "CenterCrop",
    "MaxNumBoundingBoxes",
    "Pipeline",
    "RandomCrop",
    "RandomElasticTransform",
    "RandomFlip",
    "RandomPerspective",
    "RandomRotation",
    "RandomShear",
    "RandomTranslation",
    "RandomZoom",
    "Resizing",
]

# colour and mixing layers
from .aug_mix import AugMix
from .auto_contrast import AutoContrast
from .clahe import ContrastLimitedAdaptiveHistogramEqualization
from .cut_mix import CutMix
from .equalization import Equalization
from .mix_up import MixUp
from .rand_augment import RandAugment
from .random_brightness import RandomBrightness
from .random_color_degeneration import RandomColorDegeneration
from .random_color_jitter import RandomColorJitter
from .random_contrast import RandomContrast
from .random_erasing import RandomErasing
from .random_gaussian_blur import RandomGaussianBlur
from .random_grayscale import RandomGrayscale
from .random_hue import RandomHue
from .random_invert import RandomInvert
from .random_posterization import RandomPosterization
from .random_saturation import RandomSaturation
from .random_sharpness import RandomSharpness
from .solarization import Solarization

__all__ += [
    "AugMix", "AutoContrast", "ContrastLimitedAdaptiveHistogramEqualization", "CutMix", "Equalization", "MixUp",
    "RandomBrightness", "RandomColorDegeneration", "RandomColorJitter", "RandomContrast", "RandomErasing",
    "RandomGaussianBlur", "RandomGrayscale", "RandomHue", "RandomInvert", "RandomPosterization", "RandomSaturation",
    "RandomSharpness", "RandAugment", "Solarization",
]
