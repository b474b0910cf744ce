"""Loading a distiller's state: a checkpoint of another model or of other
distillation parts is refused, naming what differs, before anything is
loaded."""


def check_distiller_state(model, theirs: dict) -> None:
    """Refuse a checkpoint state ``theirs`` (keys relative to ``model``)
    that is not a distiller's (e.g. a plain detector's), or one of another
    student or other distillation parts (a changed architecture or
    method), instead of silently keeping random weights or crashing later
    in the optimizer."""
    if not any(k.startswith('student.') for k in theirs):
        example = ', '.join(sorted(theirs)[:3])
        raise RuntimeError(
            'This checkpoint has no "student.*" weights (its keys start '
            f'with: {example}), so it is not a checkpoint of an mmkd '
            'distillation run and cannot be resumed or loaded into '
            'one. To start the student from a plain detector '
            'checkpoint, set model.student.init_cfg=dict('
            "type='Pretrained', checkpoint=...) and no load_from/"
            'resume; to resume, use a checkpoint this run wrote.')
    check_same_parts(model, theirs)


def check_same_parts(model, theirs: dict) -> None:
    ours = model.state_dict()
    changed = {}
    for key in set(ours) | set(theirs):
        if key not in theirs:
            why = 'missing'
        elif key not in ours:
            why = 'unexpected'
        elif (hasattr(ours[key], 'shape')
              and ours[key].shape != theirs[key].shape):
            why = 'other shape'
        else:
            continue
        changed.setdefault(key.split('.')[0], []).append(f'{key} ({why})')
    if changed:
        parts = '; '.join(
            f'{part}: {len(keys)} keys, e.g. {", ".join(sorted(keys)[:3])}'
            for part, keys in sorted(changed.items()))
        raise RuntimeError(
            'This checkpoint was written by a distiller with other '
            f'parts than this config builds ({parts}). The student\'s '
            'architecture or the method (adapter, discriminator) '
            'changed since it was saved, so resuming or loading it '
            'would train other weights than it holds. Use the config '
            'it was trained with (work_dir/<timestamp>/*.py); to start '
            'a new run from its student, export it '
            '(tools/model_converters/export_student.py) and set '
            "model.student.init_cfg=dict(type='Pretrained', "
            'checkpoint=...).')
