# Complementary features on the raccoon pair (its teacher:
# recon-teacher_retinanet_r18_fpn_24e_raccoon.py, trained first).
_base_ = './ktan_retinanet-r18_retinanet-r18-w16_24e_raccoon.py'

teacher_ckpt = 'work_dirs/raccoon/recon-teacher/epoch_24.pth'

model = dict(
    _delete_=True,
    type='ComplementaryDistiller',
    student=_base_.model.student,
    teacher='{{fileDirname}}/recon-teacher_retinanet_r18_fpn_24e_raccoon.py',
    teacher_ckpt=teacher_ckpt)
