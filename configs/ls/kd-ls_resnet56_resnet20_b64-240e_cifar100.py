# KD with logit standardisation on CIFAR-100 as the authors train it: both
# models' logits z-scored, T 2, the KD weight 9 and the student's
# cross-entropy weight 0.1.
_base_ = '../kd/kd_resnet56_resnet20_b64-240e_cifar100.py'

model = dict(
    student='{{fileDirname}}/resnet20-ce0.1_b64-240e_cifar100.py',
    loss_kd=dict(type='KDLoss', temperature=2.0, standardize=True,
                 loss_weight=9.0),
)
