"""Checkpoints at ``http(s)://`` URLs, downloaded once into torch's hub
cache, where mmengine caches its own."""
import os
import os.path as osp
from urllib.parse import urlparse


def is_url(path) -> bool:
    return isinstance(path, str) and path.startswith(('http://', 'https://'))


def cached_download(url: str) -> str:
    """The local copy of ``url`` in torch's hub cache
    (``$TORCH_HOME/hub/checkpoints``, default
    ``~/.cache/torch/hub/checkpoints``), where mmengine (through torch's
    ``load_state_dict_from_url``) caches its ``http(s)://`` checkpoints,
    downloaded once (by rank 0 first under DDP)."""
    import torch.distributed as dist
    from torch.hub import download_url_to_file, get_dir
    cached = osp.join(get_dir(), 'checkpoints',
                      osp.basename(urlparse(url).path) or 'checkpoint.pth')
    os.makedirs(osp.dirname(cached), exist_ok=True)
    group = (dist.is_available() and dist.is_initialized()
             and dist.get_world_size() > 1)
    if (not group or dist.get_rank() == 0) and not osp.isfile(cached):
        download_url_to_file(url, cached, progress=False)
    if group:
        dist.barrier()
    if not osp.isfile(cached):  # a rank on a node without rank 0's disk
        download_url_to_file(url, cached, progress=False)
    return cached
