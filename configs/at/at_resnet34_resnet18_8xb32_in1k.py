_base_ = '../_base_/pairs/resnet34_resnet18_8xb32_in1k.py'

model = dict(
    adapter=None,  # attention maps need no equal widths
    loss_feat=dict(type='ATLoss', loss_weight=1000.0),  # CRD's beta
    levels=[0, 1, 2, 3],  # every stage, as the AT paper
)
