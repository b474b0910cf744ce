# FGD on the raccoon pair, for the comparison with KD, KTAN and the others:
# every neck level, the paper's RetinaNet setting.
_base_ = './ktan_retinanet-r18_retinanet-r18-w16_24e_raccoon.py'

model = dict(
    _delete_=True,
    type='FGD',
    student=_base_.model.student,
    teacher=_base_.model.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    loss_fgd=dict(type='FGDLoss', temp=0.5, alpha_fgd=1e-3, beta_fgd=5e-4,
                  gamma_fgd=1e-3, lambda_fgd=5e-6))
