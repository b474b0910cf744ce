from .cifar import CIFARResNet, CIFARVGG, CIFARWideResNet

__all__ = ['CIFARResNet', 'CIFARVGG', 'CIFARWideResNet']
