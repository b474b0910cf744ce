# FGD on COCO: RetinaNet R50 -> R18, every neck level, the paper's RetinaNet
# setting (temp 0.5, alpha 1e-3, beta 5e-4, gamma 1e-3, lambda 5e-6).
_base_ = '../_base_/pairs/retinanet-r50_retinanet-r18_fpn_1x_coco.py'

model = dict(
    type='FGD',
    loss_fgd=dict(type='FGDLoss', temp=0.5, alpha_fgd=1e-3, beta_fgd=5e-4,
                  gamma_fgd=1e-3, lambda_fgd=5e-6))
