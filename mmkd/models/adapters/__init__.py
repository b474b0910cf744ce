from .bottleneck_branch import BottleneckBranch
from .t2s_adapter import T2SAdapter

__all__ = ['BottleneckBranch', 'T2SAdapter']
