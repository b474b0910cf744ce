import contextlib
import functools
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmdet.registry import MODELS
from mmengine.logging import print_log

from mmkd import registry
from ..losses import check_loss_weight
from .base_distiller import BaseDistiller, Update, unwrap
from .utils import signature_default, with_defaults


def feature_strides(feats: Sequence[torch.Tensor], size: int) -> List[int]:
    """Stride of each level of a probe forward on a ``size`` image."""
    return [round(size / f.shape[-1]) for f in feats]


def pair_levels(s_strides: List[int], t_strides: List[int],
                by: str = 'stride') -> List[Tuple[int, int]]:
    """Pair student and teacher feature levels.

    ``'stride'``: each student level with the teacher level of the same
    stride; a level without one is not distilled. ``'index'``: level k with
    level k (equal counts; a stride difference is resized away).
    """
    if by not in ('stride', 'index'):
        raise ValueError(f"match_levels must be 'stride' or 'index', got "
                         f'{by!r}')
    if by == 'index':
        if len(s_strides) != len(t_strides):
            raise ValueError(
                "match_levels='index' pairs level k with level k, but the "
                f"student's neck has {len(s_strides)} levels (strides "
                f"{s_strides}) and the teacher's {len(t_strides)} (strides "
                f"{t_strides}). Use match_levels='stride'.")
        return list(zip(range(len(s_strides)), range(len(t_strides))))
    pairs = [(i, t_strides.index(s)) for i, s in enumerate(s_strides)
             if s in t_strides]
    if not pairs:
        raise ValueError(
            f'FPN levels cannot be matched: the student\'s neck has '
            f'{len(s_strides)} levels with strides {s_strides}, the '
            f'teacher\'s {len(t_strides)} with strides {t_strides}, and no '
            'stride is in both. Give the necks levels of the same strides '
            "(e.g. the same start_level), or set match_levels='index' to "
            'pair level k with level k, resized.')
    return pairs


@contextlib.contextmanager
def frozen(module: nn.Module):
    """Let gradients flow through ``module`` but not into its weights."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield module
    finally:
        for p in params:
            p.requires_grad_(True)


# The class-score layer of mmdet's dense heads that run ``cls_convs`` then it.
CLS_LAYERS = ('retina_cls', 'conv_cls', 'gfl_cls', 'atss_cls')


def dense_cls_branch(head: nn.Module):
    """A function computing only the class scores of ``head`` (skipping its
    box branch) for heads laid out as ``cls_convs`` + a class layer; None
    for any other head."""
    layer = next((getattr(head, n) for n in CLS_LAYERS if hasattr(head, n)),
                 None)
    if layer is None or not isinstance(getattr(head, 'cls_convs', None),
                                       nn.ModuleList):
        return None

    def cls_scores(feats):
        outs = []
        for x in feats:
            for conv in head.cls_convs:
                x = conv(x)
            outs.append(layer(x))
        return outs

    return cls_scores


@registry.MODELS.register_module()
class DetectionDistiller(BaseDistiller):
    """Feature, adversarial and logit distillation for any detector with a
    neck (one-stage, two-stage, anchor-free). Its defaults are KTAN's.

    KTAN: Knowledge Transfer Adversarial Network (Liu et al., IJCNN 2020,
    https://arxiv.org/abs/1810.08126). Student loss::

        task + w_feat * MSE(T2S(F_s), F_t) + w_adv * L_G(D(T2S(F_s)))
             + w_kd * KD(z_s, z_t)

    on every matched neck level. ``D`` is a patch discriminator shared by the
    levels (teacher maps real, adapted student maps fake), trained with its
    own optimizer ``d_steps`` times per student step. The adversarial weight
    ramps up linearly over ``adv_warmup_iters``. KD acts on the dense head's
    class scores, or for two-stage detectors on the RoI head's scores for the
    student's sampled proposals fed through both RoI heads; sigmoid or
    softmax as the head uses.

    Channels, levels and strides are inferred from the built models with one
    probe forward; every mismatch that cannot be adapted fails here, at
    build time. Set ``discriminator=None`` (and ``loss_gan=None``) for plain
    hint (FitNet-style) distillation, ``loss_kd=None`` to skip logits.

    Args:
        student (dict): The student's model config, usually
            ``_base_.model``.
        teacher (str | dict): Config file, ``mmdet::`` path or model dict.
        teacher_ckpt (str): The teacher's trained weights.
        adapter (dict): T2S adapter; channels are filled in.
        loss_feat (dict, optional): Feature loss per level (averaged).
        discriminator (dict, optional): Discriminator; channels filled in.
        loss_gan (dict, optional): ``GANLoss``; its weight is ``w_adv``.
        loss_kd (dict, optional): ``KDLoss``; sigmoid/softmax set from the
            student's head.
        d_steps (int): Discriminator updates per student update.
        adv_warmup_iters (int): Iterations over which ``w_adv`` ramps from
            0 to its value.
        levels (list[int], optional): Indices of the student's neck levels
            whose features are distilled (adapter, feature loss,
            discriminator); all matched levels by default. Logit KD always
            uses every matched level of the head.
        match_levels (str): ``'stride'`` (default): a student level pairs
            with the teacher level of the same stride, e.g. P3-P6 of a
            RetinaNet with P3-P6 of a Faster R-CNN (P2 and P7 are not
            distilled). ``'index'``: level k with level k, resized. The
            pairing is logged when the model is built.
        probe_size (int): Side of the blank image used to infer shapes.
        max_nonfinite_skips (int): See :class:`BaseDistiller`.
        data_preprocessor (dict, optional): See :class:`BaseDistiller`.

    A component given without ``type`` changes only the fields it names:
    ``loss_gan=dict(gan_type='hinge')`` or ``--cfg-options
    model.loss_kd.temperature=4`` keep the rest of the default.
    """

    def __init__(self,
                 student: dict,
                 teacher,
                 teacher_ckpt: Optional[str] = None,
                 adapter: dict = dict(type='T2SAdapter', kernel_size=1),
                 loss_feat: Optional[dict] = dict(
                     type='MSELoss', loss_weight=1.0),
                 discriminator: Optional[dict] = dict(
                     type='PatchDiscriminator'),
                 loss_gan: Optional[dict] = dict(
                     type='GANLoss', gan_type='lsgan', loss_weight=0.1),
                 loss_kd: Optional[dict] = dict(
                     type='KDLoss', temperature=1.0, loss_weight=1.0),
                 d_steps: int = 1,
                 adv_warmup_iters: int = 500,
                 levels: Optional[Sequence[int]] = None,
                 match_levels: str = 'stride',
                 probe_size: int = 256,
                 max_nonfinite_skips: int = 10,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if teacher is None:
            raise ValueError('DetectionDistiller needs a teacher')

        def merged(name, value, inferred=()):
            return with_defaults(value, signature_default(type(self), name),
                                 name, inferred)

        channels = ('in_channels', 'out_channels')
        adapter = merged('adapter', adapter, channels)
        loss_feat = merged('loss_feat', loss_feat)
        discriminator = merged('discriminator', discriminator, channels[:1])
        loss_gan = merged('loss_gan', loss_gan)
        loss_kd = merged('loss_kd', loss_kd)
        if (discriminator is None) != (loss_gan is None):
            raise ValueError('discriminator and loss_gan go together: set '
                             'both, or both to None')
        if loss_feat is None and loss_gan is None and loss_kd is None:
            raise ValueError(
                'This distiller distils nothing: loss_feat, discriminator/'
                'loss_gan and loss_kd are all None, yet the teacher would '
                'run every iteration. Keep at least one, or train the '
                'student with its own config.')
        for name, value, low in (('d_steps', d_steps, 1),
                                 ('adv_warmup_iters', adv_warmup_iters, 0)):
            if isinstance(value, bool) or not isinstance(value, int) \
                    or value < low:
                raise ValueError(f'{name} must be an int >= {low}, got '
                                 f'{value!r}')
        super().__init__(student, teacher, teacher_ckpt, max_nonfinite_skips,
                         data_preprocessor, init_cfg)
        self.d_steps = d_steps
        # switched by DiscriminatorScheduleHook
        self.train_student = True
        self.train_disc = True
        self.adv_warmup_iters = adv_warmup_iters

        for name, model in (('student', self.student), ('teacher',
                                                        self.teacher)):
            if not getattr(model, 'with_neck', False):
                raise ValueError(
                    f'The {name} ({type(model).__name__}) has no neck: '
                    'feature distillation works on neck (FPN) levels; '
                    'choose a detector with a neck.')
        s_feats, t_feats = self._probe(probe_size)
        s_strides = feature_strides(s_feats, probe_size)
        t_strides = feature_strides(t_feats, probe_size)
        self.kd_pairs = pair_levels(s_strides, t_strides, match_levels)
        self.level_pairs = self._select_levels(levels, len(s_strides))
        self._log_pairing(s_strides, t_strides, match_levels)
        s_channels = [s_feats[i].shape[1] for i, _ in self.level_pairs]
        t_channels = [t_feats[j].shape[1] for _, j in self.level_pairs]
        self.loss_feat = self._build_loss(loss_feat, 'loss_feat')
        self.loss_gan = self._build_loss(loss_gan, 'loss_gan')
        self.adapter = None
        if loss_feat is not None or discriminator is not None:
            self.adapter = MODELS.build(
                dict(adapter, in_channels=s_channels,
                     out_channels=t_channels))
        self.discriminator = None
        if discriminator is not None:
            # one channel count: one shared input layer, as before
            self.discriminator = MODELS.build(
                dict(discriminator,
                     in_channels=t_channels[0]
                     if len(set(t_channels)) == 1 else t_channels))
        self.loss_kd = self._build_loss(loss_kd, 'loss_kd')
        self.kd_head = None
        if self.loss_kd is not None:
            self.kd_head = self._check_kd_heads(s_strides, t_strides)
        if self.kd_head == 'dense':
            self._teacher_cls_scores = self._fast_teacher_scores(t_feats)
        self._records: Dict[str, object] = {}
        self._recording = False
        self._register_recorders()

    # ------------------------------------------------------------ building
    @staticmethod
    def _build_loss(cfg: Optional[dict], name: str) -> Optional[nn.Module]:
        if cfg is None:
            return None
        check_loss_weight(cfg.get('loss_weight', 1.0), name)
        return MODELS.build(cfg)

    def _select_levels(self, levels, num_levels) -> List[Tuple[int, int]]:
        if levels is None:
            return self.kd_pairs
        matched = {i: j for i, j in self.kd_pairs}
        wrong = [i for i in levels if i not in matched]
        if wrong or not levels or len(set(levels)) != len(levels):
            raise ValueError(
                f'levels={list(levels)}: the student\'s neck has '
                f'{num_levels} levels (0-{num_levels - 1}), of which '
                f'{sorted(matched)} have a teacher level; list each '
                'distilled level once, or levels=None for all.')
        return [(i, matched[i]) for i in levels]

    def distill_loss_names(self) -> List[str]:
        names = [('loss_feat', self.loss_feat), ('loss_adv', self.loss_gan),
                 ('loss_kd', self.loss_kd)]
        return [n for n, loss in names if loss is not None]

    @torch.no_grad()
    def _probe(self, size: int):
        """Neck outputs of both models for a blank ``size`` x ``size``
        image (eval mode, so BN statistics are untouched)."""
        image = torch.zeros(1, 3, size, size)
        training = self.student.training
        self.student.eval()
        feats = self.student.extract_feat(image), self.teacher.extract_feat(
            image)
        self.student.train(training)
        return feats

    @staticmethod
    def _priors(head, level: int) -> int:
        """Anchors per location of ``head`` at ``level`` (SSD's differ by
        level)."""
        priors = getattr(head, 'num_base_priors', 1)
        return priors[level] if isinstance(priors, (list, tuple)) else priors

    def _log_pairing(self, s_strides, t_strides, how) -> None:
        pairs = ', '.join(f'{i}->{j} (stride {s_strides[i]}->{t_strides[j]})'
                          for i, j in self.level_pairs)
        left = sorted(set(range(len(s_strides))) -
                      {i for i, _ in self.level_pairs})
        print_log(
            f'{type(self).__name__}: student neck levels -> teacher levels '
            f'by {how}: {pairs}' +
            (f'; student levels {left} are not distilled' if left else ''),
            logger='current')

    def _check_kd_heads(self, s_strides, t_strides) -> str:
        """Which head logit KD acts on (``'dense'`` or ``'roi'``); refuses
        heads whose class scores cannot be compared, naming the fix."""
        from mmdet.models.detectors import DetectionTransformer
        s, t = self.student, self.teacher
        off = 'or set loss_kd=None to distill features only.'
        for name, m in (('student', s), ('teacher', t)):
            if isinstance(m, DetectionTransformer):
                raise ValueError(
                    f'Logit KD compares dense or RoI class scores; the '
                    f'{name} ({type(m).__name__}) is DETR-style and scores '
                    f'queries, which do not correspond between two '
                    f'models. Set loss_kd=None to distill its neck '
                    'features (T2S, discriminator).')
        two_stage = [hasattr(m, 'roi_head') for m in (s, t)]
        if two_stage[0] != two_stage[1]:
            raise ValueError(
                'Logit KD needs both detectors to be one-stage (dense '
                'head) or both two-stage (RoI head); got '
                f'{type(s).__name__} and {type(t).__name__}. Choose a '
                f'teacher of the student\'s kind, {off}')
        if two_stage[0]:
            kind = 'roi'
            heads = [s.roi_head, t.roi_head]
            if not all(
                    isinstance(getattr(h, 'bbox_head', None), nn.Module) and
                    not isinstance(h.bbox_head, nn.ModuleList)
                    and hasattr(h, '_bbox_forward') for h in heads):
                raise ValueError(
                    'Logit KD on two-stage detectors needs a single-stage '
                    'RoI head (e.g. StandardRoIHead, not a cascade) in both '
                    f'student and teacher; {off}')
            heads = [h.bbox_head for h in heads]
        else:
            kind = 'dense'
            heads = [s.bbox_head, t.bbox_head]
            for name, h in zip(('student', 'teacher'), heads):
                if not hasattr(h, 'cls_out_channels'):
                    raise ValueError(
                        f'Logit KD needs class-score maps, and the '
                        f'{name}\'s {type(h).__name__} has none that mmkd '
                        '(cls_out_channels) can read (e.g. YOLOv3 packs '
                        f'boxes, objectness and classes together); {off}')
            paired = [(s_strides[i], t_strides[j])
                      for i, j in self.kd_pairs]
            if any(a != b for a, b in paired):
                raise ValueError(
                    'Logit KD on dense heads compares levels of equal '
                    f'strides; student {s_strides}, teacher {t_strides} '
                    "are paired by index: set match_levels='stride', "
                    f'{off}')
        n_s, n_t = heads[0].num_classes, heads[1].num_classes
        if n_s != n_t:
            raise ValueError(
                f'Logit KD needs one class set: the teacher predicts {n_t} '
                f'classes, the student {n_s}. Train the teacher on the '
                'student\'s classes, or set loss_kd=None.')
        if kind == 'dense':
            out = [h.cls_out_channels for h in heads]
            if out[0] != out[1]:
                raise ValueError(
                    f'Logit KD needs scores of one kind: the student\'s head '
                    f'scores {out[0]} channels per anchor, the teacher\'s '
                    f'{out[1]} (one has a background class: softmax vs '
                    f'sigmoid). Use heads of the same loss_cls, {off}')
            # anchors per location and level; where they differ, the scores
            # of each location are averaged over its anchors on both sides
            self.kd_anchors = [
                (self._priors(heads[0], i), self._priors(heads[1], j))
                for i, j in self.kd_pairs]
            if any(a != b for a, b in self.kd_anchors):
                print_log(
                    'Logit KD: student and teacher have other numbers of '
                    'anchors per location (student, teacher per level: '
                    f'{self.kd_anchors}); KD compares per-location class '
                    'scores averaged over the anchors.', logger='current')
        head = heads[0]
        self.loss_kd.use_sigmoid = bool(
            head.use_sigmoid_cls if hasattr(head, 'use_sigmoid_cls') else
            getattr(getattr(head, 'loss_cls', None), 'use_sigmoid', False))
        return kind

    @torch.no_grad()
    def _fast_teacher_scores(self, t_feats):
        """The teacher's class scores for KD: only the class branch where
        that reproduces the head's own scores on the probe features (the
        box branch is half a dense head's cost), else the whole head."""
        head = self.teacher.bbox_head
        full = lambda feats: head(feats)[0]  # noqa: E731
        branch = dense_cls_branch(head)
        if branch is None:
            return full
        same = all(
            a.shape == b.shape and torch.allclose(a, b, atol=1e-5)
            for a, b in zip(branch(t_feats), full(t_feats)))
        return branch if same else full

    def _register_recorders(self) -> None:
        """Forward hooks that keep what ``loss`` needs from the student's own
        forward, so the student runs once, through its DDP wrapper."""
        s = self.student
        hooks = [(s.neck, 'neck', False)]
        if self.kd_head == 'dense':
            hooks.append((s.bbox_head, 'cls_scores', False))
        elif self.kd_head == 'roi':
            hooks += [(s.roi_head.bbox_roi_extractor, 'rois', True),
                      (s.roi_head.bbox_head, 'roi_scores', False)]
        for module, name, take_input in hooks:
            module.register_forward_hook(
                functools.partial(self._record, name, take_input))

    def _record(self, name, take_input, module, args, output) -> None:
        if self._recording:
            self._records[name] = args[1] if take_input else output

    # ------------------------------------------------------------ training
    def _teacher_features(self, inputs: torch.Tensor):
        with torch.no_grad():
            return self.teacher.extract_feat(inputs)

    def _kd_loss(self, t_feats) -> torch.Tensor:
        """KD between the recorded student class scores and the teacher's
        for the same anchors / RoIs."""
        if self.kd_head == 'roi':
            with torch.no_grad():
                t_cls = self.teacher.roi_head._bbox_forward(
                    t_feats, self._records['rois'])['cls_score']
            s_cls = self._records['roi_scores'][0]  # (num_rois, C + 1)
            return self.loss_kd(s_cls, t_cls)
        with torch.no_grad():
            t_scores = self._teacher_cls_scores(t_feats)
        s_scores = self._records['cls_scores'][0]
        channels = unwrap(self.student).bbox_head.cls_out_channels

        def rows(x, anchors, average):  # (N, A*C, H, W) -> (N*A*H*W, C)
            if average:  # -> (N, 1*C, H, W): a location's mean over anchors
                n, _, h, w = x.shape
                x = x.view(n, anchors, channels, h, w).mean(1)
            if self.loss_kd.use_sigmoid:  # per-class KL: any order will do
                return x.reshape(-1, channels)
            n, _, h, w = x.shape
            x = x.view(n, -1, channels, h, w).permute(0, 1, 3, 4, 2)
            return x.reshape(-1, channels)

        # the mean over all anchors of all levels, level by level (no copy)
        pairs = [(rows(s_scores[i], a_s, a_s != a_t),
                  rows(t_scores[j], a_t, a_s != a_t))
                 for (i, j), (a_s, a_t) in zip(self.kd_pairs,
                                               self.kd_anchors)]
        total = sum(s.shape[0] for s, _ in pairs)
        return sum(self.loss_kd(s, t) * (s.shape[0] / total) for s, t in pairs)

    def adv_weight_scale(self) -> float:
        """Linear warm-up factor of the adversarial weight."""
        if self.adv_warmup_iters == 0:
            return 1.0
        return min(1.0, (int(self.num_iters) + 1) / self.adv_warmup_iters)

    def _forward_train(self, inputs, data_samples):
        """Student task losses and distillation losses, with the adapted
        student features and the teacher features they were computed on
        (only the task losses once distillation is switched off)."""
        if not self.distill_enabled:
            task = self.student(inputs, data_samples, mode='loss')
            return {f'student.{k}': v for k, v in task.items()}, None, None
        t_feats = self._teacher_features(inputs)
        self._recording = True
        try:
            task = self.student(inputs, data_samples, mode='loss')
            s_feats = self._records['neck']
        finally:
            self._recording = False
        t_feats_used = [t_feats[j] for _, j in self.level_pairs]
        adapted = None
        if self.adapter is not None:
            adapted = self.adapter([s_feats[i] for i, _ in self.level_pairs],
                                   [f.shape[-2:] for f in t_feats_used])
        losses = {f'student.{k}': v for k, v in task.items()}
        if self.loss_feat is not None:
            losses['distill.loss_feat'] = self.scaled('loss_feat', sum(
                self.loss_feat(s, t)
                for s, t in zip(adapted, t_feats_used)) / len(adapted))
        if self.discriminator is not None:
            with frozen(unwrap(self.discriminator)) as disc:
                fake = disc(adapted)
            losses['distill.loss_adv'] = self.scaled(
                'loss_adv', self.adv_weight_scale() *
                sum(self.loss_gan(f) for f in fake) / len(fake))
        if self.loss_kd is not None:
            losses['distill.loss_kd'] = self.scaled('loss_kd',
                                                    self._kd_loss(t_feats))
        self._records.clear()
        return losses, adapted, t_feats_used

    def loss(self, inputs: torch.Tensor,
             data_samples) -> Dict[str, torch.Tensor]:
        """All losses of the student (``student.*``, ``distill.*``)."""
        return self._forward_train(inputs, data_samples)[0]

    def discriminator_loss(self, adapted: Sequence[torch.Tensor],
                           t_feats: Sequence[torch.Tensor]) -> dict:
        """``disc.loss_d`` over all levels (teacher real, student fake),
        plus the mean real/fake scores for the log."""
        n = len(t_feats)
        # real and fake of a level in one batch: one D forward per step
        logits = self.discriminator([
            torch.cat([t, s.detach()]) for t, s in zip(t_feats, adapted)
        ])
        real = [x[:len(x) // 2] for x in logits]
        fake = [x[len(x) // 2:] for x in logits]
        loss = sum(
            self.loss_gan.discriminator_loss(r, f)
            for r, f in zip(real, fake)) / n
        return {
            'disc.loss_d': loss,
            'disc.score_real': sum(r.mean() for r in real).detach() / n,
            'disc.score_fake': sum(f.mean() for f in fake).detach() / n,
        }

    # ------------------------------------------- parts and updates (core)
    def parts(self) -> Dict[str, List[str]]:
        return dict(student=['student', 'adapter'], disc=['discriminator'])

    def updates(self) -> List[Update]:
        """One student update (task + distillation losses), then
        ``d_steps`` discriminator updates on the same adapted maps.
        ``train_student``/``train_disc`` switch either off (the
        discriminator warm-up computes the student's losses without
        stepping it); once distillation is off only the student's task
        losses are trained."""
        return [
            Update('student', 'student', self._student_update,
                   learn=lambda: self.train_student),
            Update('discriminator', 'disc', self._discriminator_update,
                   times=self.d_steps, log_prefix='disc.',
                   active=lambda: (self.discriminator is not None
                                   and self.train_disc
                                   and self.distill_enabled)),
        ]

    def _student_update(self, state: dict) -> Dict[str, torch.Tensor]:
        losses, state['adapted'], state['t_feats'] = self._forward_train(
            state['inputs'], state['data_samples'])
        return losses

    def _discriminator_update(self, state: dict) -> Dict[str, torch.Tensor]:
        return self.discriminator_loss(state['adapted'], state['t_feats'])
