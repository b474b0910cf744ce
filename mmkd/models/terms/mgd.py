"""MGD's term: per distilled level pair, the student's masked map
regenerates the teacher's (``MGDLoss``, whose align conv and generation
block train with the student)."""
import torch.nn as nn

from mmkd import registry
from .base import Term


class MaskedGeneration(Term):
    """``loss_mgd`` per level pair (one ``MGDLoss`` each, widths filled
    in, the child ``generation``), summed over the pairs as the authors'
    detection configs sum their per-level losses."""

    def __init__(self, loss_mgd: dict):
        self.cfg = loss_mgd

    @property
    def active(self) -> bool:
        return self.cfg is not None

    def build(self, core) -> None:
        core.generation = nn.ModuleList(
            registry.MODELS.build(dict(self.cfg, student_channels=s,
                                       teacher_channels=t))
            for s, t in zip(core.s_channels, core.t_channels)
        ) if self.active else None

    def parts(self):
        return dict(student=['generation'])

    def loss_names(self):
        return ['loss_mgd'] if self.active else []

    def losses(self, core, step):
        if not self.active:
            return {}
        return {'distill.loss_mgd': sum(
            loss(s, t) for loss, s, t in zip(core.generation, step.s_maps,
                                             step.t_maps))}
