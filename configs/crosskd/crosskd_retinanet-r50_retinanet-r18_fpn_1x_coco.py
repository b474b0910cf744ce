# CrossKD on COCO: RetinaNet R50 -> R18 (the paper's RetinaNet pair is
# R101 -> R50: 39.7 AP, student 37.4). The student's head features entering
# its last stacked conv (of 4) go through the teacher's last conv and class
# and box layers.
_base_ = '../_base_/pairs/retinanet-r50_retinanet-r18_fpn_1x_coco.py'

model = dict(type='CrossKD', layer=-2)
