# What every mmkd distillation config adds to its student's config.
custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)

# Student, adapter and discriminator are wrapped separately under DDP, each
# called through its own wrapper, so no parameter is ever unused; it also
# runs on CPU processes (gloo).
model_wrapper_cfg = dict(
    type='DistillDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)

# Random state saved in checkpoints (exact resume) and the student alone
# written next to the runner's checkpoints. When a config adds hooks, keep
# these: custom_hooks = _base_.custom_hooks + [dict(...)]
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='StudentCheckpointHook'),
]
