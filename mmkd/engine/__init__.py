from .fileio import AtomicLocalBackend
from .hooks import (DiscriminatorScheduleHook, DistillLossWeightHook,
                    RandomStateHook, RunGuardHook, StopDistillHook,
                    StudentCheckpointHook, TeacherEvalHook)
from .model_wrappers import DistillDataParallel
from .optimizers import DistillOptimWrapperConstructor

__all__ = [
    'AtomicLocalBackend', 'DiscriminatorScheduleHook', 'DistillDataParallel',
    'DistillLossWeightHook', 'DistillOptimWrapperConstructor',
    'RandomStateHook', 'RunGuardHook', 'StopDistillHook',
    'StudentCheckpointHook', 'TeacherEvalHook'
]
