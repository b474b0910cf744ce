from .reconstruction import ReconstructionDecoder, ReconstructionTeacher

__all__ = ['ReconstructionDecoder', 'ReconstructionTeacher']
