"""What the core's training step is made of: the declared updates of a
method, the optim wrappers of its parts, and the small helpers methods
share (unwrapping DDP, freezing a module's weights in a forward)."""
import contextlib
from typing import Callable, Dict, List, NamedTuple, Optional

import torch
import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict


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


def judged(discriminator: nn.Module, inputs):
    """What ``discriminator`` says of ``inputs`` (a list of maps or rows),
    with gradients flowing to the inputs but not into its weights: the
    student's adversarial term."""
    with frozen(unwrap(discriminator)) as disc:
        return disc(inputs)


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
        adversary: A discriminator's update: it runs only while the
            schedule has distillation on and trains the adversaries, and
            logs only ``disc.*``. The other updates step only while the
            schedule trains the student (else their losses are computed
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


def optim_parts(model, optim_wrapper) -> dict:
    """The optim wrappers of each part of ``model`` (the student's part:
    also those of the networks given their own); a clear error when the
    run's optim_wrapper does not have them."""
    parts = list(model.active_parts())
    if isinstance(optim_wrapper, OptimWrapperDict):
        keys = set(optim_wrapper.keys())
        if set(parts) <= keys:
            own = [optim_wrapper[n] for n in model.networks() if n in keys]
            return {p: [optim_wrapper[p]] + (own if p == 'student'
                                             else []) for p in parts}
    elif parts == ['student']:
        return dict(student=[optim_wrapper])
    got = type(optim_wrapper).__name__ + (
        f' with {list(optim_wrapper.keys())}'
        if isinstance(optim_wrapper, OptimWrapperDict) else '')
    raise TypeError(
        f'{type(model).__name__} trains {len(parts)} parts {parts}, each '
        "with its own optimizer: set optim_wrapper=dict(constructor="
        "'DistillOptimWrapperConstructor', ...) with an entry for each "
        'part besides the student (e.g. disc=dict(optimizer=...)); got '
        f'{got}.')
