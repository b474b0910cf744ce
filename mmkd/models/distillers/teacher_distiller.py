"""The core of every method with a trained teacher: the student, the frozen
teacher, their distilled levels and one forward of each per iteration,
handed to the method's terms."""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.logging import print_log

from mmkd import registry
from ..tasks import task_of
from ..terms import Hint, LogitKD, Step, Term
from .base_distiller import BaseDistiller
from .levels import (feature_strides, pair_levels, probe_maps,  # noqa: F401
                     resized)


TASK_MODELS = dict(detection='detectors', classification='classifiers')


@registry.MODELS.register_module()
class TeacherDistiller(BaseDistiller):
    """Distillation from a frozen teacher, for MMDetection detectors (neck
    levels; dense or RoI class scores) and MMPretrain classifiers (backbone
    stages, the last by default; the head's logits).

    A method is a preset of this core: its ``defaults`` (the arguments it
    takes beyond the core's, with their default values) and the list of
    :mod:`terms <mmkd.models.terms>` it builds from them (:meth:`terms`).
    ``TeacherDistiller`` itself is the baselines' preset: a hint
    (``loss_feat``) and logit KD (``loss_kd``), e.g. KD, FitNet (T2S adapter
    + ``FeatureMSELoss``), AT (``ATLoss``, no adapter), CWD, PKD:
    ``task + sum_levels loss_feat(T2S(F_s), F_t) / L + loss_kd(z_s, z_t)``.

    Channels, levels and strides are inferred from the built models with
    one probe forward; every mismatch that cannot be adapted fails at build
    time. A component given without ``type`` changes only the fields it
    names (``loss_kd=dict(temperature=4)``).

    Args:
        student (str | dict): The student's model config.
        teacher (str | dict): Config file, ``mmdet::``/``mmpretrain::`` path
            or model dict.
        teacher_ckpt (str): The teacher's trained weights.
        adapter (dict, optional): T2S adapter (channels filled in) from
            student to teacher maps, built when a term compares them; None
            feeds the student's maps as they are (e.g. AT, whose maps need
            no equal widths).
        loss_feat (dict, optional): Loss per distilled pair (averaged).
        loss_kd (dict, optional): ``KDLoss``; sigmoid/softmax set from the
            student's head.
        levels (list[int], optional): The student's distilled neck levels
            / backbone stages; default: every matched neck level, or the
            last stage of a classifier (paired with the teacher's last).
        match_levels (str): ``'stride'`` (default) or ``'index'``; the
            pairing is logged when the model is built.
        probe_size (int, optional): Side of the blank probe image (256 for
            detectors, 64 for classifiers by default).
    """
    defaults = dict(adapter=dict(type='T2SAdapter'), loss_feat=None,
                    loss_kd=None)
    role_children = ('student', 'adapter')
    # the tasks the method distils (a method needing labels: classifiers)
    tasks = ('detection', 'classification')

    def terms(self, cfg: dict) -> List[Term]:
        """The method's terms, built from its merged arguments ``cfg``."""
        return [Hint(cfg['loss_feat']), LogitKD(cfg['loss_kd'])]

    def __init__(self,
                 student,
                 teacher,
                 teacher_ckpt: Optional[str] = None,
                 levels: Optional[Sequence[int]] = None,
                 match_levels: str = 'stride',
                 probe_size: Optional[int] = None,
                 max_nonfinite_skips: int = 10,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 max_loss_jump: Optional[float] = 1000.0,
                 **method):
        if teacher is None:
            raise ValueError(f'{type(self).__name__} needs a teacher')
        cfg = self.method_config(method)
        terms = self.terms(cfg)
        if not any(t.active for t in terms):
            off = [k for k, v in cfg.items() if k != 'adapter' and v is None]
            raise ValueError(
                f'This distiller distils nothing: {", ".join(off)} are all '
                'None, yet the teacher would run every iteration. Keep at '
                'least one, or train the student with its own config.')
        super().__init__(student, self.teacher_config(teacher), teacher_ckpt,
                         max_nonfinite_skips, data_preprocessor, init_cfg,
                         max_loss_jump)
        self.method_terms = terms
        self.task = task_of(self.student, self.teacher)
        if self.task.name not in self.tasks:
            raise ValueError(
                f'{type(self).__name__} distils '
                f'{" and ".join(TASK_MODELS[t] for t in self.tasks)}; the '
                f'student is a {type(self.student).__name__}. Choose the '
                f'method for {self.task.models} (see the model zoo).')
        s_strides, t_strides = self._pair_levels(levels, match_levels,
                                                 probe_size)
        self.loss_feat = self.loss_kd = None  # a hint, logits: terms set them
        for term in terms:
            term.build(self)
        self.adapter = None
        if cfg['adapter'] is not None and any(
                t.needs_adapter(self) for t in terms):
            self.adapter = registry.MODELS.build(
                dict(cfg['adapter'], in_channels=self.s_channels,
                     out_channels=self.t_channels))
        else:
            user = next((u for u in (t.same_widths(self) for t in terms)
                         if u), None)
            if user and self.s_channels != self.t_channels:
                raise ValueError(
                    f'{user} compares maps of equal widths; the student\'s '
                    f'are {self.s_channels}, the teacher\'s '
                    f'{self.t_channels}. Keep the adapter '
                    "(adapter=dict(type='T2SAdapter')).")
        self.kd = any(t.needs_logits for t in terms)
        self.needs_labels = getattr(self.loss_kd, 'needs_labels', False)
        if self.kd:
            self.task.setup_kd(self.kd_pairs, s_strides, t_strides,
                               self.loss_kd)
        self.task.watch_student(
            kd=self.kd, extras=sorted({e for t in terms for e in t.extras}))

    # ------------------------------------------------------------ building
    def teacher_config(self, teacher):
        """The teacher's model config as the method reads its argument."""
        return teacher

    def default_levels(self, s_strides, t_strides, match_levels
                       ) -> Optional[List[int]]:
        """The student levels a method distils when the config names none
        (None: the task's default)."""
        return None

    def _pair_levels(self, levels, match_levels, probe_size):
        """Probe both models, pair their levels (logged) and set
        ``level_pairs``, ``kd_pairs`` and the channels of both sides."""
        size = probe_size or self.task.probe_size
        s_maps, t_maps = probe_maps(self.task, dict(
            student=self.student, teacher=self.teacher), size)
        s_strides = feature_strides(s_maps, size)
        t_strides = feature_strides(t_maps, size)
        if levels is None:
            levels = self.default_levels(s_strides, t_strides, match_levels)
        default = self.task.default_pairs(s_strides, t_strides)
        # every matched pair (KD on dense heads uses them all)
        self.kd_pairs = [] if levels is None and default else pair_levels(
            s_strides, t_strides, match_levels, self.task)
        self.level_pairs = self._select_levels(levels, s_strides, default)
        self._log_pairing(s_strides, t_strides, match_levels if default is
                          None or levels else 'default (last with last)')
        self.s_strides, self.t_strides = s_strides, t_strides
        self.s_channels = [s_maps[i].shape[1] for i, _ in self.level_pairs]
        self.t_channels = [t_maps[j].shape[1] for _, j in self.level_pairs]
        return s_strides, t_strides

    def _select_levels(self, levels, s_strides, default):
        if levels is None:
            return default or self.kd_pairs
        matched = dict(self.kd_pairs)
        wrong = [i for i in levels if i not in matched]
        if wrong or not levels or len(set(levels)) != len(levels):
            n, t = len(s_strides), self.task
            raise ValueError(
                f'levels={list(levels)}: the student\'s {t.part} has {n} '
                f'{t.unit} (0-{n - 1}), of which {sorted(matched)} have a '
                f'teacher {t.unit[:-1]}; list each distilled one once, or '
                'levels=None for the default.')
        return [(i, matched[i]) for i in levels]

    def _log_pairing(self, s_strides, t_strides, how) -> None:
        pairs = ', '.join(f'{i}->{j} (stride {s_strides[i]}->{t_strides[j]})'
                          for i, j in self.level_pairs)
        left = sorted(set(range(len(s_strides))) -
                      {i for i, _ in self.level_pairs})
        print_log(
            f'{type(self).__name__}: student {self.task.part} '
            f'{self.task.unit} -> teacher {self.task.unit} by {how}: '
            f'{pairs}' + (f'; student {self.task.unit} {left} are not '
                          'distilled' if left else ''), logger='current')

    # ------------------------------------------------------------ training
    def forward_train(self, state: dict) -> Dict[str, torch.Tensor]:
        """The student's task losses (``student.*``) and, while
        distillation is on, every term's ``distill.*`` losses. Puts the
        iteration's :class:`Step` in ``state['step']`` for the terms' own
        updates."""
        inputs, samples = state['inputs'], state['data_samples']
        if not self.schedule.distill:
            task = self.student(inputs, samples, mode='loss')
            return {f'student.{k}': v for k, v in task.items()}
        teacher = self.task.teacher_forward(inputs, self.kd)
        teacher.strides = self.t_strides
        with self.task.recording() as records:
            task = self.student(inputs, samples, mode='loss')
            # the labels only where a term's loss needs them (not per step)
            student = self.task.features(
                records, samples if self.needs_labels else None)
            student.strides = self.s_strides
            step = Step(inputs, samples, student, teacher,
                        [student.maps[i] for i, _ in self.level_pairs],
                        [teacher.maps[j] for _, j in self.level_pairs],
                        self.adapt)
            state['step'] = step
            losses = {f'student.{k}': v for k, v in task.items()}
            for term in self.method_terms:
                losses.update(term.losses(self, step))
        return losses

    def adapt(self, s_maps: List[torch.Tensor],
              t_maps: List[torch.Tensor]) -> List[torch.Tensor]:
        """The student's distilled maps as the terms compare them: through
        the T2S adapter, or resized to the teacher's where a term compares
        them location by location."""
        sizes = [t.shape[-2:] for t in t_maps]
        if self.adapter is not None:
            return self.adapter(s_maps, sizes)
        if any(t.same_widths(self) for t in self.method_terms):
            return resized(s_maps, sizes)
        return s_maps
