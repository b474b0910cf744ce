"""Terms of one loss module per distilled level pair: the loss owns
modules of its own (MGD's generation block, FGD's GcBlocks), built with
the pair's widths and trained with the student."""
import torch.nn as nn

from mmkd import registry
from .base import Term


class LevelLosses(Term):
    """``distill.<name>``: a loss module per level pair (its
    ``student_channels`` and ``teacher_channels`` filled in), the child
    ``child`` of the core in the student's optimizer part, summed over the
    pairs as MGD's and FGD's configs sum their per-level losses. None:
    no term.

    Args:
        cfg (dict, optional): The loss module's config.
        name (str): The term's name (``loss_mgd``).
        child (str): The core's child holding the modules (``generation``).
    """

    def __init__(self, cfg, name: str, child: str):
        self.cfg, self.name, self.child = cfg, name, child

    @property
    def active(self) -> bool:
        return self.cfg is not None

    def build(self, core) -> None:
        setattr(core, self.child, nn.ModuleList(
            registry.MODELS.build(dict(self.cfg, student_channels=s,
                                       teacher_channels=t))
            for s, t in zip(core.s_channels, core.t_channels)
        ) if self.active else None)

    def parts(self):
        return dict(student=[self.child])

    def loss_names(self):
        return [self.name] if self.active else []

    def extra(self, step) -> tuple:
        """What each loss module takes after the two maps."""
        return ()

    def losses(self, core, step):
        if not self.active:
            return {}
        extra = self.extra(step)
        return {f'distill.{self.name}': sum(
            loss(s, t, *extra) for loss, s, t in zip(
                getattr(core, self.child), step.s_maps, step.t_maps))}
