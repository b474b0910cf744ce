# Stage 1: the complementary teacher, ResNet-34 trained for ImageNet plus
# image reconstruction from its last stage.
_base_ = 'mmpretrain::resnet/resnet34_8xb32_in1k.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
model = dict(_delete_=True, type='ReconstructionTeacher', model=_base_.model)
