import torch.nn as nn
from mmengine.device import get_device
from mmengine.model import (MMDistributedDataParallel,
                            MMSeparateDistributedDataParallel)

from mmkd.registry import MODEL_WRAPPERS


def trainable(module: nn.Module) -> bool:
    return any(p.requires_grad for p in module.parameters())


@MODEL_WRAPPERS.register_module()
class DistillDataParallel(MMSeparateDistributedDataParallel):
    """``MMSeparateDistributedDataParallel`` (student, adapter and
    discriminator each in their own DDP, each called through it, so no
    parameter is ever unused) that also wraps each element of a child list
    (AFD's peers, transforms and discriminators; MB-AKT's branches) in its
    own DDP, and runs on CPU processes (gloo).

    mmengine's Runner passes ``device_ids=[LOCAL_RANK]`` to every DDP
    wrapper, which torch refuses for CPU modules; here they are dropped
    when the device is the CPU. Registered in mmengine's root registry,
    where the Runner looks wrappers up.
    """

    def __init__(self,
                 module,
                 broadcast_buffers: bool = False,
                 find_unused_parameters: bool = False,
                 **kwargs):
        device = get_device()
        if device == 'cpu':
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        lists = {name: child for name, child in module._modules.items()
                 if isinstance(child, (nn.ModuleList, nn.ModuleDict))
                 and trainable(child)}
        for name in lists:  # the parent wraps what is left, not the lists
            module._modules[name] = nn.Identity()
        super().__init__(module, broadcast_buffers, find_unused_parameters,
                         **kwargs)
        for name, child in lists.items():
            for key, sub in child._modules.items():
                sub = sub.to(device)
                child._modules[key] = MMDistributedDataParallel(
                    module=sub, broadcast_buffers=broadcast_buffers,
                    find_unused_parameters=find_unused_parameters,
                    **kwargs) if trainable(sub) else sub
            module._modules[name] = child
