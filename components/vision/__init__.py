"""Image CNNs on the shared torch training core (`components.models.training`).

The `image-cnn` task (`components.vision.task.ImageCnnTask`) trains Conv → ReLU → Pool
blocks, Flatten → Dense → Dropout → Softmax on images held as pixel columns of table rows
(the `table` reader, e.g. `dataset: sklearn:digits`). Modules: `settings` (the config
schema, no torch), `shapes` (every layer's output size and parameters, checked before
training), `network` (the `nn.Module`), `augment` (shifts, rotations, noise; the batcher),
`transfer` (conv blocks from a fitted task), `pixels` (documents to arrays), `outputs`.
Importing this package imports nothing heavy.
"""

from __future__ import annotations

__all__ = ["augment", "network", "pixels", "settings", "shapes", "task", "transfer"]
