# CrossKD on the raccoon pair, for the comparison with KD, KTAN and the
# others: the quarter-width student's head features (32 channels, through a
# 1x1 conv to the teacher's 256) entering its last stacked conv go through
# the teacher's last conv and class and box layers.
_base_ = './ktan_retinanet-r18_retinanet-r18-w16_24e_raccoon.py'

model = dict(
    _delete_=True,
    type='CrossKD',
    student=_base_.model.student,
    teacher=_base_.model.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    layer=-2)
