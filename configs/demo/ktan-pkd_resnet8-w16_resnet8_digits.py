# KTAN with a normalised feature loss (PKD's per-channel standardisation
# before the MSE) on the digits, against the defaults.
_base_ = './ktan_resnet8-w16_resnet8_digits.py'

model = dict(loss_feat=dict(type='PKDLoss', loss_weight=1.0))
