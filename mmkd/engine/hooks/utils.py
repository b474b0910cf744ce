"""What mmkd's hooks share: finding the distiller, the run's progress, and
hook state kept in runner checkpoints."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

from mmkd.models.distillers.base_distiller import BaseDistiller, unwrap

STATE_KEY = 'mmkd_hooks'


def distiller_of(runner, hook: str):
    """The (unwrapped) distiller the runner trains, which learns that
    ``hook`` runs; a clear error for a model that is not one."""
    model = unwrap(runner.model)
    if not isinstance(model, BaseDistiller):
        raise TypeError(
            f'{hook} schedules distillation, but this config trains a '
            f'{type(model).__name__}, not an mmkd distiller. Remove the hook '
            "or set model=dict(type='DetectionDistiller', student=..., "
            'teacher=...).')
    announce(runner, hook)
    return model


def announce(runner, hook: str) -> None:
    """Tell the distiller, if the runner trains one, that ``hook`` runs (it
    warns at the first iteration when a base hook is missing)."""
    model = unwrap(runner.model)
    if isinstance(model, BaseDistiller):
        model.schedule.announce(hook)


def epoch_based(runner) -> bool:
    return isinstance(runner.train_loop, EpochBasedTrainLoop)


def progress(runner, by_epoch: bool) -> int:
    """The epoch or iteration about to be trained (0-based)."""
    return runner.epoch if by_epoch else runner.iter


def check_by_epoch(runner, by_epoch: bool, hook: str) -> int:
    """The run's length in the hook's unit (epochs or iterations)."""
    if by_epoch and not epoch_based(runner):
        raise ValueError(
            f'{hook}: by_epoch=True needs an epoch-based train loop; this '
            f'run uses {type(runner.train_loop).__name__}. Give the schedule '
            'in iterations (by_epoch=False).')
    return runner.max_epochs if by_epoch else runner.max_iters


class StatefulHook(Hook):
    """A hook whose ``state_dict()`` is saved in every runner checkpoint
    (under ``mmkd_hooks.<class name>``, as plain data) and handed back by
    :meth:`resumed_state` in ``before_train`` of a run resumed from that
    checkpoint (not of a run that only loads its weights)."""
    _pending: Optional[tuple] = None

    def state_dict(self) -> dict:
        raise NotImplementedError

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault(STATE_KEY, {})[type(self).__name__] = \
            self.state_dict()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(STATE_KEY, {}).get(type(self).__name__)
        self._pending = None if state is None else (
            checkpoint['meta']['iter'], state)

    def resumed_state(self, runner) -> Optional[dict]:
        """The saved state if this run resumed from it (once)."""
        pending, self._pending = self._pending, None
        if pending is not None and pending[0] == runner.iter > 0:
            return pending[1]
        return None
