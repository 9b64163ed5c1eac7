"""Shape arithmetic against real PyTorch layers; shapes that do not fit are caught before training."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from components.models.networks import TextCNN
from components.models.training.conv import (
    ConvBlock,
    ConvShapeError,
    conv_output_size,
    plan_conv_block,
)
from components.vision.network import ImageCnn
from components.vision.settings import BlockSettings
from components.vision.shapes import plan_network
from components.vision.task import ImageCnnTask
from pipeline.config import ConfigError

# (input size, kernel, padding, stride): tiling and non-tiling strides, same and valid
CONV_CASES = [
    (n, f, p, s)
    for n, f, p, s in itertools.product(
        (5, 7, 8, 12, 28), (1, 2, 3, 5), ("same", "valid", 0, 1, 2), (1, 2, 3)
    )
    if not (p == "same" and f % 2 == 0)
]


def _torch_padding(p, f):
    return {"same": (f - 1) // 2, "valid": 0}.get(p, p)


@pytest.mark.parametrize(("n", "f", "p", "s"), CONV_CASES)
def test_conv_output_size_matches_conv2d_where_the_plan_accepts(n, f, p, s):
    pad = _torch_padding(p, f)
    exact = conv_output_size(n, f, pad, s)
    real_fits = n + 2 * pad >= f
    try:
        plan = plan_conv_block((n, n + 1), kernel=f, stride=s, padding=p, pool="none")
    except ConvShapeError as exc:
        # refused: the window does not fit, or real (not padding) pixels would be dropped
        leftover = (n + 2 * pad - f) % s if real_fits else 0
        leftover_w = (n + 1 + 2 * pad - f) % s if real_fits else 0
        assert (not real_fits and exc.key == "kernel") or (
            exc.key == "stride" and max(leftover, leftover_w) > pad
        )
        return
    out = nn.Conv2d(1, 2, f, stride=s, padding=pad)(torch.zeros(1, 1, n, n + 1))
    assert plan[0].size == tuple(out.shape[2:])
    assert plan[0].exact[0] == pytest.approx(exact)
    if exact == int(exact):
        assert plan[0].size[0] == exact


@pytest.mark.parametrize(
    ("n", "pool", "size", "stride"),
    [
        (n, pool, k, st)
        for n in (3, 4, 7, 8, 9)
        for pool in ("max", "avg")
        for k in (2, 3)
        for st in (None, 1, 2)
    ],
)
def test_pool_sizes_match_pytorch_and_report_what_a_floor_drops(n, pool, size, stride):
    if n < size:
        with pytest.raises(ConvShapeError) as err:
            plan_conv_block(
                (n, n), kernel=1, padding="valid", pool=pool, pool_size=size, pool_stride=stride
            )
        assert err.value.key == "pool_size"
        return
    plan = plan_conv_block(
        (n, n), kernel=1, padding="valid", pool=pool, pool_size=size, pool_stride=stride
    )
    layer = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}[pool](size, stride=stride or size)
    out = layer(torch.zeros(1, 1, n, n))
    assert plan[1].size == tuple(out.shape[2:])
    step = stride or size
    assert plan[1].dropped == ((n - size) % step,) * 2


@pytest.mark.parametrize(
    "blocks",
    [
        [BlockSettings(filters=4), BlockSettings(filters=6)],
        [
            BlockSettings(filters=4, kernel=5, padding="valid", pool="none"),
            BlockSettings(filters=3, pool="avg"),
        ],
        [
            BlockSettings(
                filters=5, kernel=3, stride=2, padding=1, pool="max", pool_size=3, pool_stride=1
            )
        ],
        [
            BlockSettings(filters=2, kernel=2, padding="valid", pool="avg", pool_size=2),
            BlockSettings(filters=3, kernel=1),
        ],
    ],
)
@pytest.mark.parametrize("input_shape", [(1, 8, 8), (3, 13, 10), (2, 28, 28)])
def test_plan_matches_every_layer_of_the_real_network(blocks, input_shape):
    try:
        rows = plan_network(input_shape, blocks, (7,), 4, where="tasks.t")
    except ConfigError:
        pytest.skip("this combination does not fit (covered by the error tests)")
    flatten = next(r for r in rows if r.layer == "flatten")
    net = ImageCnn(input_shape[0], blocks, flatten.output[0], dense=(7,), num_classes=4)
    x = torch.zeros(2, *input_shape)
    shapes = []
    for block in net.features:
        conv = block.activation(block.conv(x))
        shapes.append(tuple(conv.shape[1:]))
        x = block.pool(conv)
        if not isinstance(block.pool, nn.Identity):
            shapes.append(tuple(x.shape[1:]))
    planned = [r.output for r in rows if r.layer.startswith("blocks")]
    assert planned == shapes
    assert net(torch.zeros(2, *input_shape)).shape == (2, 4)
    assert sum(r.parameters for r in rows) == sum(p.numel() for p in net.parameters())


def test_a_kernel_that_does_not_fit_names_the_layer_and_the_sizes():
    blocks = [
        BlockSettings(filters=8),
        BlockSettings(filters=8),
        BlockSettings(filters=8, kernel=5, padding="valid"),
    ]
    with pytest.raises(ConfigError) as err:
        plan_network((1, 8, 8), blocks, (16,), 10, where="tasks.digits")
    message = str(err.value)
    assert message.startswith("tasks.digits.blocks[2].kernel:")
    assert "8×2×2" in message and "5" in message  # the block's input and the kernel


def test_a_stride_that_skips_real_pixels_is_refused_and_one_that_skips_padding_is_not():
    with pytest.raises(ConvShapeError) as err:
        plan_conv_block((8, 8), kernel=3, stride=2, padding="valid", pool="none")  # (8-3)/2+1 = 3.5
    assert err.value.key == "stride" and "3.5" in str(err.value)
    # 'same' padding: (8 - 3 + 2)/2 + 1 = 4.5; the floor drops only a padding column
    assert plan_conv_block((8, 8), kernel=3, stride=2, padding="same", pool="none")[0].size == (
        4,
        4,
    )


def test_task_refuses_a_shape_before_reading_or_training(tmp_path):
    class Untouchable:
        def __iter__(self):
            raise AssertionError("the corpus was read before the shapes were checked")

    task = ImageCnnTask(
        blocks=({"filters": 4}, {"filters": 4}, {"filters": 4}, {"filters": 4, "pool_size": 2}),
    )
    folder = tmp_path / "tasks" / "digits"
    folder.mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"^tasks\.digits\.blocks\[3\]\.pool_size:"):
        task.fit(Untouchable(), folder)
    assert list(folder.iterdir()) == []


def test_text_cnn_uses_the_shared_block_and_loads_weights_saved_under_the_old_names():
    torch.manual_seed(0)
    net = TextCNN(30, 8, filter_sizes=(2, 3), num_filters=4, num_classes=3).eval()
    assert all(isinstance(block, ConvBlock) for block in net.encoder)
    old_names = {k.replace(".conv.", "."): v for k, v in net.state_dict().items()}
    assert "encoder.0.weight" in old_names
    reloaded = TextCNN(30, 8, filter_sizes=(2, 3), num_filters=4, num_classes=3).eval()
    reloaded.load_state_dict(old_names)
    ids, lengths = torch.randint(1, 30, (2, 9)), torch.tensor([9, 4])
    assert torch.equal(net(ids, lengths), reloaded(ids, lengths))


def test_conv_block_1d_is_conv_relu_pool():
    block = ConvBlock(3, 5, 3, dims=1, padding="same", pool="max", pool_size=2)
    x = torch.randn(2, 3, 10)
    expected = nn.functional.max_pool1d(torch.relu(block.conv(x)), 2)
    assert torch.equal(block(x), expected)
    assert plan_conv_block((10,), kernel=3, padding="same", pool="max")[1].size == (5,)
