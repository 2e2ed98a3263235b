"""An EfficientNet-Lite0-shaped network (random weights) exported as an ``image-classifier`` artifact.

Serving speed depends on the graph's shape, not its weights: this has Lite0's stem, its seven
stages of MBConv blocks (expansion, depthwise 3x3/5x5, projection, ReLU6, no squeeze-excitation)
and its 1280-wide head, about 0.4 GFLOPs per 224x224 picture. Used by the serving benchmark when
no trained export is at hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# (expansion, output channels, repeats, first stride, kernel) per stage, as in EfficientNet-Lite0
STAGES = ((1, 16, 1, 1, 3), (6, 24, 2, 2, 3), (6, 40, 2, 2, 5), (6, 80, 3, 2, 3), (6, 112, 3, 1, 5),
          (6, 192, 4, 2, 5), (6, 320, 1, 1, 3))


def network(n_labels: int) -> Any:
    import torch
    from torch import nn

    def conv(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
        layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                                   nn.BatchNorm2d(cout)]
        return nn.Sequential(*layers, nn.ReLU6()) if act else nn.Sequential(*layers)

    class MBConv(nn.Module):
        def __init__(self, cin: int, cout: int, expand: int, stride: int, k: int) -> None:
            super().__init__()
            mid = cin * expand
            parts = [conv(cin, mid, 1)] if expand != 1 else []
            parts += [conv(mid, mid, k, stride, groups=mid), conv(mid, cout, 1, act=False)]
            self.body = nn.Sequential(*parts)
            self.skip = stride == 1 and cin == cout

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.body(x) if self.skip else self.body(x)

    blocks: list[nn.Module] = [conv(3, 32, 3, 2)]
    cin = 32
    for expand, cout, repeats, stride, k in STAGES:
        for i in range(repeats):
            blocks.append(MBConv(cin, cout, expand, stride if i == 0 else 1, k))
            cin = cout
    blocks += [conv(cin, 1280, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, n_labels),
               nn.Softmax(dim=1)]
    return nn.Sequential(*blocks).eval()


def export(path: Path, labels: tuple[str, ...]) -> Path:
    import io

    import onnx
    import torch

    from limelight.vision.manifest import ImageClassifierManifest, attach

    torch.manual_seed(0)
    buffer = io.BytesIO()
    torch.onnx.export(network(len(labels)), (torch.zeros(1, 3, 224, 224),), buffer, input_names=["pixels"],
                      output_names=["probabilities"], dynamic_axes={"pixels": {0: "n"}, "probabilities": {0: "n"}},
                      opset_version=17, dynamo=False)
    model = onnx.load_model_from_string(buffer.getvalue())
    attach(model, ImageClassifierManifest(labels=labels, architecture="efficientnet-lite0"))
    path.write_bytes(model.SerializeToString())
    return path
