import logging
from typing import Callable, Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.model import BaseModel

from ..teacher import (build_teacher, load_teacher_weights,
                       on_this_machine, warn_if_preprocessors_differ)
from .guard import LossGuard, forget_stale_logs
from .schedule import Schedule
from .state import check_distiller_state
from .updates import Update, _without_wrappers, optim_parts, unwrap
from .utils import (COMPONENTS, INFERRED, build_model, check_arguments,
                    check_count, model_cfg, signature_default,
                    with_defaults)

__all__ = ['BaseDistiller', 'Update', 'unwrap']

class BaseDistiller(BaseModel):
    """A student trained with knowledge from a frozen teacher.

    The student is an ordinary child module (its weights are saved under
    ``student.``). The teacher is deliberately kept *outside* the module
    tree: it is not saved in checkpoints, not touched by ``init_weights``
    or ``train()``, not wrapped by DDP, and never receives gradients; it
    only follows the distiller across devices.

    ``predict`` and ``tensor`` go to the student, so validation,
    ``tools/test.py`` and the metrics report the student.

    The lifecycle hooks set its :class:`Schedule` (``self.schedule``: a
    factor per distillation term, distillation on or off, which updates
    train); the core reads it every iteration.

    A non-finite loss skips its update (nothing reaches weights or
    optimizer state), is logged with its term and iteration, and after
    ``max_nonfinite_skips`` consecutive iterations with a skip the run
    stops with an error. So does a loss that explodes while finite: more
    than ``max_loss_jump`` times its running level (and above
    ``max_loss_jump`` itself), e.g. a network under an optimizer too strong
    for it. The running levels are not checkpointed: after a resume the
    check starts again from the first iteration's values.

    The teacher's weights are loaded when the model is built if
    ``teacher_ckpt`` exists on this machine, otherwise (a URL, or a file this
    machine does not have) when training starts: testing, exporting and
    inference of the student never need the teacher's checkpoint.

    Args:
        student (str | dict | nn.Module): The student's model config (or
            its config file / ``mmdet::`` path).
        teacher (str | dict, optional): Config file, ``mmdet::`` path or
            model dict of the teacher.
        teacher_ckpt (str, optional): The teacher's weights (a file or an
            ``http(s)://`` URL).
        max_nonfinite_skips (int): Consecutive iterations with a skipped
            (non-finite or exploded) update after which training stops.
        data_preprocessor (dict, optional): A top-level
            ``data_preprocessor`` of the student's config, which mmengine's
            Runner passes to the model; it becomes the student's when the
            student config has none.
        max_loss_jump (float, optional): A finite loss above this many
            times its running level (and above this value) skips its
            update as a non-finite one does; None: no such check.
    """

    def __new__(cls, *args, **kwargs):
        check_arguments(cls, kwargs)  # a typo in a config, named early
        return super().__new__(cls)

    def __init__(self,
                 student: Union[str, dict, nn.Module],
                 teacher: Optional[Union[str, dict, Config]] = None,
                 teacher_ckpt: Optional[str] = None,
                 max_nonfinite_skips: int = 10,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 max_loss_jump: Optional[float] = 1000.0):
        check_count(max_nonfinite_skips, 'max_nonfinite_skips')
        if max_loss_jump is not None and (
                isinstance(max_loss_jump, bool)
                or not isinstance(max_loss_jump, (int, float))
                or max_loss_jump <= 1):
            raise ValueError('max_loss_jump must be a number > 1 (or None '
                             'to switch the check off), got '
                             f'{max_loss_jump!r}')
        if not isinstance(student, nn.Module):
            student = model_cfg(student, 'student')
            if data_preprocessor is not None:
                student.setdefault('data_preprocessor', data_preprocessor)
            student = build_model(student)
        super().__init__(
            data_preprocessor=student.data_preprocessor, init_cfg=init_cfg)
        self.student = student
        self.teacher_ckpt = teacher_ckpt
        teacher = None if teacher is None else build_teacher(teacher)
        object.__setattr__(self, 'teacher', teacher)  # not a submodule
        self._teacher_loaded = False
        if teacher is not None:
            if on_this_machine(teacher_ckpt):
                self.load_teacher()
            else:
                print_log(
                    f'teacher_ckpt {teacher_ckpt!r} is not a local file: '
                    'the student can be tested, exported and used for '
                    'inference; training loads the teacher (a URL is '
                    'downloaded then) and stops if it cannot.',
                    logger='current', level=logging.WARNING)
            warn_if_preprocessors_differ(self.student, teacher)
        # Iterations trained, saved with the model for an exact resume.
        self.register_buffer('num_iters', torch.zeros((), dtype=torch.long))
        self._register_state_dict_hook(_without_wrappers)
        self.schedule = Schedule()
        self.guard = LossGuard(max_nonfinite_skips, max_loss_jump)

    # The teacher checkpoint is a ReconstructionTeacher's (its decoder.*
    # must be there and is not loaded): the complementary student's.
    teacher_has_decoder = False

    def merged(self, name: str, value):
        """The config of component ``name``: ``value`` over this class's
        default for it, so a one-field override (``--cfg-options
        model.loss_kd.temperature=4``) changes only that field."""
        default = signature_default(type(self), name)
        return with_defaults(value, default or COMPONENTS.get(name), name,
                             INFERRED.get(name, ()))

    def load_teacher(self) -> None:
        """Load the teacher's weights (once); the clear errors of
        :func:`load_teacher_weights` otherwise."""
        if self.teacher is not None and not self._teacher_loaded:
            load_teacher_weights(self.teacher, self.teacher_ckpt,
                                 decoder=self.teacher_has_decoder)
            self._teacher_loaded = True

    def train(self, mode: bool = True):
        """Training needs the teacher's weights: load them now at the
        latest, before the first iteration."""
        if mode:
            self.load_teacher()
        return super().train(mode)

    # ------------------------------------------------ the method's terms
    # A method is a preset: the arguments it takes beyond its core's, with
    # their defaults, and the terms it builds from them.
    defaults: dict = {}
    method_terms: list = []

    def terms(self, cfg: dict) -> list:
        """The method's terms, built from its merged arguments ``cfg``."""
        return []

    def method_config(self, method: dict) -> dict:
        """The method's arguments: ``method`` over :attr:`defaults`, a
        component given without ``type`` changing only the fields it
        names."""
        return {name: (self.merged(name, method.get(name, default))
                       if isinstance(default, dict) or default is None
                       else method.get(name, default))
                for name, default in self.defaults.items()}

    def term(self, kind: type):
        """The method's term of class ``kind``."""
        return next(t for t in self.method_terms if isinstance(t, kind))

    def distill_loss_names(self) -> List[str]:
        """The distillation loss terms (``loss_*``) this distiller computes,
        the names the schedule's scales and the weight-schedule hook
        use."""
        return [n for t in self.method_terms for n in t.loss_names()]

    def with_scales(self, losses: Dict[str, torch.Tensor]) -> dict:
        """Each ``distill.<term>`` times its scheduled factor (1 unless
        DistillLossWeightHook set one). The core applies it to every
        update's losses, so a method never calls anything for it."""
        for key, value in losses.items():
            scale = self.schedule.scale(key[len('distill.'):]) \
                if key.startswith('distill.') else 1.0
            if scale != 1.0:
                losses[key] = [v * scale for v in value] if isinstance(
                    value, (list, tuple)) else value * scale
        return losses

    def loss(self, inputs: torch.Tensor,
             data_samples) -> Dict[str, torch.Tensor]:
        """The losses of the iteration's first update (the student's:
        ``student.*`` and ``distill.*``), scaled as in training."""
        first = self.updates()[0]
        return self.with_scales(first.losses(
            dict(inputs=inputs, data_samples=data_samples)))

    def predictors(self) -> Dict[str, Callable]:
        """Other networks' ``val_step`` by name (AFD's peers, MB-AKT's
        branches), which EnsembleEvalHook evaluates besides the student."""
        return {}

    # ------------------------------------------------- the training protocol
    # the children the roles train with the student (an adapter, peers)
    # and the name of that update in messages
    role_children: tuple = ('student', )
    first_update = 'student'

    def parts(self) -> Dict[str, List[str]]:
        """The optimizer parts: each optim wrapper's name and the children
        it trains: the roles' in ``'student'`` (the student's own optimizer
        config), then each term's. A part whose children are all None is
        left out."""
        parts = dict(student=list(self.role_children))
        for term in self.method_terms:
            for part, children in term.parts().items():
                parts.setdefault(part, []).extend(children)
        return parts

    def forward_train(self, state: dict) -> Dict[str, torch.Tensor]:
        """The losses of the student's update: the roles' task losses and,
        while distillation is on, the terms' ``distill.*`` losses."""
        raise NotImplementedError

    def updates(self) -> List[Update]:
        """The optimizer updates of one iteration, in order: the
        student's, then each term's own."""
        return [Update(self.first_update, 'student', self.forward_train)] + [
            u for t in self.method_terms for u in t.updates(self)]

    def active_parts(self) -> Dict[str, List[str]]:
        return {part: [c for c in children if getattr(self, c) is not None]
                for part, children in self.parts().items()
                if part == 'student' or any(
                    getattr(self, c) is not None for c in children)}

    def networks(self) -> Dict[str, str]:
        """The networks besides the student that a config may give an
        optimizer of their own (an ``optim_wrapper`` entry of that name):
        ``{name: module path}``, e.g. AFD's ``{'peer1': 'peers.0'}``.
        Without an entry they train in the student's part."""
        return {}

    def train_step(self, data, optim_wrapper) -> Dict[str, torch.Tensor]:
        """Run the method's :meth:`updates` in order: the batch is
        preprocessed once (in the first update's optim context), each
        update is stepped through its part's optim wrapper unless its
        losses are not finite (then skipped and counted), and only what
        the iteration computed is logged."""
        schedule = self.schedule
        schedule.check_hooks()
        optims = optim_parts(self, optim_wrapper)
        state, log_vars, skipped = {}, {}, False
        for update in self.updates():
            if not update.active() or (update.adversary and not (
                    schedule.train_adversary and schedule.distill)):
                continue
            optim, *others = optims[update.part]
            learn = update.adversary or schedule.train_student
            for _ in range(update.times):
                grad = torch.enable_grad() if learn else torch.no_grad()
                with optim.optim_context(self), grad:
                    if not state:
                        state.update(self.data_preprocessor(data, True))
                    losses = self.with_scales(update.losses(state))
                    loss, log = self.parse_losses(losses)
                if not learn:
                    continue
                if not self.guard.all_finite(losses, update.name,
                                             int(self.num_iters)):
                    skipped = True
                    break
                if others:  # networks with optimizers of their own
                    optim.backward(loss)
                    for each in (optim, *others):
                        each.step()
                        each.zero_grad()
                else:
                    optim.update_params(loss)
            prefix = 'disc.' if update.adversary else update.log_prefix
            log_vars.update((k, v) for k, v in log.items()
                            if prefix is None or k.startswith(prefix))
        self.guard.count_skips(skipped, int(self.num_iters))
        self.num_iters += 1
        forget_stale_logs(log_vars, keep_scales=schedule.distill)
        return log_vars

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        check_distiller_state(self, {k[len(prefix):]: v
                                     for k, v in state_dict.items()
                                     if k.startswith(prefix)})
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        if self.teacher is not None:
            self.teacher._apply(fn, *args, **kwargs)
        return self

    def forward(self,
                inputs: torch.Tensor,
                data_samples=None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        return self.student(inputs, data_samples, mode=mode)
