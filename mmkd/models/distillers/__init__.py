from .afd import AFD
from .base_distiller import BaseDistiller, Update
from .complementary import ComplementaryDistiller
from .ksanc import KSANC
from .ktan import KTAN, DetectionDistiller
from .mbakt import MBAKT
from .online import OnlineDistiller
from .self_distiller import SelfDistiller
from .teacher_distiller import TeacherDistiller


def _import_all() -> None:
    """Import every module of this package, so that a method's file
    registers its components without a line here."""
    import importlib
    import pkgutil
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f'{__name__}.{module.name}')


_import_all()

__all__ = ['AFD', 'BaseDistiller', 'ComplementaryDistiller',
           'DetectionDistiller', 'KSANC', 'KTAN', 'MBAKT', 'OnlineDistiller',
           'SelfDistiller', 'TeacherDistiller', 'Update']
