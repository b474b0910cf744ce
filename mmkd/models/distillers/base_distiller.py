import contextlib
import logging
from typing import Callable, Dict, List, NamedTuple, Optional, Union

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MessageHub, print_log
from mmengine.model import BaseModel, is_model_wrapper
from mmengine.optim import OptimWrapperDict

from ..teacher import (build_teacher, load_teacher_weights,
                       on_this_machine)
from .utils import (build_model, check_arguments, check_count, model_cfg,
                    signature_default, with_defaults)

# What a component given without 'type' is merged over when the
# distiller's own default for it is None.
COMPONENTS = dict(adapter=dict(type='T2SAdapter'),
                  loss_feat=dict(type='FeatureMSELoss'),
                  loss_kd=dict(type='KDLoss'))
# The fields of a component the distiller fills in from the probed models.
INFERRED = dict(adapter=('in_channels', 'out_channels'),
                attention=('in_channels', 'num_classes'),
                transform=('in_channels', 'out_channels'),
                discriminator=('in_channels', ),
                branch=('in_channels', 'out_channels', 'stride',
                        'num_classes', 'head'))


# The hooks every distillation run needs (configs/_base_/distill_runtime.py
# and the method configs add them to default_hooks).
BASE_HOOKS = ('RandomStateHook', 'StudentCheckpointHook', 'RunGuardHook')


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a (separate) DDP wrapper, or the module itself."""
    return module.module if is_model_wrapper(module) else module


def _without_wrappers(module, state_dict, prefix, local_metadata):
    """State-dict hook: the keys of children wrapped for DDP (separate
    DDP wraps student, adapter and discriminator, and each element of a
    child list) without the wrappers' ``module.``, so checkpoints are the
    same with and without DDP and mmengine's loader, which unwraps
    children, finds every key."""
    wrapped = sorted((f'{prefix}{name}.module.'
                      for name, child in module.named_modules()
                      if name and is_model_wrapper(child)),
                     key=len, reverse=True)
    if not wrapped:
        return state_dict
    items = list(state_dict.items())
    state_dict.clear()
    for key, value in items:
        for w in wrapped:
            if key.startswith(w):
                key = w[:-len('module.')] + key[len(w):]
        state_dict[key] = value
    return state_dict


def tensors_in(out) -> List[torch.Tensor]:
    """The tensors in a model's output (nested tuples and lists)."""
    if torch.is_tensor(out):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in tensors_in(o)]
    return []


@contextlib.contextmanager
def frozen(module: nn.Module):
    """Let gradients flow through ``module`` but not into its weights."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield module
    finally:
        for p in params:
            p.requires_grad_(True)


def refuse_teacher(method: str, kind: str, teacher, teacher_ckpt) -> None:
    """An online or self-distillation method given a teacher: an error."""
    if teacher is not None or teacher_ckpt is not None:
        raise ValueError(
            f'{method} is {kind}, so it takes no teacher or teacher_ckpt. '
            'Use KTAN or TeacherDistiller to distil from a trained teacher.')


def check_gan(discriminator, loss_gan, without: str) -> None:
    if (discriminator is None) != (loss_gan is None):
        raise ValueError('discriminator and loss_gan go together: set '
                         f'both, or both to None ({without})')


def discriminator_loss(disc, loss_gan, reals, fakes) -> torch.Tensor:
    """``loss_gan``'s discriminator loss of ``disc`` (reals real, fakes
    fake, detached), the mean over maps; one call of ``disc``, as DDP
    needs."""
    out = disc([m.detach() for m in list(reals) + list(fakes)])
    return sum(loss_gan.discriminator_loss(r, f)
               for r, f in zip(out, out[len(reals):])) / len(reals)


class Update(NamedTuple):
    """One optimizer update of a training iteration, as a method declares
    it (:meth:`BaseDistiller.updates`); the core's ``train_step`` runs them
    in order.

    Args:
        name: For the log (``'student'``, ``'discriminator'``).
        part: The optim wrapper it steps: a key of
            :meth:`BaseDistiller.parts`.
        losses: ``state -> losses``. ``state`` holds the preprocessed batch
            (``inputs``, ``data_samples``) and whatever the iteration's
            earlier updates put there (handed on explicitly, not through
            attributes).
        times: How many times it runs per iteration.
        active: Whether it runs this iteration.
        log_prefix: Only the losses whose names start with it are logged
            (None: all, with the total ``loss``).
        adversary: A discriminator's update: it runs only while
            distillation is on and ``train_disc`` (DiscriminatorScheduleHook)
            is set, and logs only ``disc.*``. The other updates step only
            while ``train_student`` is set (else their losses are computed
            without gradients and logged, e.g. during a discriminator
            warm-up).
    """
    name: str
    part: str
    losses: Callable[[dict], Dict[str, torch.Tensor]]
    times: int = 1
    active: Callable[[], bool] = lambda: True
    log_prefix: Optional[str] = None
    adversary: bool = False


class BaseDistiller(BaseModel):
    """A student trained with knowledge from a frozen teacher.

    The student is an ordinary child module (its weights are saved under
    ``student.``). The teacher is deliberately kept *outside* the module
    tree: it is not saved in checkpoints, not touched by ``init_weights``
    or ``train()``, not wrapped by DDP, and never receives gradients; it
    only follows the distiller across devices.

    ``predict`` and ``tensor`` go to the student, so validation,
    ``tools/test.py`` and the metrics report the student.

    Three switches are set by mmkd's schedule hooks every iteration, from
    the run's progress alone (so a resumed run sets them again):
    ``loss_scales`` (a factor per distillation loss term),
    ``distill_enabled`` and, for adversarial distillers, ``train_student``
    and ``train_disc``.

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
            self._warn_if_preprocessors_differ()
        # Iterations trained, saved with the model for an exact resume.
        self.register_buffer('num_iters', torch.zeros((), dtype=torch.long))
        self._register_state_dict_hook(_without_wrappers)
        self.loss_scales: Dict[str, float] = {}
        self.distill_enabled = True
        # switched by DiscriminatorScheduleHook for the adversary updates
        self.train_student = True
        self.train_disc = True
        self.max_nonfinite_skips = max_nonfinite_skips
        self._nonfinite_streak = 0
        self.max_loss_jump = max_loss_jump
        self._loss_levels: Dict[str, float] = {}  # running |loss| per key
        self.hooks_seen = set()  # filled by mmkd's hooks in before_train
        self._checked_hooks = False

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

    def check_base_hooks(self) -> None:
        """Warn once, at the first iteration, when a run lacks mmkd's base
        hooks (e.g. ``custom_hooks``/``default_hooks`` replaced)."""
        if self._checked_hooks:
            return
        self._checked_hooks = True
        missing = [h for h in BASE_HOOKS if h not in self.hooks_seen]
        if missing:
            print_log(
                f'This run has no {", ".join(missing)}: '
                + ', '.join({
                    'RandomStateHook': 'a resume will not be exact',
                    'StudentCheckpointHook': 'no student_latest.pth or '
                    'student_config.py is written',
                    'RunGuardHook': 'nothing stops a second run in this '
                    'work_dir or a resume with another teacher'
                }[h] for h in missing) + '. Inherit '
                'configs/_base_/distill_runtime.py and keep its '
                'default_hooks entries (random_state, student_checkpoint, '
                'run_guard).',
                logger='current', level=logging.WARNING)

    def forget_stale_logs(self, log_vars: Dict[str, torch.Tensor]) -> None:
        """Drop the window means of ``distill.*``/``disc.*`` terms this
        iteration did not compute (after a stop, during a warm-up, after a
        resume without a term), so the log shows only what happens."""
        hub = MessageHub.get_current_instance()
        keep_scales = self.distill_enabled
        for key in list(hub.log_scalars):
            name = key[len('train/'):]
            if (key.startswith(('train/distill.', 'train/disc.'))
                    and name not in log_vars
                    and not (keep_scales
                             and name.startswith('distill.scale_'))):
                hub.log_scalars.pop(key)
                # else a resume warns it "is not defined in message_hub"
                hub._resumed_keys.pop(key, None)

    def distill_loss_names(self) -> List[str]:
        """The distillation loss terms (``loss_*``) this distiller computes,
        the names ``loss_scales`` and the weight-schedule hook use."""
        raise NotImplementedError

    def with_scales(self, losses: Dict[str, torch.Tensor]) -> dict:
        """Each ``distill.<term>`` times its scheduled factor (1 unless
        DistillLossWeightHook set one). The core applies it to every
        update's losses, so a method never calls anything for it."""
        for key, value in losses.items():
            scale = self.loss_scales.get(key[len('distill.'):], 1.0) \
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

    def all_finite(self, losses: Dict[str, torch.Tensor],
                   update: str) -> bool:
        """Whether every loss in ``losses`` is finite and none exploded
        (``max_loss_jump``), on every rank (so all ranks skip together),
        with one device sync; logs the culprits and their network when
        not."""
        keys = [k for k in losses if 'loss' in k]
        parts = [v if isinstance(v, (list, tuple)) else [v]
                 for v in (losses[k] for k in keys)]
        flags = torch.stack([torch.stack([torch.isfinite(x).all()
                                          for x in xs]).all() for xs in parts])
        values = torch.stack([sum(x.detach().float().sum() for x in xs)
                              for xs in parts])
        ok = flags.all().float()
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(ok, op=dist.ReduceOp.MIN)
        ok, *values = torch.cat([ok[None], values.abs()]).tolist()
        bad = [f'non-finite {k}' for k, flag in zip(keys, flags.tolist())
               if not flag]
        if ok == 1.0 and self.max_loss_jump is not None:
            bad = self._exploded(dict(zip(keys, values)))
            if dist.is_available() and dist.is_initialized():
                t = torch.tensor(0.0 if bad else 1.0, device=flags.device)
                dist.all_reduce(t, op=dist.ReduceOp.MIN)
                ok = t.item()
            else:
                ok = 0.0 if bad else 1.0
        if ok == 1.0:
            for k, v in zip(keys, values):
                level = self._loss_levels.get(k)
                self._loss_levels[k] = v if level is None else \
                    0.9 * level + 0.1 * v
            return True
        print_log(
            f'Iteration {int(self.num_iters)}: '
            f'{"; ".join(bad) if bad else "a bad loss on another rank"}; '
            f'the {update} update is skipped (nothing written to its '
            'weights or optimizer state).',
            logger='current',
            level=logging.WARNING)
        return False

    def _exploded(self, values: Dict[str, float]) -> List[str]:
        """The losses far above their running level, each with its
        network (the key's prefix: student, peerK, distill, disc)."""
        out, jump = [], self.max_loss_jump
        for key, value in values.items():
            level = self._loss_levels.get(key)
            if level is not None and value > jump * max(level, 1.0):
                network = key.split('.')[0] if '.' in key else 'student'
                times = value / max(level, 1e-12)
                out.append(
                    f'{key} = {value:.3g} exploded ({times:.3g} '
                    f'times its running level {level:.3g}; network: '
                    f'{network}): lower that network\'s learning rate (its '
                    'optimizer part) or its loss weight')
        return out

    def count_skips(self, skipped: bool) -> None:
        """Track consecutive iterations with a skipped update; stop the run
        after ``max_nonfinite_skips`` of them."""
        self._nonfinite_streak = self._nonfinite_streak + 1 if skipped else 0
        if self._nonfinite_streak >= self.max_nonfinite_skips:
            raise RuntimeError(
                f'Training stopped at iteration {int(self.num_iters)}: '
                f'non-finite losses in {self._nonfinite_streak} consecutive '
                f'iterations (max_nonfinite_skips='
                f'{self.max_nonfinite_skips}). The skipped updates wrote '
                'nothing, so the weights, and the last checkpoint in '
                'work_dir, are those of finite steps. Lower the learning '
                'rate or the distillation loss weights (or warm them up '
                'with DistillLossWeightHook), then resume.')

    def predictors(self) -> Dict[str, Callable]:
        """Other networks' ``val_step`` by name (AFD's peers, MB-AKT's
        branches), which EnsembleEvalHook evaluates besides the student."""
        return {}

    # ------------------------------------------------- the training protocol
    def parts(self) -> Dict[str, List[str]]:
        """The optimizer parts: each optim wrapper's name and the children
        it trains. ``'student'`` (the student's own optimizer config) is
        always one; a part whose children are all None is left out."""
        raise NotImplementedError

    def updates(self) -> List[Update]:
        """The optimizer updates of one iteration, in order."""
        raise NotImplementedError

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

    def optim_parts(self, optim_wrapper) -> dict:
        """The optim wrappers of each part (the student's part: also those
        of the networks given their own); a clear error when the run's
        optim_wrapper does not have them."""
        parts = list(self.active_parts())
        if isinstance(optim_wrapper, OptimWrapperDict):
            keys = set(optim_wrapper.keys())
            if set(parts) <= keys:
                own = [optim_wrapper[n] for n in self.networks() if n in keys]
                return {p: [optim_wrapper[p]] + (own if p == 'student'
                                                 else []) for p in parts}
        elif parts == ['student']:
            return dict(student=[optim_wrapper])
        got = type(optim_wrapper).__name__ + (
            f' with {list(optim_wrapper.keys())}'
            if isinstance(optim_wrapper, OptimWrapperDict) else '')
        raise TypeError(
            f'{type(self).__name__} trains {len(parts)} parts {parts}, each '
            "with its own optimizer: set optim_wrapper=dict(constructor="
            "'DistillOptimWrapperConstructor', ...) with an entry for each "
            'part besides the student (e.g. disc=dict(optimizer=...)); got '
            f'{got}.')

    def train_step(self, data, optim_wrapper) -> Dict[str, torch.Tensor]:
        """Run the method's :meth:`updates` in order: the batch is
        preprocessed once (in the first update's optim context), each
        update is stepped through its part's optim wrapper unless its
        losses are not finite (then skipped and counted), and only what
        the iteration computed is logged."""
        self.check_base_hooks()
        optims = self.optim_parts(optim_wrapper)
        state, log_vars, skipped = {}, {}, False
        for update in self.updates():
            if not update.active() or (update.adversary and not (
                    self.train_disc and self.distill_enabled)):
                continue
            optim, *others = optims[update.part]
            learn = update.adversary or self.train_student
            for _ in range(update.times):
                grad = torch.enable_grad() if learn else torch.no_grad()
                with optim.optim_context(self), grad:
                    if not state:
                        state.update(self.data_preprocessor(data, True))
                    losses = self.with_scales(update.losses(state))
                    loss, log = self.parse_losses(losses)
                if not learn:
                    continue
                if not self.all_finite(losses, update.name):
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
        self.count_skips(skipped)
        self.num_iters += 1
        self.forget_stale_logs(log_vars)
        return log_vars

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Refuse a checkpoint that is not a distiller's (e.g. a plain
        detector's), or one of another student or other distillation parts
        (a changed architecture or method), instead of silently keeping
        random weights or crashing later in the optimizer."""
        theirs = {k[len(prefix):]: v for k, v in state_dict.items()
                  if k.startswith(prefix)}
        if not any(k.startswith('student.') for k in theirs):
            example = ', '.join(sorted(theirs)[:3])
            raise RuntimeError(
                'This checkpoint has no "student.*" weights (its keys start '
                f'with: {example}), so it is not a checkpoint of an mmkd '
                'distillation run and cannot be resumed or loaded into '
                'one. To start the student from a plain detector '
                'checkpoint, set model.student.init_cfg=dict('
                "type='Pretrained', checkpoint=...) and no load_from/"
                'resume; to resume, use a checkpoint this run wrote.')
        self._check_same_parts(theirs)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _check_same_parts(self, theirs: dict) -> None:
        ours = self.state_dict()
        changed = {}
        for key in set(ours) | set(theirs):
            if key not in theirs:
                why = 'missing'
            elif key not in ours:
                why = 'unexpected'
            elif (hasattr(ours[key], 'shape')
                  and ours[key].shape != theirs[key].shape):
                why = 'other shape'
            else:
                continue
            changed.setdefault(key.split('.')[0], []).append(f'{key} ({why})')
        if changed:
            parts = '; '.join(
                f'{part}: {len(keys)} keys, e.g. {", ".join(sorted(keys)[:3])}'
                for part, keys in sorted(changed.items()))
            raise RuntimeError(
                'This checkpoint was written by a distiller with other '
                f'parts than this config builds ({parts}). The student\'s '
                'architecture or the method (adapter, discriminator) '
                'changed since it was saved, so resuming or loading it '
                'would train other weights than it holds. Use the config '
                'it was trained with (work_dir/<timestamp>/*.py); to start '
                'a new run from its student, export it '
                '(tools/model_converters/export_student.py) and set '
                "model.student.init_cfg=dict(type='Pretrained', "
                'checkpoint=...).')

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        if self.teacher is not None:
            self.teacher._apply(fn, *args, **kwargs)
        return self

    def _warn_if_preprocessors_differ(self) -> None:
        """Both models see the student's preprocessed batch; say so when
        the teacher was trained with other normalisation."""
        s, t = self.student.data_preprocessor, self.teacher.data_preprocessor
        diffs = []
        for name in ('mean', 'std'):
            a, b = getattr(s, name, None), getattr(t, name, None)
            if (a is None) != (b is None) or (a is not None and (
                    a.shape != b.shape
                    or not torch.allclose(a.float(), b.float()))):
                diffs.append(name)
        if (getattr(s, '_channel_conversion', None) != getattr(
                t, '_channel_conversion', None)):
            diffs.append('bgr_to_rgb')
        if diffs:
            print_log(
                f'The teacher\'s data_preprocessor differs from the '
                f'student\'s in {", ".join(diffs)}. Both models are fed '
                'the batch as the student\'s preprocessor makes it; train '
                'the teacher with the same normalisation for best results.',
                logger='current',
                level=logging.WARNING)

    def forward(self,
                inputs: torch.Tensor,
                data_samples=None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        return self.student(inputs, data_samples, mode=mode)
