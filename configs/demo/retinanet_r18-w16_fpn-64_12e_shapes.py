# Demo student: a quarter-width ResNet-18 (16 base channels), a 64-channel
# FPN and head; trained alone it is the baseline KTAN has to beat.
_base_ = './retinanet_r18_fpn_12e_shapes.py'

model = dict(
    backbone=dict(base_channels=16),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=64),
    bbox_head=dict(in_channels=64, feat_channels=64))
