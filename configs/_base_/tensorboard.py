# Scalars (every student.*, distill.*, disc.* term and the validation
# metric) and DistillVisualizationHook's pictures to TensorBoard as well as
# to the work_dir (needs `pip install tensorboard`). mmengine refuses a key
# set in two _base_ files and the student's base already sets `visualizer`,
# so this file only names the pieces; a config takes them:
#   _base_ = [student_config, 'path/to/mmkd/configs/_base_/tensorboard.py']
#   visualizer = dict(vis_backends=_base_.tensorboard_vis_backends)
#   custom_hooks = [_base_.distill_visualization_hook]   # + your own hooks
# then: tensorboard --logdir work_dirs/<config>/<timestamp>/vis_data
tensorboard_vis_backends = [
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend')
]
distill_visualization_hook = dict(type='DistillVisualizationHook',
                                  num_images=2)
