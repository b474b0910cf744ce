"""FGD's term: per distilled neck level, focal (foreground/background
under the teacher's attention) and global (GcBlock relation) imitation
from the ground-truth boxes (``FGDLoss``, whose align conv and GcBlocks
train with the student)."""
import torch.nn as nn

from mmkd import registry
from .base import Term


class FocalGlobal(Term):
    """``loss_fgd`` per level pair (one ``FGDLoss`` each, widths filled in,
    the child ``fgd``), summed over the pairs; the boxes are each image's
    ground truth in the frame of the batch's padded input, which the neck
    levels cover."""

    def __init__(self, loss_fgd: dict):
        self.cfg = loss_fgd

    @property
    def active(self) -> bool:
        return self.cfg is not None

    def build(self, core) -> None:
        core.fgd = nn.ModuleList(
            registry.MODELS.build(dict(self.cfg, student_channels=s,
                                       teacher_channels=t))
            for s, t in zip(core.s_channels, core.t_channels)
        ) if self.active else None

    def parts(self):
        return dict(student=['fgd'])

    def loss_names(self):
        return ['loss_fgd'] if self.active else []

    def losses(self, core, step):
        if not self.active:
            return {}
        samples = step.data_samples
        boxes = [s.gt_instances.bboxes for s in samples]
        boxes = [getattr(b, 'tensor', b) for b in boxes]  # mmdet box types
        shapes = [s.metainfo.get('batch_input_shape', step.inputs.shape[-2:])
                  for s in samples]
        return {'distill.loss_fgd': sum(
            loss(s, t, boxes, shapes) for loss, s, t in zip(
                core.fgd, step.s_maps, step.t_maps))}
