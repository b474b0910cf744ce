from .adapters import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .discriminators import *  # noqa: F401,F403
from .distillers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .teachers import *  # noqa: F401,F403
from .teacher import build_teacher  # noqa: F401
