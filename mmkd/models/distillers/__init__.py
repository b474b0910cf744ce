from .afd import AFD
from .base_distiller import BaseDistiller, Update
from .complementary import ComplementaryDistiller
from .ksanc import KSANC
from .ktan import KTAN, DetectionDistiller
from .mbakt import MBAKT
from .online import OnlineDistiller
from .self_distiller import SelfDistiller
from .teacher_distiller import TeacherDistiller

__all__ = ['AFD', 'BaseDistiller', 'ComplementaryDistiller',
           'DetectionDistiller', 'KSANC', 'KTAN', 'MBAKT', 'OnlineDistiller',
           'SelfDistiller', 'TeacherDistiller', 'Update']
