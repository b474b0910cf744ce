_base_ = '../_base_/pairs/resnet56_resnet20_b64-240e_cifar100.py'

model = dict(
    loss_feat=dict(type='FeatureMSELoss', loss_weight=100.0),  # CRD's beta
)
