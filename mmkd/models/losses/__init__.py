from .feature_losses import ATLoss, CWDLoss, FeatureMSELoss, PKDLoss
from .gan_loss import GANLoss
from .kd_loss import KDLoss
from .utils import check_loss_weight

__all__ = ['ATLoss', 'CWDLoss', 'FeatureMSELoss', 'GANLoss', 'KDLoss',
           'PKDLoss', 'check_loss_weight']
