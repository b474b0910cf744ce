# The raccoon student: a quarter-width ResNet-18 (16 base channels) with a
# 32-channel FPN and head; trained alone it is the baseline. (A half-width
# student trained alone already matches the teacher on this small set.)
_base_ = './retinanet_r18_fpn_24e_raccoon.py'

model = dict(
    backbone=dict(base_channels=16),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=32),
    bbox_head=dict(in_channels=32, feat_channels=32))
