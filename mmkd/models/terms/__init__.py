"""The terms methods are made of (see :mod:`mmkd.models.terms.base`)."""
from .adversaries import LogitAdversary, PatchAdversary
from .base import BranchStep, PeerStep, Step, Term
from .branches import BranchHint, BranchTask, EnsembleKD, ProbAdversary
from .hint import Hint
from .logits import LogitKD, LogitMatch, logit_kd
from .peers import PeerAdversary, PeerKD
from .squeeze import Squeeze

__all__ = [
    'BranchHint', 'BranchStep', 'BranchTask', 'EnsembleKD', 'Hint',
    'LogitAdversary', 'LogitKD', 'LogitMatch', 'PatchAdversary',
    'PeerAdversary', 'PeerKD', 'PeerStep', 'ProbAdversary', 'Squeeze', 'Step',
    'Term', 'logit_kd'
]
