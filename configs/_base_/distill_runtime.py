# What every mmkd distillation config adds to its student's config. It sets
# only keys that MMDetection's student configs do not, so it combines with
# any of them: _base_ = [student_config, 'path/to/distill_runtime.py'].
custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)

# Student, adapter and discriminator are wrapped separately under DDP, each
# called through its own wrapper, so no parameter is ever unused; it also
# runs on CPU processes (gloo).
model_wrapper_cfg = dict(
    type='DistillDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)

# mmkd's base hooks, for the distillation config to merge into the
# student's default_hooks with `default_hooks = _base_.distill_default_hooks`
# (a sibling _base_ file cannot set default_hooks or custom_hooks itself:
# mmengine refuses a key in two bases, and RTMDet/YOLOX set custom_hooks).
# In default_hooks they stay when a config replaces custom_hooks.
distill_default_hooks = dict(
    # a kill while a checkpoint is written keeps the previous one usable
    checkpoint=dict(backend_args=dict(backend='mmkd_atomic_local')),
    # every rank's random state in each checkpoint: exact resume
    random_state=dict(type='RandomStateHook'),
    # work_dir/student_latest.pth (+ student_best.pth with save_best) and
    # student_config.py, for plain MMDetection
    student_checkpoint=dict(type='StudentCheckpointHook'),
    # one live run per work_dir; a resume with another teacher is refused
    run_guard=dict(type='RunGuardHook'))
