import copy
from typing import Optional

import torch.nn as nn
from mmengine.logging import print_log
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

    A network besides the student (``model.networks()``: AFD/DML's
    ``peer1``, ``peer2``, ...) trains with the student's optimizer config
    unless the config gives it an entry of its own, e.g. a RetinaNet peer
    of an RTMDet student::

        optim_wrapper = dict(
            constructor='DistillOptimWrapperConstructor',
            optimizer=dict(type='AdamW', lr=0.004, weight_decay=0.05),
            peer1=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9,
                                      weight_decay=1e-4)))

    The log says which optimizer trains which network.

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
        parts = self._own_networks(model, parts)
        claimed = {c.split('.')[0] for children in parts.values()
                   for c in children}
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
                attach(side, name, model.get_submodule(name))
            if part == 'student':
                wrappers[part] = DefaultOptimWrapperConstructor(
                    self.student_cfg, self.paramwise_cfg)(side)
            else:
                wrappers[part] = DefaultOptimWrapperConstructor(
                    self.part_cfgs[part])(side)
        print_log('Optimizers: ' + '; '.join(
            f'{part} ({", ".join(parts[part])}): {describe(w)}'
            for part, w in wrappers.items()), logger='current')
        return OptimWrapperDict(**wrappers)

    def _own_networks(self, model: nn.Module, parts: dict) -> dict:
        """``parts`` with each network that has an entry of its own (e.g.
        ``peer1``) taken out of the student's part into that entry's."""
        networks = model.networks() if hasattr(model, 'networks') else {}
        own = {name: path for name, path in networks.items()
               if name in self.part_cfgs}
        if not own:
            return parts
        if any(self.part_cfgs[n].get('type') == 'AmpOptimWrapper'
               for n in own) or self.student_cfg.get('type') == \
                'AmpOptimWrapper':
            raise ValueError(
                f'optim_wrapper gives {", ".join(own)} optimizers of their '
                'own, which mmkd does not combine with --amp (one backward, '
                'several loss scalers): train without --amp, or give them '
                "the student's optimizer (no entry).")
        paths = set(own.values())
        student = []
        for child in parts['student']:
            if any(p.split('.')[0] == child for p in paths):
                student += [f'{child}.{n}' for n, _ in getattr(
                    model, child).named_children()
                            if f'{child}.{n}' not in paths]
            else:
                student.append(child)
        return dict(parts, student=student,
                    **{name: [path] for name, path in own.items()})


def attach(side: nn.Module, path: str, module: nn.Module) -> None:
    """``module`` at the dotted ``path`` below ``side`` (``peers.0``), so
    that its parameters keep their names in the optimizer's groups."""
    *parents, leaf = path.split('.')
    for name in parents:
        if not hasattr(side, name):
            side.add_module(name, nn.Module())
        side = getattr(side, name)
    side.add_module(leaf, module)


def describe(wrapper) -> str:
    """``SGD(lr=0.01)`` of a wrapper's optimizer."""
    optimizer = wrapper.optimizer
    lr = optimizer.param_groups[0].get('lr') if optimizer.param_groups \
        else None
    return f'{type(optimizer).__name__}(lr={lr})'
