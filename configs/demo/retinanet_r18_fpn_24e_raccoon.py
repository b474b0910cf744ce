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

# the demo's pipelines and schedule at this size and length
resize = dict(type='Resize', scale=img_scale, keep_ratio=True)
train_pipeline = _base_.train_pipeline
train_pipeline[2] = resize
test_pipeline = _base_.test_pipeline
test_pipeline[1] = resize
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
param_scheduler = _base_.param_scheduler
param_scheduler[1]['end'] = max_epochs
default_hooks = dict(checkpoint=dict(interval=max_epochs))
