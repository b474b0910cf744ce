from .t2s_adapter import T2SAdapter

__all__ = ['T2SAdapter']
