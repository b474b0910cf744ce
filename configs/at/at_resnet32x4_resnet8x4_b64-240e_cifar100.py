_base_ = '../_base_/pairs/resnet32x4_resnet8x4_b64-240e_cifar100.py'

model = dict(
    adapter=None,  # attention maps need no equal widths
    loss_feat=dict(type='ATLoss', loss_weight=1000.0),  # CRD's beta
    levels=[0, 1, 2],  # every stage, as the AT paper
)
