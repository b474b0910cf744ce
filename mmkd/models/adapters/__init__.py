from .bottleneck_branch import BottleneckBranch
from .t2s_adapter import T2SAdapter
from .task_attention import TaskAttention

__all__ = ['BottleneckBranch', 'T2SAdapter', 'TaskAttention']
