# Scalars (every student.*, distill.*, disc.* term and the validation
# metric) and DistillVisualizationHook's pictures to TensorBoard as well as
# to the work_dir: add this file to a config's _base_ list, then
#   tensorboard --logdir work_dirs/<config>/<timestamp>/vis_data
# (needs `pip install tensorboard`). A config that sets its own
# custom_hooks replaces this list: add the hook there.
visualizer = dict(vis_backends=[
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend')
])
custom_hooks = [dict(type='DistillVisualizationHook', num_images=2)]
