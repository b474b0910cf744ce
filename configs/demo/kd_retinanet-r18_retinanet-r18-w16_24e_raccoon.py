# Hinton KD (dense class scores, T=1) on the raccoon pair, for the
# comparison with KTAN, KSANC and complementary features.
_base_ = './ktan_retinanet-r18_retinanet-r18-w16_24e_raccoon.py'

model = dict(
    _delete_=True,
    type='TeacherDistiller',
    student=_base_.model.student,
    teacher=_base_.model.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    loss_kd=dict(type='KDLoss'))
