"""The teacher, handled in one place: built, loaded on CPU, frozen."""
import logging
import os.path as osp
from typing import Union

import torch
import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

from ..utils.checkpoint import (STUDENT_PREFIX, get_state_dict, is_url,
                                load_checkpoint_file)


def teacher_model_cfg(teacher: Union[str, dict, Config]) -> ConfigDict:
    """The teacher's model config from a config file, an ``mmdet::`` path,
    a full config or a model dict."""
    from .distillers.utils import model_cfg
    return model_cfg(teacher, 'teacher')


# The keys of a ReconstructionTeacher's decoder in its checkpoints.
DECODER = 'decoder.'


def on_this_machine(ckpt) -> bool:
    """Whether ``ckpt`` names a path that exists here (not a URL): the
    teacher loads from it at build time, or fails with a clear error."""
    return (isinstance(ckpt, str) and not is_url(ckpt)
            and osp.exists(osp.expanduser(ckpt)))


def load_teacher_weights(teacher: nn.Module, ckpt: str,
                         decoder: bool = False) -> None:
    """Load ``ckpt`` into ``teacher``; every key must match. ``decoder``:
    the checkpoint is a ReconstructionTeacher's, whose ``decoder.*`` must
    be there (and are not loaded: the teacher is the plain model)."""
    if ckpt is None:
        raise ValueError(
            'teacher_ckpt is required: a teacher without trained weights '
            'teaches noise. Train the teacher with tools/train.py on its own '
            'config and set teacher_ckpt to the resulting .pth file.')
    state = get_state_dict(load_checkpoint_file(ckpt, 'teacher_ckpt'))
    if decoder:
        if not any(k.startswith(DECODER) for k in state):
            raise RuntimeError(
                f'teacher_ckpt {ckpt!r} has no decoder.* weights: its '
                'teacher was trained without a reconstruction decoder, so it '
                'has no complementary features to transfer. Train the '
                'teacher with type=\'ReconstructionTeacher\' (configs/'
                'complementary/README.md) and use that checkpoint.')
        state = {k: v for k, v in state.items()
                 if not k.startswith(DECODER)}
    own = teacher.state_dict()
    if (any(k.startswith(STUDENT_PREFIX) for k in state)
            and not any(k.startswith(STUDENT_PREFIX) for k in own)):
        raise RuntimeError(
            f'teacher_ckpt {ckpt!r} is a distillation checkpoint (its '
            'weights are student.*, adapter.*, ...), not a plain model. '
            'Export its student first: python tools/model_converters/'
            f'export_student.py {ckpt} teacher.pth, then set '
            'teacher_ckpt=teacher.pth (and teacher= that student\'s '
            'config).')
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


def build_teacher(teacher: Union[str, dict, Config]) -> nn.Module:
    """Build the teacher frozen; :func:`load_teacher_weights` loads its
    checkpoint (on CPU), when the distiller asks for it.

    The returned model is in eval mode with ``requires_grad=False``
    everywhere. Its ``init_weights`` is never called (the distiller keeps it
    outside its module tree), so the loaded weights cannot be overwritten.
    """
    from .distillers.utils import build_model
    model = build_model(teacher_model_cfg(teacher))
    model.requires_grad_(False)
    return model.eval()


def warn_if_preprocessors_differ(student: nn.Module, teacher: nn.Module
                                 ) -> None:
    """Both models see the student's preprocessed batch; say so when
    the teacher was trained with other normalisation."""
    s, t = student.data_preprocessor, teacher.data_preprocessor
    diffs = []
    for name in ('mean', 'std'):
        a, b = getattr(s, name, None), getattr(t, name, None)
        if (a is None) != (b is None) or (a is not None and (
                a.shape != b.shape
                or not torch.allclose(a.float(), b.float()))):
            diffs.append(name)
    if (getattr(s, '_channel_conversion', None) != getattr(
            t, '_channel_conversion', None)):
        diffs.append('bgr_to_rgb')
    if diffs:
        print_log(
            f'The teacher\'s data_preprocessor differs from the '
            f'student\'s in {", ".join(diffs)}. Both models are fed '
            'the batch as the student\'s preprocessor makes it; train '
            'the teacher with the same normalisation for best results.',
            logger='current',
            level=logging.WARNING)
