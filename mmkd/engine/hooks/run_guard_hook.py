import hashlib
import json
import os
import os.path as osp
import shutil
import socket
from typing import Optional

import torch
from mmkd.registry import HOOKS
from mmengine.dist import is_main_process

from mmkd.models.distillers.ktan import FORMER_NAMES
from mmkd.utils.checkpoint import pid_alive, remove_stale_temps
from mmkd.models.distillers.schedule import required_hook
from .utils import StatefulHook, distiller_of

LOCK = '.mmkd_run.lock'


def digest(state: dict, weights: bool) -> str:
    """A digest of a state dict: its keys and shapes (the architecture), or
    also its values (the weights)."""
    h = hashlib.sha1()
    for key in sorted(state):
        t = state[key]
        h.update(f'{key}:{tuple(t.shape)}'.encode())
        if weights:
            h.update(t.detach().cpu().contiguous().reshape(-1).view(
                torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


@HOOKS.register_module()
@required_hook('run_guard', 'nothing stops a second run in this work_dir '
               'or a resume with another teacher')
class RunGuardHook(StatefulHook):
    """Keeps what a run trained from being lost or silently mixed up.

    - **One live run per work_dir.** Training takes ``work_dir/.mmkd_run.lock``
      (host and pid) and gives it back when it ends. A second run in the same
      work_dir while the first lives would overwrite and delete its
      checkpoints: it stops with an error instead. A lock whose process is
      gone (killed) is taken over.
    - **What the checkpoint was trained with.** Each checkpoint records the
      distiller's type and digests of the teacher's architecture and
      weights. A resume with another method or teacher architecture is
      refused (the adapters and discriminators learnt for another teacher);
      other teacher weights are allowed with a warning.
    - **The distillation schedule** (``model.schedule``: scales,
      distillation on/off, which parts train) is saved with each checkpoint
      and restored when the run resumes.
    - **Stale temporary files.** Temporary files that a write killed midway
      left in work_dir are removed.

    Part of mmkd's base runtime (``configs/_base_/distill_runtime.py``).
    """
    priority = 'VERY_HIGH'

    def __init__(self):
        self._record: Optional[dict] = None
        self._lock: Optional[str] = None
        self._schedule = None

    def before_train(self, runner) -> None:
        distiller = distiller_of(runner, type(self).__name__)
        if is_main_process():
            try:
                self._take_lock(runner.work_dir)
            except RuntimeError:
                # the refused run leaves nothing behind: its log folder
                # (work_dir/<timestamp>) and config dump of that name hold
                # only this refusal
                shutil.rmtree(runner.log_dir, ignore_errors=True)
                dump = osp.join(runner.work_dir, f'{runner.timestamp}.py')
                if osp.isfile(dump):
                    os.remove(dump)
                raise
            stale = remove_stale_temps(runner.work_dir)
            if stale:
                runner.logger.info('Removed temporary files of writes that '
                                   f'were killed midway: {stale}')
        distiller.load_teacher()
        # an online method (AFD) has no teacher
        teacher = {} if distiller.teacher is None else \
            distiller.teacher.state_dict()
        self._record = dict(
            method=type(distiller).__name__,
            teacher=type(distiller.teacher).__name__,
            teacher_arch=digest(teacher, weights=False),
            teacher_weights=digest(teacher, weights=True),
            teacher_ckpt=str(distiller.teacher_ckpt))
        self._schedule = distiller.schedule
        saved = self.resumed_state(runner)
        if saved is not None:
            self._compare(runner, saved['record'])
            self._schedule.load_state_dict(saved.get('schedule') or {})

    def after_train(self, runner) -> None:
        if self._lock is not None and osp.exists(self._lock):
            os.remove(self._lock)
        self._lock = None

    def state_dict(self) -> dict:
        return dict(record=self._record, schedule=None if self._schedule is
                    None else self._schedule.state_dict())

    def _take_lock(self, work_dir: str) -> None:
        path = osp.join(work_dir, LOCK)
        me = dict(host=socket.gethostname(), pid=os.getpid())
        if osp.exists(path):
            try:
                with open(path) as f:
                    other = json.load(f)
            except (OSError, ValueError):  # half-written by a killed run
                other = None
            if other and other != me:
                local = other.get('host') == me['host']
                if not local or pid_alive(int(other.get('pid', 0))):
                    raise RuntimeError(
                        f'Another training run (pid {other.get("pid")} on '
                        f'{other.get("host")}) is using work_dir '
                        f'{work_dir!r}: two runs in one work_dir overwrite '
                        'and delete each other\'s checkpoints. Give this run '
                        'another --work-dir' +
                        ('' if local else f', or, if that run has ended, '
                         f'delete {path}') + '.')
        with open(path, 'w') as f:
            json.dump(me, f)
        self._lock = path

    def _compare(self, runner, saved: Optional[dict]) -> None:
        if not saved:
            return
        now = self._record
        refuse = []
        if FORMER_NAMES.get(saved['method'], saved['method']) != \
                FORMER_NAMES.get(now['method'], now['method']):
            refuse.append(f'method ({saved["method"]} then, '
                          f'{now["method"]} now)')
        if (saved['teacher'], saved['teacher_arch']) != (
                now['teacher'], now['teacher_arch']):
            refuse.append(f'teacher architecture ({saved["teacher"]} then, '
                          f'{now["teacher"]} now, with other layers or '
                          'shapes)')
        if refuse:
            raise RuntimeError(
                'The checkpoint this run resumes was trained with a '
                f'different {" and ".join(refuse)}. Its adapters and '
                'discriminator learnt that setup, so resuming would '
                'continue a different experiment. Resume with the config '
                'it was trained with, or start a new run in another '
                'work_dir (its student can be loaded with '
                "model.student.init_cfg=dict(type='Pretrained', "
                'checkpoint=<exported student>)).')
        if saved['teacher_weights'] != now['teacher_weights']:
            runner.logger.warning(
                'The teacher\'s weights differ from those the resumed '
                f'checkpoint was trained with ({saved["teacher_ckpt"]} then, '
                f'{now["teacher_ckpt"]} now); training continues with the '
                'new ones.')
