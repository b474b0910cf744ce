"""What mmkd's hooks share: finding the distiller, the run's progress, and
hook state kept in runner checkpoints."""
from typing import Optional

from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop

STATE_KEY = 'mmkd_hooks'


def distiller_of(runner, hook: str):
    """The (unwrapped) distiller the runner trains; a clear error for a
    model that is not one."""
    from mmkd.models.distillers.base_distiller import BaseDistiller
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    if not isinstance(model, BaseDistiller):
        raise TypeError(
            f'{hook} schedules distillation, but this config trains a '
            f'{type(model).__name__}, not an mmkd distiller. Remove the hook '
            "or set model=dict(type='DetectionDistiller', student=..., "
            'teacher=...).')
    return model


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


def save_state(checkpoint: dict, name: str, state: dict) -> None:
    checkpoint.setdefault(STATE_KEY, {})[name] = state


def resumed_state(checkpoint: dict, name: str) -> Optional[dict]:
    return checkpoint.get(STATE_KEY, {}).get(name)
