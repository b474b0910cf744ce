from .optimizers import DistillOptimWrapperConstructor

__all__ = ['DistillOptimWrapperConstructor']
