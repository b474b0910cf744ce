"""mmkd: adversarial knowledge distillation for MMDetection 3.x.

``custom_imports=dict(imports=['mmkd'])`` registers every component into
mmengine's root registries (:mod:`mmkd.registry`), which MMDetection's and
MMPretrain's registries both fall back to.
"""
from . import engine, models  # noqa: F401  (registers the components)
from .utils import register_checkpoint_loader, register_safe_globals
from .version import __version__

register_safe_globals()
register_checkpoint_loader()

__all__ = ['__version__']
