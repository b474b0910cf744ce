import copy
from typing import Optional

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict

from mmkd.registry import OPTIM_WRAPPER_CONSTRUCTORS


def is_part_cfg(value) -> bool:
    """An entry of ``optim_wrapper`` that is itself an optim wrapper config
    (it has an ``optimizer``): the config of a part besides the student."""
    return isinstance(value, dict) and 'optimizer' in value


def check_amp_device() -> None:
    from mmengine.device import get_device
    if get_device() == 'cpu':
        raise ValueError(
            'optim_wrapper is an AmpOptimWrapper (--amp), which needs a GPU '
            '(or NPU/MLU); this machine has none. Train without --amp: on a '
            'CPU mmkd trains in float32.')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class DistillOptimWrapperConstructor:
    """One optim wrapper per part the distiller declares (its ``parts()``).

    The student's own ``optim_wrapper`` config stays as it is (usually
    inherited from the student's ``_base_``) and trains the ``student``
    part (the student and, for KTAN, the T2S adapters) with the student's
    ``paramwise_cfg``; the distillation config adds the constructor and an
    entry per other part, named as the part::

        optim_wrapper = dict(
            constructor='DistillOptimWrapperConstructor',
            disc=dict(optimizer=dict(type='Adam', lr=1e-4,
                                     betas=(0.5, 0.999))))

    Mixed precision (``--amp``, which makes the student's wrapper an
    ``AmpOptimWrapper``) applies to every part whose entry names no
    ``type`` of its own; the teacher's forward runs inside the student
    update's autocast. On a machine without a GPU ``--amp`` is a clear error.

    A part the model trains without an entry, or a trainable child in no
    part, is an error; an entry for a part the model does not have (e.g.
    ``disc`` with ``discriminator=None``) is ignored. Nothing here knows a
    method's attribute names.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None):
        cfg = copy.deepcopy(dict(optim_wrapper_cfg))
        self.part_cfgs = {k: dict(cfg.pop(k)) for k in list(cfg)
                          if is_part_cfg(cfg[k])}
        amp = {k: cfg[k] for k in ('type', 'loss_scale', 'dtype')
               if k in cfg} if cfg.get('type') == 'AmpOptimWrapper' else {}
        if amp:
            check_amp_device()
        for part in self.part_cfgs.values():
            if 'type' not in part:
                part.update(amp or dict(type='OptimWrapper'))
        self.student_cfg = cfg
        self.paramwise_cfg = paramwise_cfg

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        model = getattr(model, 'module', model)
        parts = model.active_parts() if hasattr(model, 'active_parts') \
            else dict(student=[n for n, _ in model.named_children()])
        missing = [p for p in parts if p != 'student'
                   and p not in self.part_cfgs]
        if missing:
            p = missing[0]
            raise ValueError(
                f"The model trains a part '{p}' ({', '.join(parts[p])}) but "
                f"optim_wrapper has no '{p}' entry: add {p}=dict(optimizer="
                "dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))).")
        claimed = {c for children in parts.values() for c in children}
        stray = [name for name, child in model.named_children()
                 if name not in claimed and any(
                     p.requires_grad for p in child.parameters())]
        if stray:
            raise ValueError(
                f'{type(model).__name__} has trainable children in no '
                f'optimizer part: {stray}. Declare them in its parts().')
        wrappers = {}
        for part, children in parts.items():
            side = nn.Module()  # keeps the names paramwise_cfg matches
            for name in children:
                side.add_module(name, getattr(model, name))
            if part == 'student':
                wrappers[part] = DefaultOptimWrapperConstructor(
                    self.student_cfg, self.paramwise_cfg)(side)
            else:
                wrappers[part] = DefaultOptimWrapperConstructor(
                    self.part_cfgs[part])(side)
        return OptimWrapperDict(**wrappers)
