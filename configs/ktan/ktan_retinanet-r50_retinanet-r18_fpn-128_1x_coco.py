# A lightweight student: its FPN and head are 128 channels wide, the
# teacher's 256, so the T2S adapters really map channels (128 -> 256).
_base_ = './ktan_retinanet-r50_retinanet-r18_fpn_1x_coco.py'

model = dict(
    student=dict(
        neck=dict(out_channels=128),
        bbox_head=dict(in_channels=128, feat_channels=128)))
