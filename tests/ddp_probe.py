"""Imported (via custom_imports) by the DDP test's training processes: after
every iteration all ranks compare their parameters."""
import json
import os.path as osp

import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module(force=True)
class RankParamsProbe(Hook):
    priority = 'LOWEST'

    def before_train(self, runner):
        """The weights training starts from (after a resume: the loaded
        ones), as the unwrapped distiller's state dict."""
        self.rows = []
        torch.save(runner.model.module.state_dict(),
                   osp.join(runner.work_dir,
                            f'start_rank{dist.get_rank()}.pth'))

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        model = runner.model.module
        flat = torch.cat([p.detach().flatten() for p in model.parameters()])
        gathered = [torch.empty_like(flat)
                    for _ in range(dist.get_world_size())]
        dist.all_gather(gathered, flat)
        self.rows.append(dict(
            iter=runner.iter,
            losses={k: float(v) for k, v in outputs.items()},
            max_diff=max(float((g - flat).abs().max()) for g in gathered),
            params=len(list(model.parameters()))))
        self._write(runner)

    def _write(self, runner):
        out = osp.join(runner.work_dir, f'probe_rank{dist.get_rank()}.json')
        with open(out, 'w') as f:
            json.dump(dict(wrapper=type(runner.model).__name__,
                           world_size=dist.get_world_size(),
                           rows=self.rows), f)
