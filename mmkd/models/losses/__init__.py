from .feature_losses import ATLoss, CWDLoss, FeatureMSELoss, PKDLoss
from .gan_loss import GANLoss
from .kd_loss import KDLoss, LogitMSELoss
from .utils import check_loss_weight

__all__ = ['ATLoss', 'CWDLoss', 'FeatureMSELoss', 'GANLoss', 'KDLoss',
           'LogitMSELoss', 'PKDLoss', 'check_loss_weight']
