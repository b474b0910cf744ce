from .checkpoint import (export_student, extract_student_state,
                         load_checkpoint_file, register_safe_globals,
                         save_atomic)

__all__ = [
    'export_student', 'extract_student_state', 'load_checkpoint_file',
    'register_safe_globals', 'save_atomic'
]
