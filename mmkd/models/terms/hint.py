"""Hints: a feature loss between the student's distilled maps and the
teacher's (FitNet's MSE; AT, CWD, PKD with their losses)."""
from typing import Optional

from .base import Term, build_loss


class Hint(Term):
    """``loss_feat(T2S(F_s), F_t)`` averaged over the level pairs.

    Args:
        loss_feat (dict, optional): The feature loss (``FeatureMSELoss``,
            ``ATLoss``, ``CWDLoss``, ``PKDLoss``); None: no hint.
    """

    def __init__(self, loss_feat: Optional[dict]):
        self.cfg = loss_feat

    @property
    def active(self) -> bool:
        return self.cfg is not None

    def build(self, core) -> None:
        core.loss_feat = build_loss(self.cfg, 'loss_feat')

    def needs_adapter(self, core) -> bool:
        return self.active

    def same_widths(self, core) -> Optional[str]:
        if self.active and getattr(core.loss_feat, 'same_channels', True):
            return type(core.loss_feat).__name__
        return None

    def loss_names(self):
        return ['loss_feat'] if self.active else []

    def losses(self, core, step):
        if not self.active:
            return {}
        maps = step.adapted
        return {'distill.loss_feat': sum(
            core.loss_feat(s, t) for s, t in zip(maps, step.t_maps)) /
            len(maps)}
