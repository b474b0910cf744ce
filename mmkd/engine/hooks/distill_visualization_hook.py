import torch
from mmengine.hooks import Hook

from mmkd.models.distillers.utils import check_count
from mmkd.registry import HOOKS
from .random_state_hook import kept_random_state
from .utils import distiller_of


@HOOKS.register_module()
class DistillVisualizationHook(Hook):
    """After every ``interval``-th validation, draw what distillation does
    on the first ``num_images`` validation images (a fixed handful): per
    distilled level the teacher's map, the student's, the adapted student
    map, their difference, the discriminator's patch scores and KSANC's
    attention (:mod:`mmkd.visualization`), written through the runner's
    visualizer as ``distill_img<i>_<level>`` at the training iteration
    (epoch- and iteration-based loops alike): to ``vis_data/vis_image`` with
    ``LocalVisBackend``, to TensorBoard's images with
    ``TensorboardVisBackend`` (``configs/_base_/tensorboard.py``).

    Add it with ``custom_hooks=[dict(type='DistillVisualizationHook')]``.
    """
    priority = 'LOW'

    def __init__(self, num_images: int = 2, interval: int = 1,
                 reduce: str = 'abs') -> None:
        check_count(num_images, 'num_images')
        check_count(interval, 'interval')
        if reduce not in ('abs', 'pca'):
            raise ValueError(f"reduce must be 'abs' or 'pca', got {reduce!r}")
        self.num_images, self.interval, self.reduce = \
            num_images, interval, reduce
        self.validations = 0

    def after_val_epoch(self, runner, metrics=None) -> None:
        from mmkd.visualization import distill_maps, draw
        self.validations += 1
        if (self.validations - 1) % self.interval:
            return
        model = distiller_of(runner, type(self).__name__)
        dataset = runner.val_loop.dataloader.dataset
        with kept_random_state(), torch.no_grad():
            for i in range(min(self.num_images, len(dataset))):
                x = dataset[i]['inputs']
                inputs = model.data_preprocessor(dict(inputs=[x]),
                                                 False)['inputs']
                image = x.permute(1, 2, 0).numpy()
                for title, array in draw(image, distill_maps(model, inputs),
                                         self.reduce):
                    runner.visualizer.add_image(
                        f"distill_img{i}_{title.replace(' ', '_')}", array,
                        step=runner.iter)
