"""The complementary-feature teacher (Zhang et al., ICONIP 2020): a plain
classifier or detector trained with an auxiliary reconstruction decoder,
so its features are discriminative and generative at once."""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel

from mmkd.registry import MODELS
from ..distillers.utils import build_model, model_cfg
from ..tasks import evaluating, task_of
from ..teacher import DECODER


@MODELS.register_module()
class ReconstructionDecoder(nn.Module):
    """A map of stride ``s`` to an image: a 1x1 conv, then log2(s) times
    (2x nearest upsampling, 3x3 conv, BN, ReLU), halving the width down to
    ``min_channels``, and a 3x3 conv to 3 channels.

    Args:
        in_channels (int): The map's channels; inferred.
        stride (int): The map's stride (a power of 2); inferred.
        channels (int): Width after the 1x1 conv. Defaults to 64.
        min_channels (int): Defaults to 16.
    """

    def __init__(self, in_channels: int, stride: int, channels: int = 64,
                 min_channels: int = 16):
        super().__init__()
        layers = [nn.Conv2d(in_channels, channels, 1)]
        for _ in range(round(math.log2(max(stride, 1)))):
            out = max(channels // 2, min_channels)
            layers += [nn.Upsample(scale_factor=2, mode='nearest'),
                       nn.Conv2d(channels, out, 3, padding=1),
                       nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            channels = out
        layers.append(nn.Conv2d(channels, 3, 3, padding=1))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, size) -> torch.Tensor:
        x = self.layers(x)
        if tuple(x.shape[-2:]) != tuple(size):
            x = F.interpolate(x, size=size, mode='bilinear',
                              align_corners=False)
        return x


def _strip(module, state_dict, prefix, local_metadata):
    """State-dict hook: the model's keys as the plain model has them (no
    ``model.``), the decoder's under ``decoder.``."""
    inner = f'{prefix}model.'
    for key in [k for k in state_dict if k.startswith(inner)]:
        state_dict[prefix + key[len(inner):]] = state_dict.pop(key)
    return state_dict


@MODELS.register_module()
class ReconstructionTeacher(BaseModel):
    """A classifier or detector plus a reconstruction decoder on one of its
    maps (a backbone stage of a classifier, a neck level of a detector; the
    last by default), trained with ``task + w_rec * ||x_hat - x||^2`` on the
    preprocessed image. Prediction is the model's own.

    Its checkpoints hold the plain model's keys plus ``decoder.*``: the
    plain toolbox loads them with its own config (the decoder is reported
    as unexpected and ignored), and a complementary student
    (``ComplementaryDistiller``) loads them as its teacher.

    Args:
        model (str | dict): The classifier's or detector's config.
        decoder (dict): ``ReconstructionDecoder``; channels and stride
            inferred.
        level (int): The map the decoder reconstructs from. Defaults to -1.
        w_rec (float): Weight of the reconstruction loss. Defaults to 1.0.
        probe_size (int, optional): Side of the blank image whose forward
            infers the decoder's channels and stride (256 for detectors,
            64 for classifiers by default).
    """

    def __init__(self, model, decoder: dict = dict(
            type='ReconstructionDecoder'), level: int = -1,
                 w_rec: float = 1.0, probe_size: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        model = model_cfg(model, 'model')
        if data_preprocessor is not None:
            model.setdefault('data_preprocessor', data_preprocessor)
        model = build_model(model)
        super().__init__(data_preprocessor=model.data_preprocessor,
                         init_cfg=init_cfg)
        self.model, self.w_rec = model, float(w_rec)
        self.task = task_of(model, model)
        self.task.watch_student(kd=False)
        size = probe_size or self.task.probe_size
        with evaluating(model), torch.no_grad():
            maps = self.task.maps(model, torch.zeros(1, 3, size, size))
        if not -len(maps) <= level < len(maps):
            raise ValueError(
                f"level={level}: the model's {self.task.part} has "
                f'{len(maps)} {self.task.unit} ({-len(maps)}-{len(maps) - 1}'
                '); put the decoder on one of them.')
        self.level = level % len(maps)
        self.decoder = MODELS.build(dict(
            decoder, in_channels=maps[self.level].shape[1],
            stride=round(size / maps[self.level].shape[-1])))
        self._register_state_dict_hook(_strip)
        self._register_load_state_dict_pre_hook(self._add_prefix)

    def _add_prefix(self, state_dict, prefix, *args) -> None:
        for key in [k for k in state_dict if k.startswith(prefix)]:
            rest = key[len(prefix):]
            if not rest.startswith((DECODER, 'model.', 'data_preprocessor.')):
                state_dict[f'{prefix}model.{rest}'] = state_dict.pop(key)

    def loss(self, inputs: torch.Tensor, data_samples) -> dict:
        with self.task.recording() as records:
            losses = self.model.loss(inputs, data_samples)
            feat = self.task.features(records).maps[self.level]
        x_hat = self.decoder(feat, inputs.shape[-2:])
        losses['loss_rec'] = self.w_rec * F.mse_loss(x_hat, inputs)
        return losses

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        return self.model(inputs, data_samples, mode=mode)
