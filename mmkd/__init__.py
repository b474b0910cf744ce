"""mmkd: adversarial knowledge distillation for MMDetection 3.x.

``custom_imports=dict(imports=['mmkd'])`` registers every component into
mmengine's root registries (:mod:`mmkd.registry`), which MMDetection's and
MMPretrain's registries both fall back to; configs inherit mmkd's as
``_base_ = 'mmkd::ktan/....py'`` (:mod:`mmkd.utils.config_package`).
"""
from . import engine, models  # noqa: F401  (registers the components)
from .utils import register_checkpoint_loader, register_safe_globals
from .utils.config_package import config_path, register_config_package
from .version import __version__

register_safe_globals()
register_checkpoint_loader()
register_config_package()

__all__ = ['__version__', 'config_path']
