import importlib.util
import os.path as osp
from typing import Dict, Optional

from mmkd.registry import HOOKS
from mmengine.dist import master_only
from mmengine.hooks import Hook

from mmkd.utils.checkpoint import (plain_meta, save_atomic,
                                   student_checkpoint, student_config)
from mmkd.models.distillers.base_distiller import unwrap
from mmkd.models.distillers.schedule import required_hook
from .utils import distiller_of


@HOOKS.register_module()
@required_hook('student_checkpoint', 'no student_latest.pth or '
               'student_config.py is written')
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
    def after_train(self, runner) -> None:
        """One line at the end: where the student is and how to test and
        export it."""
        work = runner.work_dir
        ckpt = osp.join(work, 'student_best.pth')
        if not ('best' in self.kinds and osp.isfile(ckpt)):
            ckpt = osp.join(work, 'student_latest.pth')
        last = runner.message_hub.get_info('last_ckpt') or osp.join(
            work, 'epoch_N.pth')
        peers = len(runner.cfg.model.get('peers') or [])
        runner.logger.info(
            f'Distillation done. The student: {ckpt} with '
            f'{osp.join(work, "student_config.py")}'
            + (f' (peers: peerK_config.py, K=1..{peers})' if peers else '')
            + f'. Test it with plain {toolbox_tool(runner, "test.py")} '
            f'{osp.join(work, "student_config.py")} {ckpt}; export a '
            f'student checkpoint: python {mmkd_tool("export_student.py")} '
            f'{last} student.pth' + (' [--peer K]' if peers else '') + '.')

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


def toolbox_tool(runner, name: str) -> str:
    """``python <mmdet or mmpretrain>/.mim/tools/NAME`` of the run's
    toolbox (found without importing it)."""
    scope = runner.cfg.get('default_scope') or 'mmdet'
    spec = importlib.util.find_spec(scope)
    if spec is None or not spec.submodule_search_locations:
        return f'python <{scope}>/tools/{name}'
    root = list(spec.submodule_search_locations)[0]
    return f'python {osp.join(root, ".mim", "tools", name)}'


def mmkd_tool(name: str) -> str:
    """mmkd's ``tools/model_converters/NAME`` (in the checkout or the
    wheel's ``mmkd/.mim``)."""
    import mmkd
    pkg = osp.dirname(osp.abspath(mmkd.__file__))
    for root in (osp.join(osp.dirname(pkg), 'tools'),
                 osp.join(pkg, '.mim', 'tools')):
        path = osp.join(root, 'model_converters', name)
        if osp.isfile(path):
            return path
    return osp.join('tools', 'model_converters', name)
