# The raccoon teacher (retinanet_r18_fpn_24e_raccoon.py) trained with a
# reconstruction decoder on P5 (neck level 2): the complementary student's
# teacher.
_base_ = './retinanet_r18_fpn_24e_raccoon.py'

custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)
model = dict(
    _delete_=True, type='ReconstructionTeacher', model=_base_.model, level=2)
