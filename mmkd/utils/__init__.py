from .checkpoint import (UnsafeCheckpointError, export_student,
                         extract_student_state, load_checkpoint_file,
                         register_checkpoint_loader, register_safe_globals,
                         save_atomic, student_checkpoint, student_config,
                         write_atomic)

__all__ = [
    'UnsafeCheckpointError', 'export_student', 'extract_student_state',
    'load_checkpoint_file', 'register_checkpoint_loader',
    'register_safe_globals', 'save_atomic', 'student_checkpoint',
    'student_config', 'write_atomic'
]
