from .gan_loss import GANLoss
from .kd_loss import KDLoss
from .utils import check_loss_weight

__all__ = ['GANLoss', 'KDLoss', 'check_loss_weight']
