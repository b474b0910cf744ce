# FitNet (T2S + feature MSE on the FPN levels) on the raccoon pair.
_base_ = './ktan_retinanet-r18_retinanet-r18-w16_24e_raccoon.py'

model = dict(
    _delete_=True,
    type='TeacherDistiller',
    student=_base_.model.student,
    teacher=_base_.model.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    loss_feat=dict(type='FeatureMSELoss', loss_weight=1.0))
