from .distill_data_parallel import DistillDataParallel

__all__ = ['DistillDataParallel']
