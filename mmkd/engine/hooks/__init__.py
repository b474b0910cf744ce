from .discriminator_schedule_hook import DiscriminatorScheduleHook
from .distill_loss_weight_hook import DistillLossWeightHook
from .distill_visualization_hook import DistillVisualizationHook
from .ensemble_eval_hook import EnsembleEvalHook
from .random_state_hook import RandomStateHook
from .run_guard_hook import RunGuardHook
from .stop_distill_hook import StopDistillHook
from .student_checkpoint_hook import StudentCheckpointHook
from .teacher_eval_hook import TeacherEvalHook

__all__ = [
    'DiscriminatorScheduleHook', 'DistillLossWeightHook',
    'DistillVisualizationHook', 'EnsembleEvalHook',
    'RandomStateHook',
    'RunGuardHook', 'StopDistillHook', 'StudentCheckpointHook',
    'TeacherEvalHook'
]
