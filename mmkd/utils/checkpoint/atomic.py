"""Atomic writes: a kill while a file is written leaves the previous one
complete."""
import io
import os
import os.path as osp
import re

import torch


def save_atomic(obj, path: str) -> None:
    """``torch.save`` that never leaves a half-written file at ``path``."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_atomic(buffer.getvalue(), path)


def write_atomic(data: bytes, path: str) -> None:
    """Write to a temporary file in the same directory, then rename it over
    ``path``: a crash or kill leaves the previous file intact (and the
    next write removes the temporary file the killed one left)."""
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    remove_stale_temps(directory)
    tmp = f'{path}.tmp{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


# what write_atomic writes: checkpoints, last_checkpoint, student_config.py
_TEMP = re.compile(r'(.+\.(pth|py)|last_checkpoint)\.tmp(\d+)')


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(directory: str) -> list:
    """Delete the temporary files of atomic writes whose process is gone
    (killed mid-write); returns their names."""
    stale = []
    for name in os.listdir(directory):
        m = _TEMP.fullmatch(name)
        if m and int(m.group(3)) != os.getpid() and not pid_alive(
                int(m.group(3))):
            try:
                os.remove(osp.join(directory, name))
                stale.append(name)
            except FileNotFoundError:  # another process removed it
                pass
    return stale
