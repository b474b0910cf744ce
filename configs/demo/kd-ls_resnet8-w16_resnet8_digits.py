# KD with logit standardisation on the digits, for the comparison with KD:
# the authors' setting (T 2, KD weight 9, the student's cross-entropy 0.1).
_base_ = '../_base_/pairs/resnet8-w16_resnet8_digits.py'

model = dict(
    student='{{fileDirname}}/../ls/resnet8-ce0.1_digits.py',
    loss_kd=dict(type='KDLoss', temperature=2.0, standardize=True,
                 loss_weight=9.0))
