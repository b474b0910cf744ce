from .fileio import AtomicLocalBackend
from .hooks import (DiscriminatorScheduleHook, DistillLossWeightHook,
                    RandomStateHook, StopDistillHook, StudentCheckpointHook,
                    TeacherEvalHook)
from .model_wrappers import DistillDataParallel
from .optimizers import DistillOptimWrapperConstructor

__all__ = [
    'AtomicLocalBackend', 'DiscriminatorScheduleHook', 'DistillDataParallel',
    'DistillLossWeightHook', 'DistillOptimWrapperConstructor',
    'RandomStateHook', 'StopDistillHook', 'StudentCheckpointHook',
    'TeacherEvalHook'
]
