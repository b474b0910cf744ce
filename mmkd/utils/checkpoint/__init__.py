"""Checkpoint files, one module per job: safe loading (``safe_load``),
downloads (``download``), the student export (``export``) and atomic
writes (``atomic``)."""
from .atomic import pid_alive, remove_stale_temps, save_atomic, write_atomic
from .download import cached_download, is_url
from .export import (export_student, extract_student_state, peer_state,
                     plain_meta, refuse_to_overwrite, student_checkpoint,
                     student_config, uses_mmkd_types)
from .safe_load import (HISTORY_BUFFER_METHODS, STUDENT_PREFIX, TRUST_ENV,
                        UnsafeCheckpointError, _numpy_data_globals,
                        check_checkpoint_path, get_state_dict,
                        history_buffer_method, load_checkpoint_file,
                        register_checkpoint_loader, register_safe_globals,
                        trusted)

__all__ = [
    'HISTORY_BUFFER_METHODS', 'STUDENT_PREFIX', 'TRUST_ENV',
    'UnsafeCheckpointError', '_numpy_data_globals', 'cached_download',
    'check_checkpoint_path', 'export_student', 'extract_student_state',
    'get_state_dict', 'history_buffer_method', 'is_url',
    'load_checkpoint_file', 'peer_state', 'pid_alive', 'plain_meta',
    'refuse_to_overwrite', 'register_checkpoint_loader',
    'register_safe_globals', 'remove_stale_temps', 'save_atomic',
    'student_checkpoint', 'student_config', 'trusted', 'uses_mmkd_types',
    'write_atomic'
]
