from .feature_losses import ATLoss, CWDLoss, FeatureMSELoss, PKDLoss
from .gan_loss import GANLoss
from .kd_loss import KDLoss, LogitMSELoss
from .utils import check_loss_weight


def _import_all() -> None:
    """Import every module of this package, so that a method's file
    registers its components without a line here."""
    import importlib
    import pkgutil
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f'{__name__}.{module.name}')


_import_all()

__all__ = ['ATLoss', 'CWDLoss', 'FeatureMSELoss', 'GANLoss', 'KDLoss',
           'LogitMSELoss', 'PKDLoss', 'check_loss_weight']
