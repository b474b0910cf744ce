import torch
from mmengine.hooks import Hook

from mmkd.registry import HOOKS
from .random_state_hook import kept_random_state
from .utils import distiller_of


@HOOKS.register_module()
class EnsembleEvalHook(Hook):
    """After each validation of the student, evaluate every other network
    of an online or self-distillation run (AFD's peers, MB-AKT's branches)
    on the validation set with the run's own evaluator, and log each one's
    metrics with its prefix (``peer1/accuracy/top1``, ``branch0/coco/
    bbox_mAP``), so the whole ensemble is in the log beside the student.

    Add it with ``custom_hooks=[dict(type='EnsembleEvalHook')]``.
    """
    priority = 'LOW'

    def before_train(self, runner) -> None:
        model = distiller_of(runner, type(self).__name__)
        if not model.predictors():
            raise ValueError(
                f'EnsembleEvalHook evaluates the peers or branches of an '
                f'online or self-distillation method (AFD, MBAKT); '
                f'{type(model).__name__} has none. Remove the hook.')

    def after_val_epoch(self, runner, metrics=None) -> None:
        loop = runner.val_loop
        model = distiller_of(runner, type(self).__name__)
        for name, val_step in model.predictors().items():
            with kept_random_state(), torch.no_grad():
                for data in loop.dataloader:
                    loop.evaluator.process(data_samples=val_step(data),
                                           data_batch=data)
                found = loop.evaluator.evaluate(len(loop.dataloader.dataset))
            scalars = {f'{name}/{k}': float(v) for k, v in found.items()
                       if isinstance(v, (int, float))}
            runner.logger.info(f'{name}: ' + '  '.join(
                f'{k}: {v:.4f}' for k, v in scalars.items()))
            runner.visualizer.add_scalars(scalars, step=runner.iter)
            for k, v in scalars.items():
                runner.message_hub.update_info(k, v)
