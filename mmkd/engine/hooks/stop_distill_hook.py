from typing import Optional

from mmkd.registry import HOOKS

from .utils import StatefulHook, check_by_epoch, distiller_of, progress


@HOOKS.register_module()
class StopDistillHook(StatefulHook):
    """Stop distillation at ``stop_epoch`` or ``stop_iter``; the student
    then trains on its own task losses (no teacher forward, no
    discriminator updates).

    The stop is saved in the runner's checkpoints: a run resumed after it
    stays stopped, even when resumed from a later point or with another
    ``stop_*`` value.

    Args:
        stop_epoch (int, optional): First epoch (0-based) without
            distillation.
        stop_iter (int, optional): First iteration without distillation.
    """
    priority = 'NORMAL'

    def __init__(self,
                 stop_epoch: Optional[int] = None,
                 stop_iter: Optional[int] = None):
        if (stop_epoch is None) == (stop_iter is None):
            raise ValueError('StopDistillHook needs exactly one of stop_epoch '
                             f'and stop_iter, got {stop_epoch}, {stop_iter}')
        stop = stop_epoch if stop_iter is None else stop_iter
        if not isinstance(stop, int) or stop < 1:
            raise ValueError(f'StopDistillHook: the stop must be an int >= 1, '
                             f'got {stop!r}')
        self.by_epoch = stop_epoch is not None
        self.stop = stop
        self.stopped_at: Optional[dict] = None  # epoch and iter of the stop

    def before_train(self, runner) -> None:
        name = type(self).__name__
        distiller = distiller_of(runner, name)
        length = check_by_epoch(runner, self.by_epoch, name)
        if self.stop >= length:
            unit = 'epoch' if self.by_epoch else 'iter'
            raise ValueError(
                f'{name}: stop_{unit}={self.stop} is not before '
                f'max_{unit}s={length}, so distillation would never stop. '
                f'Lower stop_{unit}, or remove the hook.')
        resumed = self.resumed_state(runner)
        if resumed is not None:
            self.stopped_at = resumed['stopped_at']
        if self.stopped_at is not None:
            distiller.schedule.stop()
            runner.logger.info(
                'Distillation stopped earlier in this run (at epoch '
                f'{self.stopped_at["epoch"]}, iteration '
                f'{self.stopped_at["iter"]}); the student trains alone.')

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if (self.stopped_at is None
                and progress(runner, self.by_epoch) >= self.stop):
            self.stopped_at = dict(epoch=runner.epoch, iter=runner.iter)
            distiller_of(runner, type(self).__name__).schedule.stop()
            runner.logger.info(
                f'Distillation stops at epoch {runner.epoch}, iteration '
                f'{runner.iter}; the student continues on its task losses.')

    def state_dict(self) -> dict:
        return dict(stopped_at=self.stopped_at)
