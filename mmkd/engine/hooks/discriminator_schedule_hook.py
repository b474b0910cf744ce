from typing import Optional

from mmkd.registry import HOOKS
from mmengine.hooks import Hook

from .utils import check_by_epoch, distiller_of, progress


@HOOKS.register_module()
class DiscriminatorScheduleHook(Hook):
    """Warm the discriminator up before the student learns from it, and
    optionally freeze it later.

    During the first ``warmup`` steps only the discriminator is updated
    (the student and adapters are not); from ``freeze`` on the
    discriminator is no longer updated (its adversarial loss still trains
    the student). Steps are iterations, or epochs with ``by_epoch=True``;
    the switches depend only on the run's progress, so a resumed run sets
    them again.

    Args:
        warmup (int): Steps with discriminator-only updates.
        freeze (int, optional): First step with a frozen discriminator.
        by_epoch (bool): Count epochs instead of iterations.
    """
    priority = 'NORMAL'

    def __init__(self,
                 warmup: int = 0,
                 freeze: Optional[int] = None,
                 by_epoch: bool = False):
        if warmup < 0 or (freeze is not None and freeze <= warmup):
            raise ValueError(
                'DiscriminatorScheduleHook needs 0 <= warmup < freeze, got '
                f'warmup={warmup}, freeze={freeze}')
        self.warmup, self.freeze, self.by_epoch = warmup, freeze, by_epoch

    def before_train(self, runner) -> None:
        name = type(self).__name__
        distiller = distiller_of(runner, name)
        if not any(u.adversary and u.active() for u in distiller.updates()):
            raise ValueError(f'{name}: this {type(distiller).__name__} has no '
                             'discriminator to schedule; remove the hook.')
        length = check_by_epoch(runner, self.by_epoch, name)
        last = self.freeze if self.freeze is not None else self.warmup
        if last >= length:
            raise ValueError(
                f'{name}: warmup={self.warmup}, freeze={self.freeze} reach '
                f'beyond the run ({length} '
                f'{"epochs" if self.by_epoch else "iterations"}).')
        self._apply(runner, distiller)

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._apply(runner, distiller_of(runner, type(self).__name__))

    def _apply(self, runner, distiller) -> None:
        t = progress(runner, self.by_epoch)
        distiller.schedule.set_training(
            student=t >= self.warmup,
            adversary=self.freeze is None or t < self.freeze)
