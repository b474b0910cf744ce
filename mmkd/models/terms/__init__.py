"""The terms methods are made of (see :mod:`mmkd.models.terms.base`)."""
from .adversaries import LogitAdversary, PatchAdversary
from .base import Step, Term
from .hint import Hint
from .logits import LogitKD, LogitMatch, logit_kd
from .squeeze import Squeeze

__all__ = ['Hint', 'LogitAdversary', 'LogitKD', 'LogitMatch',
           'PatchAdversary', 'Squeeze', 'Step', 'Term', 'logit_kd']
