# KD with logit standardisation on ImageNet: both models' logits z-scored,
# T 2, the KD weight 9 and the student's cross-entropy weight 0.1 (the
# authors' KD setting).
_base_ = '../kd/kd_resnet34_resnet18_8xb32_in1k.py'

model = dict(
    student=dict(head=dict(loss=dict(loss_weight=0.1), init_cfg=None)),
    loss_kd=dict(type='KDLoss', temperature=2.0, standardize=True,
                 loss_weight=9.0),
)
