"""Detection: MMDetection detectors' neck (FPN) levels and the class scores
of their dense or RoI heads."""
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log

from .base import Features, TaskAdapter, evaluating, loaded

# The last layers of mmdet's dense heads that run ``cls_convs`` then a
# class layer and ``reg_convs`` then a box layer.
CLS_LAYERS = ('retina_cls', 'conv_cls', 'gfl_cls', 'atss_cls')
REG_LAYERS = ('retina_reg', 'conv_reg', 'gfl_reg', 'atss_reg')


def dense_head_layers(head: nn.Module) -> Optional[Dict[str, List]]:
    """The layers of the class and box branches of ``head`` in order
    (``dict(cls=[*cls_convs, class layer], reg=[*reg_convs, box
    layer])``; ``reg`` absent where the head has no such box branch) for
    heads laid out so (RetinaNet, FCOS, ATSS, GFL, ...); None for any
    other head."""
    found = {}
    for branch, names in (('cls', CLS_LAYERS), ('reg', REG_LAYERS)):
        last = next((getattr(head, n) for n in names if hasattr(head, n)),
                    None)
        convs = getattr(head, f'{branch}_convs', None)
        if last is not None and isinstance(convs, nn.ModuleList):
            found[branch] = [*convs, last]
    return found if 'cls' in found else None


def dense_cls_branch(head: nn.Module):
    """A function computing only the class scores of ``head`` (skipping its
    box branch) for heads laid out as ``cls_convs`` + a class layer; None
    for any other head."""
    layers = (dense_head_layers(head) or {}).get('cls')
    if layers is None:
        return None

    def cls_scores(feats):
        outs = []
        for x in feats:
            for layer in layers:
                x = layer(x)
            outs.append(x)
        return outs

    return cls_scores


def priors(head, level: int) -> int:
    """Anchors per location of ``head`` at ``level`` (SSD's differ)."""
    n = getattr(head, 'num_base_priors', 1)
    return n[level] if isinstance(n, (list, tuple)) else n


class DetectionTask(TaskAdapter):
    """Neck levels of any detector with a neck; logit KD on the dense head's
    class scores, or for two-stage detectors on the RoI head's scores for
    the student's sampled proposals fed through both RoI heads."""
    name, models = 'detection', 'detectors'
    part, unit, maps_name = 'neck', 'levels', 'FPN levels'
    probe_size = 256

    def __init__(self, student, teacher):
        super().__init__(student, teacher)
        for name, model in (('student', student), ('teacher', teacher)):
            if not getattr(model, 'with_neck', False):
                raise ValueError(
                    f'The {name} ({type(model).__name__}) has no neck: '
                    'feature distillation works on neck (FPN) levels; '
                    'choose a detector with a neck.')
        self.kd_head = None

    @classmethod
    def accepts(cls, model) -> bool:
        detector = loaded('mmdet.models.detectors', 'BaseDetector')
        return detector is not None and isinstance(model, detector)

    def maps(self, model, inputs) -> List[torch.Tensor]:
        return list(model.extract_feat(inputs))

    def setup_kd(self, kd_pairs, s_strides, t_strides, loss_kd) -> None:
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
            heads = [s.bbox_head, t.bbox_head]
            for name, h in zip(('student', 'teacher'), heads):
                if not hasattr(h, 'cls_out_channels'):
                    raise ValueError(
                        f'Logit KD needs class-score maps, and the '
                        f'{name}\'s {type(h).__name__} has none that mmkd '
                        '(cls_out_channels) can read (e.g. YOLOv3 packs '
                        f'boxes, objectness and classes together); {off}')
            if any(s_strides[i] != t_strides[j] for i, j in kd_pairs):
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
        self.kd_head = 'roi' if two_stage[0] else 'dense'
        if self.kd_head == 'dense':
            out = [h.cls_out_channels for h in heads]
            if out[0] != out[1]:
                raise ValueError(
                    f'Logit KD needs scores of one kind: the student\'s head '
                    f'scores {out[0]} channels per anchor, the teacher\'s '
                    f'{out[1]} (one has a background class: softmax vs '
                    f'sigmoid). Use heads of the same loss_cls, {off}')
            self.channels = out[0]
            self.kd_pairs = kd_pairs
            # anchors per location and level; where they differ, the scores
            # of each location are averaged over its anchors on both sides
            self.kd_anchors = [(priors(heads[0], i), priors(heads[1], j))
                               for i, j in kd_pairs]
            if any(a != b for a, b in self.kd_anchors):
                print_log(
                    'Logit KD: student and teacher have other numbers of '
                    'anchors per location (student, teacher per level: '
                    f'{self.kd_anchors}); KD compares per-location class '
                    'scores averaged over the anchors.', logger='current')
            self.teacher_cls_scores = self._fast_teacher_scores()
        head = heads[0]
        loss_kd.use_sigmoid = bool(
            head.use_sigmoid_cls if hasattr(head, 'use_sigmoid_cls') else
            getattr(getattr(head, 'loss_cls', None), 'use_sigmoid', False))
        self.loss_kd = loss_kd

    @torch.no_grad()
    def _fast_teacher_scores(self):
        """Only the class branch of the teacher's head where that reproduces
        the head's own scores on probe features (the box branch is half a
        dense head's cost), else the whole head."""
        head = self.teacher.bbox_head
        full = lambda feats: head(feats)[0]  # noqa: E731
        branch = dense_cls_branch(head)
        if branch is None:
            return full
        gen = torch.Generator().manual_seed(0)
        with evaluating(self.teacher):
            probe = self.maps(self.teacher, torch.zeros(1, 3, 128, 128))
        feats = [torch.randn(f.shape, generator=gen) for f in probe]
        same = all(
            a.shape == b.shape and torch.allclose(a, b, atol=1e-5)
            for a, b in zip(branch(feats), full(feats)))
        return branch if same else full

    def watch_student(self, kd: bool, extras=()) -> None:
        s, rec = self.student, self.student_rec
        rec.watch(s.neck, 'maps')
        if kd and self.kd_head == 'dense':
            rec.watch(s.bbox_head, 'cls_scores')
        elif kd and self.kd_head == 'roi':
            rec.watch(s.roi_head.bbox_roi_extractor, 'rois', take_input=1)
            rec.watch(s.roi_head.bbox_head, 'roi_scores')
        unknown = set(extras) - {'head_inputs'}
        if unknown:
            raise ValueError(f'A detector records no {sorted(unknown)}.')
        if 'head_inputs' in extras:
            self.head_layers = dense_head_layers(
                getattr(s, 'bbox_head', None))
            if self.head_layers is None:
                raise ValueError(
                    'This method reads the inputs of the dense head\'s '
                    'layers (cls_convs and a class layer, reg_convs and a '
                    'box layer, as RetinaNet, FCOS, ATSS and GFL have); the '
                    f'{type(s).__name__} has '
                    f'{type(getattr(s, "bbox_head", s.neck)).__name__}. '
                    'Choose a student with such a dense head.')
            for branch, layers in self.head_layers.items():
                for i, layer in enumerate(layers):
                    rec.watch(layer, f'head_inputs.{branch}.{i}',
                              take_input=0, every_call=True)

    def features(self, records, data_samples=None) -> Features:
        if 'roi_scores' in records:  # (num_rois, C + 1) for its proposals
            return Features(list(records['maps']), records['roi_scores'][0],
                            extras=dict(rois=records['rois']))
        scores = records.get('cls_scores')
        extras = {}
        if 'head_inputs.cls.0' in records:  # per branch, layer, level
            extras['head_inputs'] = {
                branch: [records[f'head_inputs.{branch}.{i}']
                         for i in range(len(layers))]
                for branch, layers in self.head_layers.items()}
        return Features(list(records['maps']),
                        None if scores is None else scores[0], extras=extras)

    @torch.no_grad()
    def teacher_forward(self, inputs, kd: bool) -> Features:
        """The teacher's neck levels; its class scores are computed by
        :meth:`logit_pairs` (from these maps, for the student's RoIs)."""
        return Features(self.maps(self.teacher, inputs))

    def logit_pairs(self, student, teacher):
        t_feats = teacher.maps
        if self.kd_head == 'roi':
            with torch.no_grad():
                t_cls = self.teacher.roi_head._bbox_forward(
                    t_feats, student.extras['rois'])['cls_score']
            return [(student.logits, t_cls)]  # (num_rois, C + 1)
        with torch.no_grad():
            t_scores = self.teacher_cls_scores(t_feats)
        s_scores, channels = student.logits, self.channels

        def rows(x, anchors, average):  # (N, A*C, H, W) -> (N*A*H*W, C)
            if average:  # -> (N, 1*C, H, W): a location's mean over anchors
                n, _, h, w = x.shape
                x = x.view(n, anchors, channels, h, w).mean(1)
            if self.loss_kd.use_sigmoid:  # per-class KL: any order will do
                return x.reshape(-1, channels)
            n, _, h, w = x.shape
            x = x.view(n, -1, channels, h, w).permute(0, 1, 3, 4, 2)
            return x.reshape(-1, channels)

        return [(rows(s_scores[i], a_s, a_s != a_t),
                 rows(t_scores[j], a_t, a_s != a_t))
                for (i, j), (a_s, a_t) in zip(self.kd_pairs,
                                              self.kd_anchors)]

    def num_classes(self) -> int:
        t = self.teacher
        head = t.roi_head.bbox_head if hasattr(t, 'roi_head') else t.bbox_head
        return head.num_classes

    def logit_width(self) -> int:
        if hasattr(self.teacher, 'roi_head'):
            return self.num_classes() + 1  # RoI scores: C + background
        return self.teacher.bbox_head.cls_out_channels
