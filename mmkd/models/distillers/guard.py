"""The numerical guard of the training step: an update whose losses are not
finite, or explode while finite, is skipped on every rank; too many
iterations in a row with a skip stop the run."""
import logging
from typing import Dict, List, Optional

import torch
import torch.distributed as dist
from mmengine.logging import MessageHub, print_log


def distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


class LossGuard:
    """Checks each update's losses before they reach the weights.

    Args:
        max_nonfinite_skips (int): Consecutive iterations with a skipped
            update after which training stops.
        max_loss_jump (float, optional): A finite loss above this many times
            its running level (and above this value) skips its update as a
            non-finite one does; None: no such check. The running levels
            are not checkpointed: after a resume the check starts again
            from the first iteration's values.
    """

    def __init__(self, max_nonfinite_skips: int,
                 max_loss_jump: Optional[float]):
        self.max_nonfinite_skips = max_nonfinite_skips
        self.max_loss_jump = max_loss_jump
        self.streak = 0
        self.levels: Dict[str, float] = {}  # running |loss| per key

    def all_finite(self, losses: Dict[str, torch.Tensor], update: str,
                   iteration: int) -> bool:
        """Whether every loss in ``losses`` is finite and none exploded,
        on every rank (so all ranks skip together), with one device sync;
        logs the culprits and their network when not."""
        keys = [k for k in losses if 'loss' in k]
        parts = [v if isinstance(v, (list, tuple)) else [v]
                 for v in (losses[k] for k in keys)]
        flags = torch.stack([torch.stack([torch.isfinite(x).all()
                                          for x in xs]).all() for xs in parts])
        values = torch.stack([sum(x.detach().float().sum() for x in xs)
                              for xs in parts])
        ok = flags.all().float()
        if distributed():
            dist.all_reduce(ok, op=dist.ReduceOp.MIN)
        ok, *values = torch.cat([ok[None], values.abs()]).tolist()
        bad = [f'non-finite {k}' for k, flag in zip(keys, flags.tolist())
               if not flag]
        if ok == 1.0 and self.max_loss_jump is not None:
            bad = self.exploded(dict(zip(keys, values)))
            if distributed():
                t = torch.tensor(0.0 if bad else 1.0, device=flags.device)
                dist.all_reduce(t, op=dist.ReduceOp.MIN)
                ok = t.item()
            else:
                ok = 0.0 if bad else 1.0
        if ok == 1.0:
            for k, v in zip(keys, values):
                level = self.levels.get(k)
                self.levels[k] = v if level is None else 0.9 * level + 0.1 * v
            return True
        print_log(
            f'Iteration {iteration}: '
            f'{"; ".join(bad) if bad else "a bad loss on another rank"}; '
            f'the {update} update is skipped (nothing written to its '
            'weights or optimizer state).',
            logger='current',
            level=logging.WARNING)
        return False

    def exploded(self, values: Dict[str, float]) -> List[str]:
        """The losses far above their running level, each with its
        network (the key's prefix: student, peerK, distill, disc)."""
        out, jump = [], self.max_loss_jump
        for key, value in values.items():
            level = self.levels.get(key)
            if level is not None and value > jump * max(level, 1.0):
                network = key.split('.')[0] if '.' in key else 'student'
                times = value / max(level, 1e-12)
                out.append(
                    f'{key} = {value:.3g} exploded ({times:.3g} '
                    f'times its running level {level:.3g}; network: '
                    f'{network}): lower that network\'s learning rate (its '
                    'optimizer part) or its loss weight')
        return out

    def count_skips(self, skipped: bool, iteration: int) -> None:
        """Track consecutive iterations with a skipped update; stop the run
        after ``max_nonfinite_skips`` of them."""
        self.streak = self.streak + 1 if skipped else 0
        if self.streak >= self.max_nonfinite_skips:
            raise RuntimeError(
                f'Training stopped at iteration {iteration}: '
                f'non-finite losses in {self.streak} consecutive '
                f'iterations (max_nonfinite_skips='
                f'{self.max_nonfinite_skips}). The skipped updates wrote '
                'nothing, so the weights, and the last checkpoint in '
                'work_dir, are those of finite steps. Lower the learning '
                'rate or the distillation loss weights (or warm them up '
                'with DistillLossWeightHook), then resume.')


def forget_stale_logs(log_vars: Dict[str, torch.Tensor],
                      keep_scales: bool) -> None:
    """Drop the window means of ``distill.*``/``disc.*`` terms this
    iteration did not compute (after a stop, during a warm-up, after a
    resume without a term), so the log shows only what happens."""
    hub = MessageHub.get_current_instance()
    for key in list(hub.log_scalars):
        name = key[len('train/'):]
        if (key.startswith(('train/distill.', 'train/disc.'))
                and name not in log_vars
                and not (keep_scales
                         and name.startswith('distill.scale_'))):
            hub.log_scalars.pop(key)
            # else a resume warns it "is not defined in message_hub"
            hub._resumed_keys.pop(key, None)
