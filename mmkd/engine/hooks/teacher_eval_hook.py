import torch
from mmkd.registry import HOOKS

from .random_state_hook import kept_random_state
from .utils import StatefulHook, distiller_of


@HOOKS.register_module()
class TeacherEvalHook(StatefulHook):
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

    def before_train(self, runner) -> None:
        distiller = distiller_of(runner, type(self).__name__)
        distiller.load_teacher()
        teacher = distiller.teacher
        resumed = self.resumed_state(runner)
        if resumed is not None:
            self.done = resumed['done']
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

    def state_dict(self) -> dict:
        return dict(done=self.done)
