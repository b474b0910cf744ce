# MGD on ImageNet: the last stage of ResNet-34 -> ResNet-18, the paper's
# classifier setting (alpha 7e-5, lambda 0.15).
_base_ = '../_base_/pairs/resnet34_resnet18_8xb32_in1k.py'

model = dict(
    type='MGD',
    loss_mgd=dict(type='MGDLoss', alpha_mgd=7e-5, lambda_mgd=0.15))
