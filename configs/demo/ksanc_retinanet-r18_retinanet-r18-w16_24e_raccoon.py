# KSANC with its defaults on the raccoon pair (configs/ksanc/README.md).
_base_ = './ktan_retinanet-r18_retinanet-r18-w16_24e_raccoon.py'

model = dict(type='KSANC')
