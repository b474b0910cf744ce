from .afd import AFD
from .base_distiller import BaseDistiller, Update
from .complementary import ComplementaryDistiller
from .ksanc import KSANC
from .ktan import KTAN, DetectionDistiller
from .mbakt import MBAKT
from .teacher_distiller import TeacherDistiller

__all__ = ['AFD', 'BaseDistiller', 'ComplementaryDistiller',
           'DetectionDistiller', 'KSANC', 'KTAN', 'MBAKT', 'TeacherDistiller',
           'Update']
