"""Levels: the maps two models can distil, found by one probe forward,
and the pairing of the student's levels with the teacher's."""
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..tasks import evaluating


def feature_strides(feats: Sequence[torch.Tensor], size: int) -> List[int]:
    """Stride of each map of a probe forward on a ``size`` image."""
    return [round(size / f.shape[-1]) for f in feats]


@torch.no_grad()
def probe_maps(task, models: Dict[str, nn.Module], size: int) -> List:
    """The distillable maps of each model (named for messages) for a blank
    ``size`` image, in eval mode, so BN statistics are untouched."""
    image, found = torch.zeros(1, 3, size, size), []
    for name, model in models.items():
        with evaluating(model):
            found.append(task.maps(model, image))
        if not found[-1]:
            raise ValueError(
                f'The {name}\'s {task.part} outputs no feature maps '
                '(N, C, H, W) (a transformer outputs tokens): distil a '
                'convolutional model.')
    return found


def resized(maps: Sequence[torch.Tensor], sizes) -> List[torch.Tensor]:
    """Each map bilinearly resized to its ``(H, W)`` where it differs."""
    return [m if tuple(m.shape[-2:]) == tuple(s) else F.interpolate(
        m, size=s, mode='bilinear', align_corners=False)
        for m, s in zip(maps, sizes)]


def pair_levels(s_strides: List[int], t_strides: List[int], by: str,
                task) -> List[Tuple[int, int]]:
    """Pair student and teacher levels (neck levels, backbone stages).

    ``'stride'``: each student level with the teacher level of the same
    stride; a level without one is not distilled. ``'index'``: level k with
    level k (equal counts; a stride difference is resized away).
    """
    part, unit, name = task.part, task.unit, task.maps_name
    if by not in ('stride', 'index'):
        raise ValueError(f"match_levels must be 'stride' or 'index', got "
                         f'{by!r}')
    if by == 'index':
        if len(s_strides) != len(t_strides):
            raise ValueError(
                "match_levels='index' pairs level k with level k, but the "
                f"student's {part} has {len(s_strides)} {unit} (strides "
                f"{s_strides}) and the teacher's {len(t_strides)} (strides "
                f"{t_strides}). Use match_levels='stride'.")
        return list(zip(range(len(s_strides)), range(len(t_strides))))
    pairs = [(i, t_strides.index(s)) for i, s in enumerate(s_strides)
             if s in t_strides]
    if not pairs:
        raise ValueError(
            f'{name} cannot be matched: the student\'s {part} has '
            f'{len(s_strides)} {unit} with strides {s_strides}, the '
            f'teacher\'s {len(t_strides)} with strides {t_strides}, and no '
            f'stride is in both. Give the models {unit} of the same '
            "strides, or set match_levels='index' to pair level k with "
            'level k, resized.')
    return pairs
