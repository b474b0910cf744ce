# Real-data teacher for the detection comparison in configs/ktan/README.md:
# RetinaNet-R18 from scratch (BN learns, no ImageNet weights) on the raccoon
# set (github.com/experiencor/raccoon_dataset, 160 train / 40 val images,
# COCO-format annotations/train.json and val.json, images in images/).
_base_ = './retinanet_r18_fpn_12e_shapes.py'

data_root = 'data/raccoon/'
classes = ('raccoon', )
img_scale = (256, 256)
max_epochs = 24

model = dict(
    bbox_head=dict(
        num_classes=len(classes), anchor_generator=dict(octave_base_scale=4)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
dataset = dict(
    data_root=data_root,
    metainfo=dict(classes=classes),
    data_prefix=dict(img='images/'))
train_dataloader = dict(dataset=dict(dataset, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(dataset, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=50),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        eta_min_ratio=0.05)
]
default_hooks = dict(checkpoint=dict(interval=max_epochs))
