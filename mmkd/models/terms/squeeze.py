"""KSANC's squeezed knowledge: task-driven attention turns each distilled
stage of both models into one descriptor, and the student matches the
teacher's descriptors."""
from typing import Optional

import torch
import torch.nn.functional as F

from mmkd import registry
from ..distillers.updates import unwrap
from ..tasks import ClassificationTask
from .base import Term, build_loss


def image_loss(task, logits: torch.Tensor, samples) -> torch.Tensor:
    """The task loss of the attention's image-level class scores
    ``(N, num_classes)``: the student head's own loss on a classifier, BCE
    on which classes each image holds on a detector."""
    if isinstance(task, ClassificationTask):
        return task.student.head._get_loss(logits, samples)['loss']
    present = torch.zeros_like(logits)
    for row, sample in zip(present, samples):
        row[sample.gt_instances.labels.long()] = 1
    return F.binary_cross_entropy_with_logits(logits, present)


class Squeeze(Term):
    """``loss_squeeze`` between the descriptors ``g`` of each level (summed
    over levels), and ``distill.loss_att``, the task loss of a linear
    classifier on the teacher's descriptors that trains the attention.

    The student's maps are lifted to the teacher's widths by the core's
    adapter; a lift of 1x1 convs (with BN or none) folds into the squeeze,
    which then lifts the descriptors instead of the maps (the same result,
    without computing the lifted maps).

    Args:
        attention (dict, optional): ``TaskAttention`` (channels and classes
            filled in).
        loss_squeeze (dict, optional): Loss between descriptors.
    """

    def __init__(self, attention: Optional[dict],
                 loss_squeeze: Optional[dict]):
        if (attention is None) != (loss_squeeze is None):
            raise ValueError('attention and loss_squeeze go together: set '
                             'both, or both to None (no squeezed knowledge)')
        self.cfg, self.loss_cfg = attention, loss_squeeze

    @property
    def active(self) -> bool:
        return self.cfg is not None

    def build(self, core) -> None:
        core.loss_squeeze = build_loss(self.loss_cfg, 'loss_squeeze')
        core.attention = None if self.cfg is None else registry.MODELS.build(
            dict(self.cfg, in_channels=core.t_channels,
                 num_classes=core.task.num_classes()))

    def needs_adapter(self, core) -> bool:
        return self.active

    def same_widths(self, core) -> Optional[str]:
        return 'TaskAttention' if self.active else None

    def parts(self):
        return dict(student=['attention'])

    def loss_names(self):
        return ['loss_squeeze', 'loss_att'] if self.active else []

    def folding(self, core) -> bool:
        """Whether the lift folds into the squeeze: an adapter of 1x1 convs
        with BN or no norm lifts the squeezed descriptors, not the maps
        (``T2SAdapter(affine=True)``, ``TaskAttention``'s ``s_lift``)."""
        return self.active and unwrap(core.adapter).foldable

    def squeeze(self, core, s_maps, t_maps) -> dict:
        """The attention on both models, with the student's descriptors
        lifted: by folding the lift into the squeeze where the maps keep
        their size, else by squeezing the lifted maps."""
        if self.folding(core) and all(s.shape[-2:] == t.shape[-2:]
                                      for s, t in zip(s_maps, t_maps)):
            lift = core.adapter(s_maps, affine=True)
            att = core.attention(t_maps, s_maps, [a for a, _ in lift])
            att['s_desc'] = [F.linear(g, a.to(g.dtype), b.to(g.dtype))
                             for g, (a, b) in zip(att['s_desc'], lift)]
            return att
        return core.attention(t_maps, core.adapt(s_maps, t_maps))

    def show(self, core, t_maps, adapted):
        """Both models' attention maps ``M``."""
        if not self.active:
            return []
        out = core.attention(t_maps, adapted)
        return [{'teacher attention M': t, 'student attention M': s}
                for t, s in zip(out['t_masks'], out['s_masks'])]

    def losses(self, core, step):
        if not self.active:
            return {}
        att = self.squeeze(core, step.s_maps, step.t_maps)
        return {
            'distill.loss_squeeze': sum(
                core.loss_squeeze(s, t.detach())
                for s, t in zip(att['s_desc'], att['t_desc'])),
            'distill.loss_att': image_loss(core.task, att['aux_logits'],
                                           step.data_samples)}
