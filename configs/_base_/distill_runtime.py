# What every mmkd distillation config adds to its student's config.
custom_imports = dict(imports=['mmkd'], allow_failed_imports=False)

# Student, adapter and discriminator are wrapped separately under DDP, each
# called through its own wrapper, so no parameter is ever unused.
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)
