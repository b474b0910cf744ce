# KSANC on the digits with the paper's plain lift (a 1x1 conv, no BN), for
# the comparison of the two lifts (configs/ksanc/README.md).
_base_ = './ksanc_resnet8-w16_resnet8_digits.py'

model = dict(adapter=dict(norm_cfg=None))
