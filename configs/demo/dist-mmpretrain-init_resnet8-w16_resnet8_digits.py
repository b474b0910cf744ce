# DIST on the digits with the student's head at MMPretrain's initialisation
# (Normal(0, 0.01): logits of spread about 0.003), to show why the DIST
# configs start it at PyTorch's (configs/dist/README.md).
_base_ = './dist_resnet8-w16_resnet8_digits.py'

model = dict(student='{{fileDirname}}/resnet8_digits.py')
