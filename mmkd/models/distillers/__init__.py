from .base_distiller import BaseDistiller, Update
from .ktan import KTAN, DetectionDistiller
from .teacher_distiller import TeacherDistiller

__all__ = ['BaseDistiller', 'DetectionDistiller', 'KTAN', 'TeacherDistiller',
           'Update']
