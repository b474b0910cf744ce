import torch.nn as nn
from mmengine.device import get_device
from mmengine.model import MMSeparateDistributedDataParallel
from mmkd.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class DistillDataParallel(MMSeparateDistributedDataParallel):
    """``MMSeparateDistributedDataParallel`` (student, adapter and
    discriminator each in their own DDP, each called through it, so no
    parameter is ever unused) that also runs on CPU processes (gloo).

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
        lists = [name for name, child in module.named_children()
                 if isinstance(child, (nn.ModuleList, nn.ModuleDict))
                 and any(p.requires_grad for p in child.parameters())]
        if lists:
            raise NotImplementedError(
                f'{type(module).__name__} keeps networks in child lists '
                f'({", ".join(lists)}), which multi-process training does '
                'not wrap yet: train it in one process (no --launcher, '
                'no dist_train.sh).')
        if get_device() == 'cpu':
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        super().__init__(module, broadcast_buffers, find_unused_parameters,
                         **kwargs)
