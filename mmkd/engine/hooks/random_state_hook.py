import contextlib
import random
from typing import Optional

import numpy as np
import torch
from mmkd.registry import HOOKS
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import CheckpointHook

from mmkd.models.distillers.schedule import required_hook
from .utils import StatefulHook, announce, epoch_based


def get_random_state() -> dict:
    """Python, numpy and torch random states as plain data (lists, ints and
    a byte tensor: what ``torch.load(weights_only=True)`` accepts)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state(legacy=True)
    state = dict(
        python=random.getstate(),
        numpy=[kind, keys.tolist(), int(pos), int(has_gauss), float(gauss)],
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state: dict) -> None:
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state['numpy']
    np.random.set_state(
        (kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@contextlib.contextmanager
def kept_random_state():
    """Run the body without advancing the training's random streams."""
    state = get_random_state()
    try:
        yield
    finally:
        set_random_state(state)


def gather_random_states() -> list:
    """Every rank's random state, in rank order (on every rank)."""
    state = get_random_state()
    if get_world_size() == 1:
        return [state]
    return all_gather_object(state)


@HOOKS.register_module()
@required_hook('random_state', 'a resume will not be exact')
class RandomStateHook(StatefulHook):
    """Save every rank's random state in each runner checkpoint and restore
    it on resume, so a resumed run draws the same augmentations and samples
    as the uninterrupted one. Validation runs with the training's random
    state kept aside, so evaluating never shifts what training draws.

    Part of mmkd's base runtime (``configs/_base_/distill_runtime.py``).
    Data augmentation after a resume is exact in epoch-based runs whose
    loader runs in the main process or re-seeds its workers every epoch
    (``persistent_workers=False``), and in iteration-based runs whose
    loader uses workers (mmengine replays the skipped batches in fresh
    workers). Otherwise a warning says so at the resume.
    """
    priority = 'LOW'  # snapshot before CheckpointHook saves

    def __init__(self):
        self._latest: Optional[list] = None
        self._outside_val: Optional[list] = None
        self._every_iter = False

    def before_train(self, runner) -> None:
        announce(runner, type(self).__name__)
        # snapshot (a collective under DDP) only where a checkpoint may
        # follow: every epoch end, and every iteration only when the
        # runner's checkpoints are saved by iteration
        self._every_iter = any(
            isinstance(h, CheckpointHook) and not h.by_epoch
            for h in runner.hooks)
        resumed = self.resumed_state(runner)
        if resumed is not None:
            self._restore(runner, resumed['ranks'])

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if self._every_iter:
            self._latest = gather_random_states()

    def after_train_epoch(self, runner) -> None:
        self._latest = gather_random_states()

    def before_val(self, runner) -> None:
        self._outside_val = gather_random_states()

    def after_val(self, runner) -> None:
        if self._outside_val is not None:
            set_random_state(self._outside_val[get_rank()])
            self._outside_val = None

    def state_dict(self) -> dict:
        # a best checkpoint is saved during validation: keep the
        # training's state, not validation's
        return dict(
            ranks=self._outside_val or self._latest or [get_random_state()])

    def _restore(self, runner, states: list) -> None:
        if len(states) == get_world_size():
            set_random_state(states[get_rank()])
            runner.logger.info('Random state restored from the checkpoint.')
        else:
            set_random_state(states[0])
            runner.logger.warning(
                f'The checkpoint holds the random state of {len(states)} '
                f'processes, this run has {get_world_size()}: every rank '
                "continues from rank 0's, so the data drawn differs from "
                'the interrupted run.')
        caveat = self._inexact_data(runner)
        if caveat:
            runner.logger.warning(
                f'{caveat}: the augmentations drawn after this resume '
                'differ from an uninterrupted run (everything else is '
                'restored exactly).')

    @staticmethod
    def _inexact_data(runner) -> Optional[str]:
        """Why the data side of this resume cannot be exact, if it cannot."""
        loader = runner.train_dataloader
        workers = getattr(loader, 'num_workers', 0)
        persistent = getattr(loader, 'persistent_workers', False)
        if workers > 0 and persistent and epoch_based(runner):
            return ('The train dataloader keeps its workers across epochs '
                    '(persistent_workers=True), and their random state is '
                    'not in the checkpoint')
        if workers == 0 and not epoch_based(runner):
            return ('An iteration-based loop re-reads the trained batches '
                    'on resume, and with num_workers=0 that draws from the '
                    'restored random state')
        return None
