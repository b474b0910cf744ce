"""The offline core: a student, a frozen teacher and the maps and logits of
both, for any task (detection, classification) through its task adapter."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log

from mmkd import registry
from ..losses import check_loss_weight
from ..tasks import evaluating, task_of
from .base_distiller import BaseDistiller
from .updates import Update


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


def logit_kd(loss_kd, task, records, t_out) -> torch.Tensor:
    """``loss_kd`` over a task's logit rows: the mean over all rows
    (anchors of all levels, RoIs, images), pair by pair (no copy)."""
    pairs = task.logit_pairs(records, t_out)
    total = sum(s.shape[0] for s, _ in pairs)
    return sum(loss_kd(s, t) * (s.shape[0] / total) for s, t in pairs)


@registry.MODELS.register_module()
class TeacherDistiller(BaseDistiller):
    """Hint and logit distillation from a frozen teacher, for MMDetection
    detectors (neck levels; dense or RoI class scores) and MMPretrain
    classifiers (backbone stages, the last by default; the head's logits).
    The baselines are configs of it: KD (``loss_kd``), FitNet (T2S adapter
    + ``FeatureMSELoss``), AT (``ATLoss``, no adapter), CWD, PKD.

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
            student to teacher maps; None feeds the student's maps as they
            are (e.g. AT, whose maps need no equal widths).
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

    def __init__(self,
                 student,
                 teacher,
                 teacher_ckpt: Optional[str] = None,
                 adapter: Optional[dict] = dict(type='T2SAdapter'),
                 loss_feat: Optional[dict] = None,
                 loss_kd: Optional[dict] = None,
                 levels: Optional[Sequence[int]] = None,
                 match_levels: str = 'stride',
                 probe_size: Optional[int] = None,
                 max_nonfinite_skips: int = 10,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 max_loss_jump: Optional[float] = 1000.0,
                 **method_cfgs):
        if teacher is None:
            raise ValueError(f'{type(self).__name__} needs a teacher')
        cfgs = dict(method_cfgs, loss_feat=loss_feat, loss_kd=loss_kd)
        cfgs = {k: self.merged(k, v) for k, v in cfgs.items()}
        if not any(v is not None for v in cfgs.values()):
            raise ValueError(
                f'This distiller distils nothing: {", ".join(cfgs)} are all '
                'None, yet the teacher would run every iteration. Keep at '
                'least one, or train the student with its own config.')
        super().__init__(student, teacher, teacher_ckpt, max_nonfinite_skips,
                         data_preprocessor, init_cfg, max_loss_jump)
        self.task = task_of(self.student, self.teacher)
        s_maps, t_maps, size = self._probe(probe_size)
        s_strides = feature_strides(s_maps, size)
        t_strides = feature_strides(t_maps, size)
        if levels is None:
            levels = self.pick_levels(s_strides, t_strides, match_levels)
        default = self.task.default_pairs(s_strides, t_strides)
        # every matched pair (KD on dense heads uses them all)
        self.kd_pairs = [] if levels is None and default else pair_levels(
            s_strides, t_strides, match_levels, self.task)
        self.level_pairs = self._select_levels(levels, s_strides, default)
        self._log_pairing(s_strides, t_strides, match_levels if default is
                          None or levels else 'default (last with last)')
        self.s_channels = [s_maps[i].shape[1] for i, _ in self.level_pairs]
        self.t_channels = [t_maps[j].shape[1] for _, j in self.level_pairs]
        self.loss_feat = self.build_loss(cfgs.pop('loss_feat'), 'loss_feat')
        self.loss_kd = self.build_loss(cfgs.pop('loss_kd'), 'loss_kd')
        self.build_method(cfgs)
        adapter = self.merged('adapter', adapter)
        self.adapter = None
        if adapter is not None and self.needs_adapter():
            self.adapter = registry.MODELS.build(
                dict(adapter, in_channels=self.s_channels,
                     out_channels=self.t_channels))
        elif self.equal_widths_user() is not None and any(
                a != b for a, b in zip(self.s_channels, self.t_channels)):
            raise ValueError(
                f'{self.equal_widths_user()} compares maps of equal '
                f'widths; the student\'s are {self.s_channels}, the '
                f"teacher's {self.t_channels}. Keep the adapter "
                "(adapter=dict(type='T2SAdapter')).")
        if self.loss_kd is not None:
            self.task.setup_kd(self.kd_pairs, s_strides, t_strides,
                               self.loss_kd)
        self.task.watch_student(kd=self.loss_kd is not None)

    # ------------------------------------------------------------ building
    @staticmethod
    def build_loss(cfg: Optional[dict], name: str) -> Optional[nn.Module]:
        if cfg is None:
            return None
        check_loss_weight(cfg.get('loss_weight', 1.0), name)
        return registry.MODELS.build(cfg)

    def build_method(self, cfgs: dict) -> None:
        """Build what a subclass adds (its extra arguments, merged over
        their defaults); the probed ``s_channels``/``t_channels`` are set."""
        if cfgs:
            raise TypeError(f'{type(self).__name__} got unexpected '
                            f'arguments {sorted(cfgs)}')

    def needs_adapter(self) -> bool:
        return self.loss_feat is not None

    def equal_widths_user(self) -> Optional[str]:
        """What compares the student's maps with the teacher's channel by
        channel (without an adapter their widths must be equal), or None."""
        if self.loss_feat is not None and getattr(
                self.loss_feat, 'same_channels', True):
            return type(self.loss_feat).__name__
        return None

    def pick_levels(self, s_strides, t_strides, match_levels
                    ) -> Optional[List[int]]:
        """The student levels a method distils when the config names none
        (None: the task's default)."""
        return None

    def _probe(self, size: Optional[int]):
        """The maps of both models for a blank image."""
        size = size or (256 if self.task.part == 'neck' else 64)
        s_maps, t_maps = probe_maps(self.task, dict(
            student=self.student, teacher=self.teacher), size)
        return s_maps, t_maps, size

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

    def distill_loss_names(self) -> List[str]:
        return [n for n, loss in (('loss_feat', self.loss_feat),
                                  ('loss_kd', self.loss_kd))
                if loss is not None]

    # ------------------------------------------------------------ training
    def forward_train(self, state: dict) -> Dict[str, torch.Tensor]:
        """The student's task losses (``student.*``) and, while
        distillation is on, every ``distill.*`` term. Puts the distilled
        maps in ``state``: ``s_maps`` (adapted where there is an adapter)
        and ``t_maps``, and the records of the student's forward."""
        inputs, samples = state['inputs'], state['data_samples']
        if not self.schedule.distill:
            task = self.student(inputs, samples, mode='loss')
            return {f'student.{k}': v for k, v in task.items()}
        kd = self.loss_kd is not None
        t_out = self.task.teacher_forward(inputs, kd)
        with self.task.recording() as records:
            task = self.student(inputs, samples, mode='loss')
            s_maps = self.task.student_maps(records)
            t_maps = [t_out['maps'][j] for _, j in self.level_pairs]
            s_maps = self.adapt([s_maps[i] for i, _ in self.level_pairs],
                                t_maps)
            state.update(s_maps=s_maps, t_maps=t_maps)
            losses = {f'student.{k}': v for k, v in task.items()}
            losses.update(self.distill_losses(state, records, t_out))
        return losses

    def adapt(self, s_maps: List[torch.Tensor],
              t_maps: List[torch.Tensor]) -> List[torch.Tensor]:
        """The student's distilled maps as the losses take them: through
        the T2S adapter, or resized to the teacher's where a loss compares
        them location by location."""
        sizes = [t.shape[-2:] for t in t_maps]
        if self.adapter is not None:
            return self.adapter(s_maps, sizes)
        if getattr(self.loss_feat, 'same_channels', True):
            return resized(s_maps, sizes)
        return s_maps

    def distill_losses(self, state, records, t_out) -> dict:
        """The ``distill.*`` terms."""
        losses = {}
        if self.loss_feat is not None:
            losses['distill.loss_feat'] = sum(
                self.loss_feat(s, t) for s, t in zip(
                    state['s_maps'], state['t_maps'])) / len(state['s_maps'])
        if self.loss_kd is not None:
            losses['distill.loss_kd'] = self.kd_loss(records, t_out)
        return losses

    def kd_loss(self, records, t_out) -> torch.Tensor:
        return logit_kd(self.loss_kd, self.task, records, t_out)

    def parts(self) -> Dict[str, List[str]]:
        return dict(student=['student', 'adapter'])

    def updates(self) -> List[Update]:
        return [Update('student', 'student', self.forward_train)]
