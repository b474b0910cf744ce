from mmengine.fileio import LocalBackend, register_backend

from mmkd.utils.checkpoint import write_atomic


@register_backend('mmkd_atomic_local')
class AtomicLocalBackend(LocalBackend):
    """Local files written to a temporary file in the same directory, then
    renamed over the target: a process killed while writing a checkpoint
    leaves the previous file, and the previous ``last_checkpoint``
    pointer, intact.

    mmkd's configs give it to the runner's checkpoints with
    ``default_hooks.checkpoint.backend_args=dict(backend='mmkd_atomic_local')``.
    """

    def put(self, obj: bytes, filepath) -> None:
        write_atomic(obj, str(filepath))

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        write_atomic(obj.encode(encoding), str(filepath))
