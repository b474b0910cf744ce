import os.path as osp
from typing import Dict, Optional

from mmkd.registry import HOOKS
from mmengine.dist import master_only
from mmengine.hooks import Hook

from mmkd.utils.checkpoint import (plain_meta, save_atomic,
                                   student_checkpoint, student_config)
from mmkd.models.distillers.base_distiller import unwrap
from .utils import distiller_of


@HOOKS.register_module()
class StudentCheckpointHook(Hook):
    """Write the student alone next to the runner's checkpoints, ready for
    plain MMDetection: ``student_latest.pth`` whenever the runner saves a
    checkpoint, ``student_best.pth`` whenever it saves a new best one (with
    ``default_hooks.checkpoint.save_best``), and ``student_config.py``, the
    student's own config without mmkd. Files are replaced atomically.

    Usage: ``tools/test.py student_config.py student_best.pth`` in any
    MMDetection 3.x.

    Args:
        latest (bool): Write ``student_latest.pth``.
        best (bool): Write ``student_best.pth``.
    """
    priority = 'LOWEST'  # after CheckpointHook has saved

    def __init__(self, latest: bool = True, best: bool = True):
        # the file kind -> the message-hub info CheckpointHook updates
        self.kinds = {kind: info for kind, info, on in (
            ('latest', 'last_ckpt', latest), ('best', 'best_ckpt', best))
                      if on}
        self._seen: Dict[str, Optional[str]] = {}

    def before_train(self, runner) -> None:
        distiller_of(runner, type(self).__name__)
        # what the runner saved before a resume is not this model's state
        self._seen = {k: runner.message_hub.get_info(info)
                      for k, info in self.kinds.items()}
        self._write_config(runner)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self._sync(runner)

    def after_train_epoch(self, runner) -> None:
        self._sync(runner)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._sync(runner)

    @master_only
    def _write_config(self, runner) -> None:
        student_config(runner.cfg).dump(
            osp.join(runner.work_dir, 'student_config.py'))
        for k in range(1, len(runner.cfg.model.get('peers') or []) + 1):
            student_config(runner.cfg, peer=k).dump(
                osp.join(runner.work_dir, f'peer{k}_config.py'))

    @master_only
    def _sync(self, runner) -> None:
        for kind, info in self.kinds.items():
            path = runner.message_hub.get_info(info)
            if path and path != self._seen.get(kind):
                self._seen[kind] = path
                student = unwrap(
                    distiller_of(runner, type(self).__name__).student)
                meta = plain_meta(dict(dataset_meta=getattr(
                    runner.train_dataloader.dataset, 'metainfo', None)))
                save_atomic(
                    student_checkpoint(student.state_dict(), meta),
                    osp.join(osp.dirname(path), f'student_{kind}.pth'))
