"""The teacher, handled in one place: built, loaded on CPU, frozen."""
import os.path as osp
from typing import Optional, Union

import torch.nn as nn
from mmdet.registry import MODELS
from mmengine.config import Config, ConfigDict
from mmengine.hub import get_config

from ..utils.checkpoint import get_state_dict, load_checkpoint_file


def teacher_model_cfg(teacher: Union[str, dict, Config]) -> ConfigDict:
    """The teacher's model config from a config file, an ``mmdet::`` path,
    a full config or a model dict."""
    if isinstance(teacher, str):
        if '::' not in teacher and not osp.isfile(teacher):
            raise FileNotFoundError(
                f'teacher config {teacher!r} does not exist (give a config '
                "file, an 'mmdet::' path or a model dict).")
        teacher = (get_config(teacher)
                   if '::' in teacher else Config.fromfile(teacher))
    if isinstance(teacher, Config) or 'model' in teacher:
        teacher = teacher['model']
    if 'type' not in teacher:
        raise ValueError('teacher must be a config file, an mmdet:: path or '
                         f"a model dict with a 'type'; got {teacher}")
    return ConfigDict(teacher)


def load_teacher_weights(teacher: nn.Module, ckpt: str) -> None:
    """Load ``ckpt`` into ``teacher``; every key must match."""
    if ckpt is None:
        raise ValueError(
            'teacher_ckpt is required: a teacher without trained weights '
            'teaches noise. Train the teacher with tools/train.py on its own '
            'config and set teacher_ckpt to the resulting .pth file.')
    state = get_state_dict(load_checkpoint_file(ckpt, 'teacher_ckpt'))
    own = teacher.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    mismatched = sorted(k for k in set(own) & set(state)
                        if own[k].shape != state[k].shape)
    if missing or unexpected or mismatched:

        def few(keys):
            return ', '.join(keys[:5]) + (' ...' if len(keys) > 5 else '')

        raise RuntimeError(
            f'teacher_ckpt {ckpt!r} does not match the teacher config: '
            f'{len(missing)} missing keys ({few(missing)}), '
            f'{len(unexpected)} unexpected keys ({few(unexpected)}), '
            f'{len(mismatched)} keys with other shapes ({few(mismatched)}). '
            'Check that teacher= is the config the checkpoint was trained '
            'with.')
    teacher.load_state_dict(state, strict=True)


def build_teacher(teacher: Union[str, dict, Config],
                  teacher_ckpt: Optional[str]) -> nn.Module:
    """Build the teacher, load its checkpoint on CPU and freeze it.

    The returned model is in eval mode with ``requires_grad=False``
    everywhere. Its ``init_weights`` is never called (the distiller keeps it
    outside its module tree), so the loaded weights cannot be overwritten.
    """
    model = MODELS.build(teacher_model_cfg(teacher))
    load_teacher_weights(model, teacher_ckpt)
    model.requires_grad_(False)
    return model.eval()
