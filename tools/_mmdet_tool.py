"""Run one of MMDetection's packaged tools unchanged (mmkd's configs enable
the plugin themselves through ``custom_imports``)."""
import os
import os.path as osp
import runpy
import sys

import mmdet


def init_cpu_process_group() -> None:
    """On a machine without GPUs, start the gloo process group a
    ``--launcher pytorch`` run needs before the Runner would: mmengine's
    ``init_dist`` selects a CUDA device first, which fails on CPU. The
    Runner then uses this group as it is."""
    import torch
    import torch.distributed as dist
    launched = '--launcher' in sys.argv and 'pytorch' in sys.argv
    if (launched and 'RANK' in os.environ and not torch.cuda.is_available()
            and not dist.is_initialized()):
        dist.init_process_group(backend='gloo')


def run(name: str) -> None:
    init_cpu_process_group()
    script = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', name)
    runpy.run_path(script, run_name='__main__')
