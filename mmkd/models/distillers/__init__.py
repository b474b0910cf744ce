from .afd import AFD
from .base_distiller import BaseDistiller, Update
from .ksanc import KSANC
from .ktan import KTAN, DetectionDistiller
from .mbakt import MBAKT
from .teacher_distiller import TeacherDistiller

__all__ = ['AFD', 'BaseDistiller', 'DetectionDistiller', 'KSANC', 'KTAN',
           'MBAKT', 'TeacherDistiller', 'Update']
