import logging
from typing import Dict, Optional, Union

import torch
import torch.nn as nn
from mmdet.registry import MODELS
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.model import BaseModel, is_model_wrapper

from ..teacher import build_teacher


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a (separate) DDP wrapper, or the module itself."""
    return module.module if is_model_wrapper(module) else module


class BaseDistiller(BaseModel):
    """A student trained with knowledge from a frozen teacher.

    The student is an ordinary child module (its weights are saved under
    ``student.``). The teacher is deliberately kept *outside* the module
    tree: it is not saved in checkpoints, not touched by ``init_weights``
    or ``train()``, not wrapped by DDP, and never receives gradients; it
    only follows the distiller across devices.

    ``predict`` and ``tensor`` go to the student, so validation,
    ``tools/test.py`` and the metrics report the student.

    Args:
        student (dict | nn.Module): The student's model config.
        teacher (str | dict, optional): Config file, ``mmdet::`` path or
            model dict of the teacher.
        teacher_ckpt (str, optional): The teacher's weights.
    """

    def __init__(self,
                 student: Union[dict, nn.Module],
                 teacher: Optional[Union[str, dict, Config]] = None,
                 teacher_ckpt: Optional[str] = None,
                 init_cfg: Optional[dict] = None):
        if isinstance(student, dict):
            student = MODELS.build(ConfigDict(student))
        super().__init__(
            data_preprocessor=student.data_preprocessor, init_cfg=init_cfg)
        self.student = student
        teacher = (None if teacher is None else build_teacher(
            teacher, teacher_ckpt))
        object.__setattr__(self, 'teacher', teacher)  # not a submodule
        if teacher is not None:
            self._warn_if_preprocessors_differ()

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        if self.teacher is not None:
            self.teacher._apply(fn, *args, **kwargs)
        return self

    def _warn_if_preprocessors_differ(self) -> None:
        """Both models see the student's preprocessed batch; say so when
        the teacher was trained with other normalisation."""
        s, t = self.student.data_preprocessor, self.teacher.data_preprocessor
        diffs = []
        for name in ('mean', 'std'):
            a, b = getattr(s, name, None), getattr(t, name, None)
            if (a is None) != (b is None) or (a is not None and
                                              not torch.allclose(a, b)):
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

    def forward(self,
                inputs: torch.Tensor,
                data_samples=None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        return self.student(inputs, data_samples, mode=mode)

    def loss(self, inputs: torch.Tensor,
             data_samples) -> Dict[str, torch.Tensor]:
        raise NotImplementedError
