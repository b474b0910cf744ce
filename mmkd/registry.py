"""mmkd's registries: mmengine's root registries.

MMDetection's and MMPretrain's registries are children of these, so every
name mmkd registers here resolves from a config of either toolbox
(``default_scope='mmdet'`` or ``'mmpretrain'``) with no ``_scope_`` and no
prefix. mmkd builds the toolboxes' own models (students, teachers, mmdet's
losses) through the toolbox's registry, which falls back to these.
"""
from mmengine.registry import (HOOKS, MODEL_WRAPPERS, MODELS,
                               OPTIM_WRAPPER_CONSTRUCTORS)

__all__ = ['HOOKS', 'MODEL_WRAPPERS', 'MODELS', 'OPTIM_WRAPPER_CONSTRUCTORS']
