"""The CIFAR backbones of the distillation literature, for MMPretrain.

Architectures and parameter counts as the common reference implementation
(CRD / RepDistiller, https://github.com/HobbitLong/RepDistiller): ResNet-8/
20/32/56/110 and 8x4/32x4, WRN-d-w, VGG-8/13 (with BN). Each outputs the
maps of its stages (``out_indices``, the last by default) for MMPretrain's
``GlobalAveragePooling`` neck and ``LinearClsHead``; its stages are listed
in ``res_layers``, which mmkd's classification adapter reads.
"""
from typing import Sequence, Union

import torch.nn as nn
from mmengine.model import BaseModule

from mmkd.registry import MODELS


def conv3x3(c_in, c_out, stride=1, bias=False):
    return nn.Conv2d(c_in, c_out, 3, stride, padding=1, bias=bias)


class _StagedBackbone(BaseModule):
    """Stem, then the stages named in ``res_layers``; a tuple of the maps of
    ``out_indices``, after ``post`` (the final BN-ReLU of pre-activation
    nets) on the last stage."""

    def __init__(self, out_indices, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.out_indices = out_indices
        self.res_layers = []

    def _finish(self, stages, post=None):
        n = len(stages)
        for i, stage in enumerate(stages):
            name = f'layer{i + 1}'
            self.add_module(name, stage)
            self.res_layers.append(name)
        self.post = post or nn.Identity()
        self.out_indices = tuple(i + n if i < 0 else i
                                 for i in self.out_indices)
        if any(not 0 <= i < n for i in self.out_indices):
            raise ValueError(f'out_indices {self.out_indices}: this backbone '
                             f'has {n} stages')

    def forward(self, x):
        x = self.stem(x)
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i == len(self.res_layers) - 1:
                x = self.post(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(c_in, c_out, stride), nn.BatchNorm2d(
            c_out)
        self.conv2, self.bn2 = conv3x3(c_out, c_out), nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


@MODELS.register_module()
class CIFARResNet(_StagedBackbone):
    """CIFAR ResNet: 3x3 stem, three stages of basic blocks (strides 1, 2,
    2), ``(depth - 2) / 6`` blocks each.

    Args:
        depth (int): 8, 20, 32, 44, 56, 110 (any ``6n + 2``).
        widths (str | Sequence[int]): ``'x1'`` (16, 16, 32, 64), ``'x4'``
            (32, 64, 128, 256: ResNet-8x4/32x4), or stem + three widths.
        out_indices (Sequence[int]): Stages to output. Defaults to (-1,).
    """
    WIDTHS = dict(x1=(16, 16, 32, 64), x4=(32, 64, 128, 256))

    def __init__(self, depth: int = 20,
                 widths: Union[str, Sequence[int]] = 'x1',
                 out_indices: Sequence[int] = (-1, ), init_cfg=None):
        super().__init__(out_indices, init_cfg)
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f'CIFARResNet: depth must be 6n + 2 (8, 20, 32, '
                             f'56, 110), got {depth}')
        widths = self.WIDTHS[widths] if isinstance(widths, str) else widths
        self.stem = nn.Sequential(conv3x3(3, widths[0]),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(True))
        stages, c_in = [], widths[0]
        for i, c in enumerate(widths[1:]):
            blocks = []
            for j in range((depth - 2) // 6):
                blocks.append(BasicBlock(c_in, c, 2 if i and not j else 1))
                c_in = c
            stages.append(nn.Sequential(*blocks))
        self._finish(stages)


class WideBlock(nn.Module):
    """Pre-activation block of WRN (BN-ReLU-conv x 2, 1x1 shortcut)."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(c_in), conv3x3(c_in, c_out,
                                                             stride)
        self.bn2, self.conv2 = nn.BatchNorm2d(c_out), conv3x3(c_out, c_out)
        self.relu = nn.ReLU(inplace=False)
        self.shortcut = None if c_in == c_out else nn.Conv2d(
            c_in, c_out, 1, stride, bias=False)

    def forward(self, x):
        pre = self.relu(self.bn1(x))
        out = self.conv2(self.relu(self.bn2(self.conv1(pre))))
        return out + (x if self.shortcut is None else self.shortcut(pre))


@MODELS.register_module()
class CIFARWideResNet(_StagedBackbone):
    """Wide ResNet (Zagoruyko & Komodakis, 2016) WRN-depth-widen_factor:
    three stages of ``(depth - 4) / 6`` pre-activation blocks, widths
    16k, 32k, 64k; the last stage's output after the final BN-ReLU.

    Args:
        depth (int): 16, 28, 40 (any ``6n + 4``).
        widen_factor (int): k.
        out_indices (Sequence[int]): Defaults to (-1,).
    """

    def __init__(self, depth: int = 16, widen_factor: int = 2,
                 out_indices: Sequence[int] = (-1, ), init_cfg=None):
        super().__init__(out_indices, init_cfg)
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f'CIFARWideResNet: depth must be 6n + 4 (16, '
                             f'40), got {depth}')
        self.stem = conv3x3(3, 16)
        stages, c_in = [], 16
        for i, c in enumerate(w * widen_factor for w in (16, 32, 64)):
            blocks = []
            for j in range((depth - 4) // 6):
                blocks.append(WideBlock(c_in, c, 2 if i and not j else 1))
                c_in = c
            stages.append(nn.Sequential(*blocks))
        self._finish(stages, nn.Sequential(nn.BatchNorm2d(c_in),
                                           nn.ReLU(True)))


class VGGStage(nn.Module):
    """Max-pool (every stage but the first; the last only on maps larger
    than 4x4, i.e. not on 32-px CIFAR images, as the reference code does),
    then conv-BN-ReLU layers."""

    def __init__(self, c_in, widths, pool):
        super().__init__()
        self.pool = nn.MaxPool2d(2, 2) if pool else None
        self.only_large = pool == 'large'
        layers = []
        for c in widths:
            layers += [conv3x3(c_in, c, bias=True), nn.BatchNorm2d(c),
                       nn.ReLU(True)]
            c_in = c
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        if self.pool is not None and not (self.only_large
                                          and x.shape[-1] <= 4):
            x = self.pool(x)
        return self.layers(x)


@MODELS.register_module()
class CIFARVGG(_StagedBackbone):
    """VGG with BN for CIFAR: five stages of 3x3 conv-BN-ReLU (VGG-8: one
    conv per stage; VGG-13: two), 64-128-256-512-512 wide.

    Args:
        depth (int): 8, 11 or 13.
        out_indices (Sequence[int]): Defaults to (-1,).
    """
    ARCHS = {8: [[64], [128], [256], [512], [512]],
             11: [[64], [128], [256, 256], [512, 512], [512, 512]],
             13: [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]]}

    def __init__(self, depth: int = 8, out_indices: Sequence[int] = (-1, ),
                 init_cfg=None):
        super().__init__(out_indices, init_cfg)
        if depth not in self.ARCHS:
            raise ValueError(f'CIFARVGG: depth must be one of '
                             f'{sorted(self.ARCHS)}, got {depth}')
        self.stem = nn.Identity()
        stages, c_in = [], 3
        for i, widths in enumerate(self.ARCHS[depth]):
            stages.append(VGGStage(c_in, widths,
                                   {0: False, 4: 'large'}.get(i, True)))
            c_in = widths[-1]
        self._finish(stages)
