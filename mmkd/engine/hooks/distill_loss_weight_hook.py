import math

from mmkd.registry import HOOKS
from mmengine.hooks import Hook

from .utils import check_by_epoch, distiller_of, progress

SCHEDULE_KEYS = {'factor', 'warmup', 'decay', 'begin', 'end', 'final'}


def check_schedule(name: str, s: dict) -> dict:
    """A term's schedule with its defaults filled in; errors name the term
    and the wrong key."""
    if not isinstance(s, dict):
        raise TypeError(f'schedule of {name} must be a dict, got {s!r}')
    unknown = set(s) - SCHEDULE_KEYS
    if unknown:
        raise ValueError(f'schedule of {name}: unknown keys {sorted(unknown)}'
                         f'; known: {sorted(SCHEDULE_KEYS)}')
    s = dict(dict(factor=1.0, warmup=0, decay=None, final=0.0), **s)
    s.setdefault('begin', s['warmup'])
    if s['decay'] not in (None, 'linear', 'cosine'):
        raise ValueError(f'schedule of {name}: decay must be None, "linear" '
                         f'or "cosine", got {s["decay"]!r}')
    if s['factor'] < 0 or s['final'] < 0 or s['warmup'] < 0:
        raise ValueError(f'schedule of {name}: factor, final and warmup must '
                         f'be >= 0, got {s}')
    if s['decay'] is not None:
        if 'end' not in s:
            raise ValueError(f'schedule of {name}: a decay needs its end')
        if not s['warmup'] <= s['begin'] < s['end']:
            raise ValueError(f'schedule of {name}: needs warmup <= begin < '
                             f'end, got {s}')
    return s


def schedule_factor(s: dict, t: int) -> float:
    """The factor of a checked schedule at progress ``t`` (0-based):
    linear warm-up from 0, then ``factor``, then a decay to ``final``
    between ``begin`` and ``end``."""
    if t < s['warmup']:
        return s['factor'] * (t + 1) / s['warmup']
    if s['decay'] is None or t < s['begin']:
        return s['factor']
    p = min(1.0, (t - s['begin']) / (s['end'] - s['begin']))
    if s['decay'] == 'linear':
        return s['factor'] + (s['final'] - s['factor']) * p
    return s['final'] + (s['factor'] - s['final']) * (1 + math.cos(
        math.pi * p)) / 2


@HOOKS.register_module()
class DistillLossWeightHook(Hook):
    """Schedule the weight of each distillation loss term.

    Each term's configured ``loss_weight`` is multiplied by a factor that
    warms up linearly from 0 over ``warmup`` steps, stays at ``factor``, and
    decays (``'linear'`` or ``'cosine'``) to ``final`` between ``begin`` and
    ``end``. Steps are iterations, or epochs with ``by_epoch=True``. The
    factor depends only on the run's progress, so a resumed run continues
    the schedule exactly. The factors are logged as
    ``distill.scale_<term>``.

    Example::

        custom_hooks = [dict(type='DistillLossWeightHook', schedules=dict(
            loss_feat=dict(warmup=500),
            loss_kd=dict(decay='cosine', begin=0, end=90000, final=0.1)))]

    Args:
        schedules (dict): Term name (``loss_feat``, ``loss_adv``,
            ``loss_kd``, ... as the distiller names them) to schedule with
            keys ``factor`` (1), ``warmup`` (0), ``decay`` (None),
            ``begin`` (= warmup), ``end``, ``final`` (0).
        by_epoch (bool): Count epochs instead of iterations.
    """
    priority = 'NORMAL'

    def __init__(self, schedules: dict, by_epoch: bool = False):
        if not schedules:
            raise ValueError('DistillLossWeightHook needs at least one '
                             'schedule, e.g. schedules=dict(loss_feat=dict('
                             'warmup=500))')
        self.schedules = {
            name: check_schedule(name, s)
            for name, s in schedules.items()
        }
        self.by_epoch = by_epoch

    def before_train(self, runner) -> None:
        distiller = distiller_of(runner, type(self).__name__)
        known = distiller.distill_loss_names()
        unknown = sorted(set(self.schedules) - set(known))
        if unknown:
            raise ValueError(
                f'DistillLossWeightHook schedules {unknown}, but this '
                f'{type(distiller).__name__} computes only {known}. Use '
                'those names, or enable the loss in the model config.')
        length = check_by_epoch(runner, self.by_epoch, type(self).__name__)
        unit = 'max_epochs' if self.by_epoch else 'max_iters'
        for name, s in self.schedules.items():
            start = s['begin'] if s['decay'] else s['warmup']
            if start >= length:
                raise ValueError(
                    f'DistillLossWeightHook: the schedule of {name} starts '
                    f'changing at {start}, beyond {unit}={length}, so it '
                    'would never act. Check by_epoch and the numbers.')
        self._apply(runner, distiller)

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._apply(runner, distiller_of(runner, type(self).__name__))

    def _apply(self, runner, distiller) -> None:
        t = progress(runner, self.by_epoch)
        for name, s in self.schedules.items():
            factor = schedule_factor(s, t)
            distiller.schedule.set_scale(name, factor)
            if distiller.schedule.distill:  # logged while it acts
                runner.message_hub.update_scalar(
                    f'train/distill.scale_{name}', factor)
