from .distill_optim_wrapper_constructor import DistillOptimWrapperConstructor

__all__ = ['DistillOptimWrapperConstructor']
