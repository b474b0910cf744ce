from .logit_discriminator import LogitDiscriminator
from .patch_discriminator import PatchDiscriminator

__all__ = ['LogitDiscriminator', 'PatchDiscriminator']
