import logging
from typing import Dict, List, Optional, Union

import torch
import torch.distributed as dist
import torch.nn as nn
from mmdet.registry import MODELS
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.model import BaseModel, is_model_wrapper

from ..teacher import build_teacher


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a (separate) DDP wrapper, or the module itself."""
    return module.module if is_model_wrapper(module) else module


def _without_wrappers(module, state_dict, prefix, local_metadata):
    """State-dict hook: the keys of children wrapped for DDP (separate
    DDP wraps student, adapter and discriminator) without the wrapper's
    ``module.``, so checkpoints are the same with and without DDP and
    mmengine's loader, which unwraps children, finds every key."""
    wrapped = [f'{prefix}{name}.module.'
               for name, child in module._modules.items()
               if is_model_wrapper(child)]
    if not wrapped:
        return state_dict
    items = list(state_dict.items())
    state_dict.clear()
    for key, value in items:
        for w in wrapped:
            if key.startswith(w):
                key = w[:-len('module.')] + key[len(w):]
                break
        state_dict[key] = value
    return state_dict


class BaseDistiller(BaseModel):
    """A student trained with knowledge from a frozen teacher.

    The student is an ordinary child module (its weights are saved under
    ``student.``). The teacher is deliberately kept *outside* the module
    tree: it is not saved in checkpoints, not touched by ``init_weights``
    or ``train()``, not wrapped by DDP, and never receives gradients; it
    only follows the distiller across devices.

    ``predict`` and ``tensor`` go to the student, so validation,
    ``tools/test.py`` and the metrics report the student.

    Three switches are set by mmkd's schedule hooks every iteration, from
    the run's progress alone (so a resumed run sets them again):
    ``loss_scales`` (a factor per distillation loss term),
    ``distill_enabled`` and, for adversarial distillers, ``train_student``
    and ``train_disc``.

    A non-finite loss skips its update (nothing reaches weights or
    optimizer state), is logged with its term and iteration, and after
    ``max_nonfinite_skips`` consecutive iterations with a skip the run
    stops with an error.

    Args:
        student (dict | nn.Module): The student's model config.
        teacher (str | dict, optional): Config file, ``mmdet::`` path or
            model dict of the teacher.
        teacher_ckpt (str, optional): The teacher's weights.
        max_nonfinite_skips (int): Consecutive iterations with a skipped
            (non-finite) update after which training stops.
    """

    def __init__(self,
                 student: Union[dict, nn.Module],
                 teacher: Optional[Union[str, dict, Config]] = None,
                 teacher_ckpt: Optional[str] = None,
                 max_nonfinite_skips: int = 10,
                 init_cfg: Optional[dict] = None):
        if not isinstance(max_nonfinite_skips, int) or max_nonfinite_skips < 1:
            raise ValueError('max_nonfinite_skips must be an int >= 1, got '
                             f'{max_nonfinite_skips!r}')
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
        # Iterations trained, saved with the model for an exact resume.
        self.register_buffer('num_iters', torch.zeros((), dtype=torch.long))
        self._register_state_dict_hook(_without_wrappers)
        self.loss_scales: Dict[str, float] = {}
        self.distill_enabled = True
        self.max_nonfinite_skips = max_nonfinite_skips
        self._nonfinite_streak = 0

    def distill_loss_names(self) -> List[str]:
        """The distillation loss terms (``loss_*``) this distiller computes,
        the names ``loss_scales`` and the weight-schedule hook use."""
        raise NotImplementedError

    def scaled(self, name: str, loss: torch.Tensor) -> torch.Tensor:
        """``loss`` times its scheduled factor (1 unless a hook set one)."""
        scale = self.loss_scales.get(name, 1.0)
        return loss if scale == 1.0 else loss * scale

    def all_finite(self, losses: Dict[str, torch.Tensor],
                   update: str) -> bool:
        """Whether every loss in ``losses`` is finite, on every rank (so all
        ranks skip together), with one device sync; logs the culprits when
        not."""
        flags = {
            k: torch.stack([torch.isfinite(x).all() for x in (
                v if isinstance(v, (list, tuple)) else [v])]).all()
            for k, v in losses.items() if 'loss' in k
        }
        ok = torch.stack(list(flags.values())).all().float()
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(ok, op=dist.ReduceOp.MIN)
        if ok.item() == 1.0:
            return True
        bad = [k for k, flag in flags.items() if not flag]
        print_log(
            f'Iteration {int(self.num_iters)}: non-finite '
            f'{", ".join(bad) if bad else "loss on another rank"}; the '
            f'{update} update is skipped (nothing written to its weights '
            'or optimizer state).',
            logger='current',
            level=logging.WARNING)
        return False

    def count_skips(self, skipped: bool) -> None:
        """Track consecutive iterations with a skipped update; stop the run
        after ``max_nonfinite_skips`` of them."""
        self._nonfinite_streak = self._nonfinite_streak + 1 if skipped else 0
        if self._nonfinite_streak >= self.max_nonfinite_skips:
            raise RuntimeError(
                f'Training stopped at iteration {int(self.num_iters)}: '
                f'non-finite losses in {self._nonfinite_streak} consecutive '
                f'iterations (max_nonfinite_skips='
                f'{self.max_nonfinite_skips}). The skipped updates wrote '
                'nothing, so the weights, and the last checkpoint in '
                'work_dir, are those of finite steps. Lower the learning '
                'rate or the distillation loss weights (or warm them up '
                'with DistillLossWeightHook), then resume.')

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Refuse a checkpoint that is not a distiller's (e.g. a plain
        detector's) instead of silently keeping a random student."""
        if not any(k.startswith(prefix + 'student.') for k in state_dict):
            example = ', '.join(sorted(state_dict)[:3])
            raise RuntimeError(
                'This checkpoint has no "student.*" weights (its keys start '
                f'with: {example}), so it is not a checkpoint of an mmkd '
                'distillation run and cannot be resumed or loaded into '
                'one. To start the student from a plain detector '
                'checkpoint, set model.student.init_cfg=dict('
                "type='Pretrained', checkpoint=...) and no load_from/"
                'resume; to resume, use a checkpoint this run wrote.')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

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
