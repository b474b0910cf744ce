"""The distillation schedule: what the lifecycle hooks decide and the core
obeys, in one declared object per distiller (``distiller.schedule``).

The hooks change it only through its methods; the core reads it every
iteration and knows no hook. It is saved in every checkpoint
(``RunGuardHook``, which every run has) and restored on resume; its hooks
then set the fields that follow the run's progress again before every
iteration.
"""
import logging
from typing import Dict

from mmengine.logging import print_log

# The hooks every distillation run needs: name -> (its default_hooks key,
# what a run without it loses). Filled by those hooks' modules
# (``required_hook``), so that the core names none of them.
REQUIRED_HOOKS: Dict[str, tuple] = {}


def required_hook(key: str, without: str):
    """Class decorator of a hook every run needs (``key`` in
    ``configs/_base_/distill_runtime.py``'s ``distill_default_hooks``;
    ``without``: what a run lacking it loses)."""

    def register(cls):
        REQUIRED_HOOKS[cls.__name__] = (key, without)
        return cls

    return register


class Schedule:
    """A distiller's schedule.

    Attributes:
        scales (dict): A factor per distillation term (``loss_feat``, ...),
            1 unless ``DistillLossWeightHook`` set one; the core multiplies
            every ``distill.<term>`` by it.
        distill (bool): Whether distillation is on (``StopDistillHook``
            turns it off for good): off, the student trains on its task
            losses alone and no adversary update runs.
        train_student (bool): Whether the updates other than the
            adversaries' step (``DiscriminatorScheduleHook``'s warm-up
            turns it off: their losses are then computed and logged only).
        train_adversary (bool): Whether the adversaries' updates (the
            discriminators') run (off once frozen).
    """

    def __init__(self):
        self.scales: Dict[str, float] = {}
        self.distill = True
        self.train_student = True
        self.train_adversary = True
        self._hooks = set()
        self._checked = False

    def state_dict(self) -> dict:
        """The schedule as plain data (for checkpoints)."""
        return dict(scales=dict(self.scales), distill=self.distill,
                    train_student=self.train_student,
                    train_adversary=self.train_adversary)

    def load_state_dict(self, state: dict) -> None:
        """The schedule of a checkpoint (one written before schedules were
        saved has none: nothing changes)."""
        for name in ('distill', 'train_student', 'train_adversary'):
            if name in state:
                setattr(self, name, bool(state[name]))
        self.scales.update(
            (k, float(v)) for k, v in state.get('scales', {}).items())

    def scale(self, term: str) -> float:
        return self.scales.get(term, 1.0)

    def set_scale(self, term: str, factor: float) -> None:
        self.scales[term] = float(factor)

    def stop(self) -> None:
        """Distillation off for the rest of the run."""
        self.distill = False

    def set_training(self, student: bool, adversary: bool) -> None:
        self.train_student, self.train_adversary = student, adversary

    def announce(self, hook: str) -> None:
        """A hook says it runs (mmkd's hooks, in ``before_train``)."""
        self._hooks.add(hook)

    def without_runner(self) -> None:
        """Steps run outside a Runner (a benchmark): none of the required
        hooks' jobs applies, so do not warn of their absence."""
        self._checked = True

    def check_hooks(self) -> None:
        """Warn once, at the first iteration, when the run lacks a
        required hook (``custom_hooks``/``default_hooks`` replaced)."""
        if self._checked:
            return
        self._checked = True
        missing = [h for h in REQUIRED_HOOKS if h not in self._hooks]
        if missing:
            print_log(
                f'This run has no {", ".join(missing)}: '
                + ', '.join(REQUIRED_HOOKS[h][1] for h in missing)
                + '. Inherit configs/_base_/distill_runtime.py and keep its '
                'default_hooks entries ('
                + ', '.join(key for key, _ in REQUIRED_HOOKS.values())
                + ').', logger='current', level=logging.WARNING)
