import torch
from mmdet.registry import HOOKS
from mmengine.hooks import Hook

from .random_state_hook import kept_random_state
from .utils import distiller_of, resumed_state, save_state


@HOOKS.register_module()
class TeacherEvalHook(Hook):
    """Evaluate the teacher once, before training, on the validation set
    with the run's own evaluator, and log its metrics with a ``teacher/``
    prefix (log file and visualizer backends), so the gap the student is
    closing is in the same log as the student's ``val`` metrics.

    A resumed run does not evaluate it again. Validation as usual reports
    the student.
    """
    priority = 'NORMAL'

    def __init__(self):
        self.done = False
        self._resumed = None

    def before_train(self, runner) -> None:
        teacher = distiller_of(runner, type(self).__name__).teacher
        if self._resumed is not None and self._resumed[0] == runner.iter > 0:
            self.done = self._resumed[1]
        if self.done:
            return
        if runner.val_loop is None:
            raise ValueError(
                'TeacherEvalHook evaluates on the validation set: set '
                'val_dataloader, val_evaluator and val_cfg, or remove the '
                'hook.')
        loop = runner.val_loop
        with kept_random_state(), torch.no_grad():
            for data in loop.dataloader:
                loop.evaluator.process(
                    data_samples=teacher.val_step(data), data_batch=data)
            metrics = loop.evaluator.evaluate(len(loop.dataloader.dataset))
        metrics = {f'teacher/{k}': v for k, v in metrics.items()}
        runner.logger.info('Teacher: ' + '  '.join(
            f'{k}: {v:.4f}' if isinstance(v, float) else f'{k}: {v}'
            for k, v in metrics.items()))
        scalars = {k: float(v) for k, v in metrics.items()
                   if isinstance(v, (int, float))}
        runner.visualizer.add_scalars(scalars, step=runner.iter)
        for k, v in scalars.items():
            runner.message_hub.update_info(k, v)
        self.done = True

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        save_state(checkpoint, type(self).__name__, dict(done=self.done))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = resumed_state(checkpoint, type(self).__name__)
        if state is not None:  # applied in before_train if this is a resume
            self._resumed = (checkpoint['meta']['iter'], state['done'])
