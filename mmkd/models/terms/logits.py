"""Logit terms: Hinton's KD over the task's comparable class-score rows
(images, anchors, RoIs), and KSANC's match of the rows as one batch."""
from typing import Optional

import torch

from .base import Term, build_loss


def logit_kd(loss_kd, task, student, teacher) -> torch.Tensor:
    """``loss_kd`` over a task's logit rows of two networks'
    :class:`~mmkd.models.tasks.Features`: the mean over all rows (anchors
    of all levels, RoIs, images), pair by pair (no copy). A loss that
    ``needs_labels`` (DKD) also gets the student's labels (one per image:
    a classifier's rows)."""
    pairs = task.logit_pairs(student, teacher)
    total = sum(s.shape[0] for s, _ in pairs)
    labels = (student.labels, ) if getattr(loss_kd, 'needs_labels',
                                           False) else ()
    return sum(loss_kd(s, t, *labels) * (s.shape[0] / total)
               for s, t in pairs)


class LogitKD(Term):
    """``loss_kd(z_s, z_t)`` over every pair of class-score rows.

    Args:
        loss_kd (dict, optional): ``KDLoss`` (sigmoid or softmax set from
            the student's head); None: no logit term.
    """

    def __init__(self, loss_kd: Optional[dict]):
        self.cfg = loss_kd

    @property
    def active(self) -> bool:
        return self.cfg is not None

    @property
    def needs_logits(self) -> bool:
        return self.active

    def build(self, core) -> None:
        core.loss_kd = build_loss(self.cfg, 'loss_kd')
        if getattr(core.loss_kd, 'needs_labels', False) and \
                not core.task.has_labels:
            raise ValueError(
                f'{type(core.loss_kd).__name__} needs the class label of '
                f'each logit row; the {core.task.models}\' rows (anchors, '
                'RoIs) have none. Use KDLoss for them.')

    def loss_names(self):
        return ['loss_kd'] if self.active else []

    def losses(self, core, step):
        if not self.active:
            return {}
        return {'distill.loss_kd': logit_kd(core.loss_kd, core.task,
                                            step.student, step.teacher)}


class LogitMatch(LogitKD):
    """``loss_kd`` (KSANC's ``l1``: ``LogitMSELoss``) over all rows as one
    batch; the rows stay in the step for a logit adversary."""

    def losses(self, core, step):
        pairs = core.task.logit_pairs(step.student, step.teacher)
        step.rows = tuple(torch.cat(rows) for rows in zip(*pairs))
        return {'distill.loss_kd': core.loss_kd(*step.rows)}
