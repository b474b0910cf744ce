# KTAN with a normalised feature loss: PKD's per-channel standardisation of
# both maps before the MSE (so the hint is on the order of the task loss)
# instead of the raw MSE of the defaults; the rest as KTAN's defaults.
_base_ = './ktan_retinanet-r18_retinanet-r18-w16_24e_raccoon.py'

model = dict(loss_feat=dict(type='PKDLoss', loss_weight=1.0))
