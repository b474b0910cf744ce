# MGD on the raccoon pair, for the comparison with KD, KTAN and the others:
# every neck level, the paper's detector setting (alpha 2e-5, lambda 0.65).
_base_ = './ktan_retinanet-r18_retinanet-r18-w16_24e_raccoon.py'

model = dict(
    _delete_=True,
    type='MGD',
    student=_base_.model.student,
    teacher=_base_.model.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    loss_mgd=dict(type='MGDLoss', alpha_mgd=2e-5, lambda_mgd=0.65))
