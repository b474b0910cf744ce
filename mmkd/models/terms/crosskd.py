"""CrossKD's term: the student's dense-head features, at one layer of the
head's class and box branches, run through the teacher's head from that
layer on; the predictions this crossed head gives are pulled towards the
teacher's own."""
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..tasks.detection import dense_head_layers
from .base import Term, build_loss


def in_width(layer: nn.Module) -> int:
    """The input channels of a head layer (a conv or an mmcv ConvModule)."""
    conv = getattr(layer, 'conv', layer)
    return conv.in_channels


def aligned(s: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """CrossKD's alignment: the student's map normalised per channel (over
    batch and locations) and given the teacher map's channel mean and
    standard deviation."""
    def stats(x):
        flat = x.transpose(0, 1).flatten(1)
        return (flat.mean(1)[None, :, None, None],
                flat.std(1, unbiased=flat.shape[1] > 1)[None, :, None, None])

    s_mean, s_std = stats(s)
    t_mean, t_std = stats(t)
    return (s - s_mean) / (s_std + 1e-6) * t_std + t_mean


class CrossHead(Term):
    """The student's features entering layer ``layer`` of its dense head's
    class and box branches (``cls_convs`` + class layer, ``reg_convs`` +
    box layer; negative counts from the end: -2 is the last stacked conv),
    aligned to the teacher's features there (per-channel statistics, then
    a ReLU past layer 0; a 1x1 conv first where the widths differ), go
    through the teacher's remaining layers. ``loss_cls`` (``KDLoss``,
    sigmoid or softmax as the heads score) compares the crossed class
    scores with the teacher's own; ``reg_weight`` weighs an L1 between the
    crossed and the teacher's box outputs, each anchor weighted by the
    teacher's top class probability. Works for any dense head laid out so
    (RetinaNet, FCOS, ATSS, GFL, ...), paired level by level."""
    extras = ('head_inputs', )

    def __init__(self, layer: int, loss_cls: Optional[dict],
                 reg_weight: float):
        self.layer, self.cfg = int(layer), loss_cls
        self.reg_weight = float(reg_weight)
        if self.reg_weight < 0:
            raise ValueError(f'reg_weight must be >= 0, got {reg_weight!r}')

    def build(self, core) -> None:
        student, teacher = (getattr(m, 'bbox_head', None)
                            for m in (core.student, core.teacher))
        layers = [dense_head_layers(h) for h in (student, teacher)]
        for name, found, head in zip(('student', 'teacher'), layers,
                                     (student, teacher)):
            if found is None or 'reg' not in found:
                raise ValueError(
                    'CrossKD feeds the student\'s dense-head features '
                    "through the teacher's head: both need cls_convs and a "
                    'class layer, reg_convs and a box layer (RetinaNet, '
                    f'FCOS, ATSS, GFL); the {name}\'s is '
                    f'{type(head or core.student).__name__}.')
        s_layers, self.t_layers = layers
        depths = {len(v) for found in layers for v in found.values()}
        if len(depths) != 1:
            raise ValueError(
                'CrossKD crosses heads layer by layer: the student\'s and '
                "the teacher's branches differ in depth "
                f'({sorted(depths)} layers).')
        depth = depths.pop()
        if not -depth <= self.layer < depth:
            raise ValueError(f'layer={self.layer}: the heads have {depth} '
                             f'layers per branch (0-{depth - 1}).')
        self.index = self.layer % depth
        core.loss_cross = build_loss(self.cfg, 'loss_cls')
        core.loss_cross.use_sigmoid = bool(getattr(
            teacher, 'use_sigmoid_cls', True))
        self.channels = teacher.cls_out_channels
        core.cross_adapters = nn.ModuleDict({
            branch: nn.Conv2d(in_width(s_layers[branch][self.index]),
                              in_width(self.t_layers[branch][self.index]), 1)
            for branch in ('cls', 'reg')
            if in_width(s_layers[branch][self.index]) !=
            in_width(self.t_layers[branch][self.index])}) or None

    def parts(self):
        return dict(student=['cross_adapters'])

    def loss_names(self) -> List[str]:
        return ['loss_cross_cls'] + ['loss_cross_reg'] * (self.reg_weight > 0)

    def crossed(self, core, branch: str, s: torch.Tensor, t: torch.Tensor):
        """The teacher's branch from the crossed layer on, fed the
        student's input there (aligned to the teacher's ``t``)."""
        if core.cross_adapters is not None and branch in core.cross_adapters:
            s = core.cross_adapters[branch](s)
        x = aligned(s, t)
        if self.index > 0:
            x = F.relu(x)
        for layer in self.t_layers[branch][self.index:]:
            x = layer(x)
        return x

    def teacher_inputs(self, branch: str, x: torch.Tensor):
        """The teacher's input to the crossed layer and its own output."""
        for k, layer in enumerate(self.t_layers[branch]):
            if k == self.index:
                mid = x
            x = layer(x)
        return mid, x

    def rows(self, x: torch.Tensor, width: int) -> torch.Tensor:
        n, _, h, w = x.shape
        return x.view(n, -1, width, h, w).permute(0, 1, 3, 4, 2).reshape(
            -1, width)

    def losses(self, core, step):
        inputs = step.student.extras['head_inputs']
        cls_pairs, reg_terms, weight_sum = [], [], 0
        for i, j in core.level_pairs:
            with torch.no_grad():
                t_cls_in, t_cls = self.teacher_inputs('cls',
                                                      step.teacher.maps[j])
            s_cls = self.crossed(core, 'cls', inputs['cls'][self.index][i],
                                 t_cls_in)
            t_rows = self.rows(t_cls, self.channels)
            cls_pairs.append((self.rows(s_cls, self.channels), t_rows))
            if self.reg_weight > 0:  # the teacher's box branch only then
                with torch.no_grad():
                    t_reg_in, t_reg = self.teacher_inputs(
                        'reg', step.teacher.maps[j])
                s_reg = self.crossed(core, 'reg',
                                     inputs['reg'][self.index][i], t_reg_in)
                # each anchor weighted by the teacher's top class score
                anchors = t_cls.shape[1] // self.channels
                top = (t_rows.sigmoid() if core.loss_cross.use_sigmoid else
                       t_rows.softmax(-1)).max(-1).values
                out = t_reg.shape[1] // anchors
                diff = (self.rows(s_reg, out) - self.rows(t_reg, out)).abs()
                reg_terms.append((diff.sum(-1) * top).sum())
                weight_sum = weight_sum + top.sum() * out
        total = sum(s.shape[0] for s, _ in cls_pairs)
        losses = {'distill.loss_cross_cls': sum(
            core.loss_cross(s, t) * (s.shape[0] / total)
            for s, t in cls_pairs)}
        if self.reg_weight > 0:
            losses['distill.loss_cross_reg'] = self.reg_weight * sum(
                reg_terms) / weight_sum.clamp(min=1e-6)
        return losses
