"""Run MMDetection's or MMPretrain's packaged tool unchanged, whichever
toolbox the config belongs to (mmkd's configs enable the plugin themselves
through ``custom_imports``; mmkd is imported first, so configs may name
``mmkd::`` ones, and so may the CONFIG argument)."""
import importlib
import os
import os.path as osp
import runpy
import sys


def init_cpu_process_group() -> None:
    """On a machine without GPUs, start the gloo process group a
    ``--launcher pytorch`` run needs before the Runner would: mmengine's
    ``init_dist`` selects a CUDA device first, which fails on CPU. The
    Runner then uses this group as it is."""
    import torch
    import torch.distributed as dist
    launched = '--launcher' in sys.argv and 'pytorch' in sys.argv
    if (launched and 'RANK' in os.environ and not torch.cuda.is_available()
            and not dist.is_initialized()):
        dist.init_process_group(backend='gloo')


def destroy_process_group() -> None:
    """End the process group before exit, all ranks together (gloo's
    threads otherwise may abort the interpreter's shutdown, and a rank that
    tears its group down while another still writes its last checkpoint
    aborts with "terminate called without an active exception").
    The finished Runner is collected first: its model's DDP reducers hold
    the group, and as unreachable cycles they would otherwise be torn down
    at interpreter exit, which gloo's threads may abort the same way."""
    import gc

    import torch.distributed as dist
    gc.collect()
    if dist.is_available() and dist.is_initialized():
        if dist.get_world_size() > 1:
            dist.barrier()
        dist.destroy_process_group()


def empty_dataset(error: BaseException) -> bool:
    """Whether ``error`` is mmengine serialising a dataset with no
    samples (its message, "need at least one array to concatenate", does
    not say so)."""
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == '_serialize_data':
            return isinstance(error, ValueError)
        tb = tb.tb_next
    return False


def missing_data(config: str, error: FileNotFoundError):
    """What to run when the config's dataset is not there (e.g. a config
    of the wheel run from a new folder), or None if that is not the
    error."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    for split in ('train', 'val', 'test'):
        root = ((cfg.get(f'{split}_dataloader') or {}).get('dataset')
                or {}).get('data_root')
        if not root or osp.exists(root) or \
                root.rstrip('/') not in str(error):
            continue
        how = ('write it with: python -c "from mmkd.utils.digits import '
               f"make_digits_dataset; make_digits_dataset('{root}')\""
               if 'digits' in root else 'put the dataset there')
        return (f'{error}\nThe dataset of {config} is not here: data_root '
                f'{root!r} (relative to {os.getcwd()}) does not exist. '
                f'{how[0].upper()}{how[1:]}, or point the config at your '
                'copy: --cfg-options train_dataloader.dataset.data_root=DIR '
                'val_dataloader.dataset.data_root=DIR '
                'test_dataloader.dataset.data_root=DIR')
    return None


def toolbox(config: str) -> str:
    """``'mmpretrain'`` or ``'mmdet'``: the config's ``default_scope``, else
    the toolbox whose registry builds its model (its student's, for a
    distiller)."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    scope = cfg.get('default_scope')
    if scope in ('mmdet', 'mmpretrain'):
        return scope
    model = cfg.get('model') or {}
    model = model.get('student', model)
    if isinstance(model, dict):
        from mmkd.models.distillers.utils import toolbox_of
        scope = toolbox_of(model)
    return scope if scope in ('mmdet', 'mmpretrain') else 'mmdet'


def resolve_config_arg() -> None:
    """Import mmkd before any config is parsed (so ``_base_`` and model
    paths may name ``mmkd::`` configs), and let the CONFIG argument itself
    be an ``mmkd::folder/name.py`` name."""
    import mmkd
    for i, arg in enumerate(sys.argv[1:], 1):
        if not arg.startswith('-'):
            if arg.startswith('mmkd::'):
                sys.argv[i] = mmkd.config_path(arg[len('mmkd::'):])
                if not osp.isfile(sys.argv[i]):
                    raise SystemExit(f'{arg}: no such mmkd config '
                                     f'({sys.argv[i]})')
            return


def run(name: str) -> None:
    init_cpu_process_group()
    resolve_config_arg()
    args = [a for a in sys.argv[1:] if not a.startswith('-')]
    if not args or not osp.isfile(args[0]):
        pkg = 'mmdet'  # the toolbox's own script prints the usage / error
    else:
        pkg = toolbox(args[0])
    package = importlib.import_module(pkg)
    script = osp.join(osp.dirname(package.__file__), '.mim', 'tools', name)
    try:
        runpy.run_path(script, run_name='__main__')
        destroy_process_group()
    except FileNotFoundError as e:
        hint = args and osp.isfile(args[0]) and missing_data(args[0], e)
        if not hint:
            raise
        raise SystemExit(hint) from e
    except ValueError as e:
        if not empty_dataset(e):
            raise
        raise ValueError(
            'A dataset of this config is empty: no image is left after '
            'loading its annotations and filtering. Check data_root, '
            'ann_file and data_prefix, and that metainfo.classes names the '
            'classes of the annotation file (filter_empty_gt drops images '
            'without a box of those classes).') from e
