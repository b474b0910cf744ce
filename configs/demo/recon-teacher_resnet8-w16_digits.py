# The digits teacher (resnet8-w16_digits.py) trained with a reconstruction
# decoder on its last stage: the complementary student's teacher.
_base_ = './resnet8-w16_digits.py'

model = dict(_delete_=True, type='ReconstructionTeacher', model=_base_.model)
