"""The terms methods are made of (see :mod:`mmkd.models.terms.base`)."""
from .adversaries import LogitAdversary, PatchAdversary
from .base import BranchStep, PeerStep, Step, Term
from .branches import BranchHint, BranchTask, EnsembleKD, ProbAdversary
from .hint import Hint
from .logits import LogitKD, LogitMatch, logit_kd
from .peers import PeerAdversary, PeerKD
from .squeeze import Squeeze


def _import_all() -> None:
    """Import every module of this package, so that a method's file
    registers its components without a line here."""
    import importlib
    import pkgutil
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f'{__name__}.{module.name}')


_import_all()

__all__ = [
    'BranchHint', 'BranchStep', 'BranchTask', 'EnsembleKD', 'Hint',
    'LogitAdversary', 'LogitKD', 'LogitMatch', 'PatchAdversary',
    'PeerAdversary', 'PeerKD', 'PeerStep', 'ProbAdversary', 'Squeeze', 'Step',
    'Term', 'logit_kd'
]
