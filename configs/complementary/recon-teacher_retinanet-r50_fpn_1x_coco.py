# Stage 1: the complementary teacher, RetinaNet-R50 trained for COCO plus
# image reconstruction from P5 (neck level 2, the top level the backbone
# feeds; P6 and P7 are computed from it).
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
model = dict(
    _delete_=True, type='ReconstructionTeacher', model=_base_.model, level=2)
