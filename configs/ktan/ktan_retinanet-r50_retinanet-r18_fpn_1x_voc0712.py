# PASCAL VOC 07+12, evaluated on VOC2007 test with VOCMetric (11-point mAP).
_base_ = [
    'mmdet::pascal_voc/retinanet_r50_fpn_1x_voc0712.py',
    '../_base_/distill_runtime.py'
]

teacher_ckpt = 'checkpoints/retinanet_r50_fpn_1x_voc0712.pth'

student = _base_.model
student.backbone.update(
    depth=18,
    init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18'))
student.neck.in_channels = [64, 128, 256, 512]
model = dict(
    _delete_=True,
    type='DetectionDistiller',
    student=student,
    teacher='mmdet::pascal_voc/retinanet_r50_fpn_1x_voc0712.py',
    teacher_ckpt=teacher_ckpt)

optim_wrapper = dict(
    constructor='DistillOptimWrapperConstructor',
    disc=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))

# mmkd's base hooks: atomic checkpoints, random state, student files, run guard
default_hooks = _base_.distill_default_hooks

data_root = 'data/VOCdevkit/'
train_dataloader = dict(
    dataset=dict(
        dataset=dict(datasets=[
            dict(data_root=data_root),
            dict(data_root=data_root)
        ])))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
