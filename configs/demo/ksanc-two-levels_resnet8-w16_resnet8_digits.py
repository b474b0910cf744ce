# KSANC on the digits with the attention on the last two stages only (the
# paper's hierarchy has three), for the speed/accuracy comparison in
# configs/ksanc/README.md.
_base_ = './ksanc_resnet8-w16_resnet8_digits.py'

model = dict(levels=[1, 2])
