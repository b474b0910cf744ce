"""A process killed (SIGKILL) while it writes a checkpoint over the
previous one: with mmkd's atomic backend the previous checkpoint stays
complete; with mmengine's default local backend it is destroyed (which
shows the test can fail)."""
import glob
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from mmkd.utils import load_checkpoint_file

pytestmark = pytest.mark.e2e
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

WRITER = r'''
import sys, torch
import mmkd  # registers the backend
from mmengine.runner.checkpoint import save_checkpoint
path, backend = sys.argv[1], sys.argv[2]
args = None if backend == 'default' else dict(backend=backend)
weights = torch.arange(40_000_000, dtype=torch.float32)  # 160 MB
for version in range(1000):
    save_checkpoint(dict(meta=dict(version=version), state_dict=dict(
        w=weights + version)), path, backend_args=args)
'''


def kill_while_writing(path, backend, full_size=None, timeout=120):
    """Start the writer, wait for its first complete checkpoint, then kill
    it in the middle of a later write. Returns whether the kill landed
    during a write."""
    proc = subprocess.Popen([sys.executable, '-c', WRITER, path, backend])
    deadline = time.time() + timeout
    try:
        while not os.path.exists(path) or (
                backend == 'default' and os.path.getsize(path) < full_size):
            assert proc.poll() is None and time.time() < deadline
            time.sleep(0.001)
        time.sleep(0.5)  # let it finish the first file, start another
        while time.time() < deadline:
            if backend == 'default':
                writing = os.path.getsize(path) < full_size
            else:
                writing = bool(glob.glob(f'{path}.tmp*'))
            if writing:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return True
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_kill_during_an_atomic_write_keeps_the_previous_checkpoint(
        tmp_path):
    path = str(tmp_path / 'latest.pth')
    assert kill_while_writing(path, 'mmkd_atomic_local')
    assert glob.glob(f'{path}.tmp*')  # the kill did hit a write
    ckpt = load_checkpoint_file(path)
    version = ckpt['meta']['version']
    assert torch.equal(ckpt['state_dict']['w'][:5],
                       torch.arange(5, dtype=torch.float32) + version)
    assert ckpt['state_dict']['w'].numel() == 40_000_000


def test_kill_during_a_plain_write_destroys_it(tmp_path):
    path = str(tmp_path / 'latest.pth')
    full = 160_000_000  # at least the tensor's bytes
    assert kill_while_writing(path, 'default', full_size=full)
    with pytest.raises(RuntimeError, match='corrupted or truncated'):
        load_checkpoint_file(path)


def test_training_killed_at_a_checkpoint_resumes(distiller_cfg, shapes_root,
                                                 tmp_path):
    """tools/train.py saving a checkpoint every iteration is SIGKILLed as
    soon as a checkpoint write is seen in progress; what it leaves resumes,
    and the student checkpoint loads."""
    from mmengine.runner import Runner

    from ..runs import run_config
    work = tmp_path / 'work'
    cfg = run_config(work, shapes_root, distiller_cfg(), epochs=50)
    cfg.default_hooks.checkpoint.update(by_epoch=False, interval=1)
    cfg.dump(str(tmp_path / 'cfg.py'))
    proc = subprocess.Popen(
        [sys.executable, 'tools/train.py', str(tmp_path / 'cfg.py')],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    try:
        while not ((work / 'last_checkpoint').exists()
                   and (work / 'student_latest.pth').exists()):
            assert proc.poll() is None and time.time() < deadline
            time.sleep(0.01)
        while time.time() < deadline and not glob.glob(f'{work}/*.tmp*'):
            time.sleep(0.0005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    last = (work / 'last_checkpoint').read_text().strip()
    it = load_checkpoint_file(last)['meta']['iter']
    student = torch.load(work / 'student_latest.pth', weights_only=True)
    assert student['state_dict']  # a killed write's temporary file is
    # left behind and never read
    cfg.resume = True
    cfg.train_cfg.max_epochs = (it + 2) // 4 + 1  # a few more iterations
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter > it
