import copy
from typing import Optional

import torch.nn as nn
from mmkd.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class DistillOptimWrapperConstructor:
    """One optim wrapper for the student side, one for the discriminator.

    The student's own ``optim_wrapper`` config stays as it is (usually
    inherited from the student's ``_base_``); the distillation config adds
    the constructor and the discriminator's wrapper::

        optim_wrapper = dict(
            constructor='DistillOptimWrapperConstructor',
            disc=dict(optimizer=dict(type='Adam', lr=1e-4,
                                     betas=(0.5, 0.999))))

    ``student`` updates every trainable part of the distiller except the
    discriminator (the student and the T2S adapter), with the student's
    ``paramwise_cfg``; ``disc`` updates the discriminator. A model without
    discriminator gets only ``student``.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None):
        cfg = copy.deepcopy(dict(optim_wrapper_cfg))
        self.disc_cfg = cfg.pop('disc', None)
        if self.disc_cfg is not None:
            self.disc_cfg = dict(self.disc_cfg)
            self.disc_cfg.setdefault('type', 'OptimWrapper')
        self.student_cfg = cfg
        self.paramwise_cfg = paramwise_cfg

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        model = getattr(model, 'module', model)
        disc = getattr(model, 'discriminator', None)
        if disc is not None and self.disc_cfg is None:
            raise ValueError(
                'The model has a discriminator but optim_wrapper has no '
                "'disc' entry: add disc=dict(optimizer=dict(type='Adam', "
                'lr=1e-4, betas=(0.5, 0.999))).')
        # the student side: every child but the discriminator
        student_side = nn.Module()
        for name, child in model.named_children():
            if child is not disc:
                student_side.add_module(name, child)
        wrappers = dict(student=DefaultOptimWrapperConstructor(
            self.student_cfg, self.paramwise_cfg)(student_side))
        if disc is not None:
            wrappers['disc'] = DefaultOptimWrapperConstructor(self.disc_cfg)(
                disc)
        return OptimWrapperDict(**wrappers)
