"""MB-AKT: Multi-Branched Adversarial Knowledge Transfer (Ghorbani et al.,
arXiv 2010.04516) for classifiers and dense-head detectors; BYOT (Be Your
Own Teacher, Zhang et al., ICCV 2019) is its config without the
discriminator.

The paper fixes: branches over the primary stream form an ensemble that
teaches itself with four losses and is trained against a discriminator;
the branches cost nothing at inference. mmkd decided (configs/mbakt/
README.md), following BYOT: a branch is a bottleneck and a classifier on
a backbone stage (for a detector: a light copy of its dense head at the
neck level of the next stride); the losses are each branch's task loss
(x0.7), T^2 KL from the detached ensemble (the mean of the main output's
and the branches' scores) to each branch (x0.3, T=3), MSE from the
detached deepest map (the last stage; the neck level) to each branch's
map (x0.03), and LSGAN on class probabilities: ensemble real, branch fake.
"""
import functools
from typing import Callable, Dict, List, Optional, Sequence

import torch
from mmengine.model import ModuleList

from mmkd import registry
from ..tasks import evaluating, task_of
from ..losses import check_loss_weight
from .base_distiller import BaseDistiller
from .updates import (Update, check_gan, discriminator_loss, judged,
                      refuse_teacher, unwrap)
from ..terms.base import build_loss
from .branches import branches_for
from .levels import feature_strides, probe_maps
from .utils import model_cfg


@registry.MODELS.register_module()
class MBAKT(BaseDistiller):
    """Self-distillation of ``student`` through ``branch``es on its
    backbone ``stages`` (default: all but the last); ``discriminator=None,
    loss_gan=None`` is BYOT. Channels, strides, classes and the branch
    heads are inferred from the student."""

    def __init__(self, student, stages: Optional[Sequence[int]] = None,
                 branch: dict = dict(type='BottleneckBranch'),
                 branch_weight: float = 0.7,
                 loss_kd=dict(type='KDLoss', temperature=3.0,
                              loss_weight=0.3),
                 loss_hint=dict(type='FeatureMSELoss', loss_weight=0.03),
                 discriminator=dict(type='PatchDiscriminator'),
                 loss_gan=dict(type='GANLoss', loss_weight=0.3),
                 probe_size=None, teacher=None, teacher_ckpt=None, **kwargs):
        refuse_teacher(type(self).__name__, "self-distillation: the "
                       "student's branches teach each other", teacher,
                       teacher_ckpt)
        check_gan(discriminator, loss_gan, 'BYOT')
        branch, loss_kd, loss_hint, discriminator, loss_gan = (
            self.merged(n, v) for n, v in (
                ('branch', branch), ('loss_kd', loss_kd),
                ('loss_hint', loss_hint), ('discriminator', discriminator),
                ('loss_gan', loss_gan)))
        cfg = model_cfg(student, 'student')
        super().__init__(cfg, **kwargs)
        self.branch_weight = check_loss_weight(branch_weight, 'branch')
        self.loss_kd = build_loss(loss_kd, 'loss_kd')
        self.loss_hint = build_loss(loss_hint, 'loss_hint')
        self.loss_gan = build_loss(loss_gan, 'loss_gan')
        self.task = task_of(self.student, self.student)
        self.branching = branches_for(self.task)
        stage_maps, targets, scores, size = self._probe(probe_size)
        n = len(stage_maps)
        self.stages = list(range(n - 1) if stages is None else stages)
        if not self.stages or any(s not in range(n - 1) for s in self.stages):
            raise ValueError(
                f'stages={stages}: the student\'s backbone has {n} stages '
                f'(0-{n - 1}); branch on stages before the last (the main '
                'output), e.g. stages=None for all of them.')
        s_strides = feature_strides(stage_maps, size)
        t_strides = feature_strides(targets, size)
        self.targets, branches = [], []
        for s in self.stages:
            t, head = self.branching.branch_cfg(cfg, s_strides[s], t_strides, [
                m.shape[1] for m in targets], scores[0])
            self.targets.append(t)
            branches.append(registry.MODELS.build(dict(
                branch, in_channels=stage_maps[s].shape[1],
                out_channels=targets[t].shape[1],
                stride=t_strides[t] // s_strides[s], **head)))
        # mmengine's ModuleList: init_weights reaches each branch (its
        # convs, its dense head's prior) as it reaches the student
        self.branches = ModuleList(branches)
        # class scores per anchor (a softmax detector's include background)
        self.channels = getattr(getattr(self.student, 'bbox_head', None),
                                'cls_out_channels', scores[0].shape[1])
        self.discriminator = None if discriminator is None else \
            registry.MODELS.build(dict(discriminator,
                                       in_channels=scores[0].shape[1]))

    def _probe(self, size):
        """Stage maps, target maps and class scores of a blank image."""
        task, student = self.task, self.student
        size = size or task.probe_size
        maps = probe_maps(task, dict(student=student), size)[0]
        self.branching.watch_stages()
        strides = feature_strides(maps, size)
        kd = self.loss_kd or registry.MODELS.build(dict(type='KDLoss'))
        task.setup_kd([(i, i) for i in range(len(maps))], strides, strides,
                      kd)  # sets use_sigmoid from the student's head
        self.sigmoid, self.temperature = kd.use_sigmoid, kd.temperature
        task.watch_student(kd=True)
        with torch.no_grad(), evaluating(student), task.recording() as rec:
            self.branching.run_head(torch.zeros(1, 3, size, size))
            return (self.branching.stage_maps(rec),
                    *self.branching.outputs(rec), size)

    def distill_loss_names(self) -> List[str]:
        return [n for n, loss in (('loss_kd', self.loss_kd),
                                  ('loss_hint', self.loss_hint),
                                  ('loss_adv', self.discriminator))
                if loss is not None]

    def _rows(self, x):
        """Class scores ``(N, C)`` or ``(N, A*C, H, W)`` as ``(n, C)``."""
        return x.movedim(1, -1).reshape(-1, self.channels)

    def probabilities(self, x):
        """Softened class probabilities as maps, as the discriminator sees
        them."""
        x = (x if x.dim() == 4 else x[..., None, None]) / self.temperature
        if self.sigmoid:
            return x.sigmoid()
        n, _, h, w = x.shape
        return x.view(n, -1, self.channels, h, w).softmax(2).view(
            n, -1, h, w)

    def forward_train(self, state) -> Dict:
        """The student's and every branch's task losses and, while
        distillation is on, the ``distill.*`` terms; puts the
        discriminator's inputs in ``state`` (``reals``, ``fakes``)."""
        inputs, samples = state['inputs'], state['data_samples']
        with self.task.recording() as rec:
            losses = {f'student.{k}': v for k, v in self.student(
                inputs, samples, mode='loss').items()}
            if not self.schedule.distill:
                return losses
            stage_maps = self.branching.stage_maps(rec)
            targets, scores = self.branching.outputs(rec)
        w, feats, outs = self.branch_weight, [], []
        for k, (s, t) in enumerate(zip(self.stages, self.targets)):
            feat, out = self.branches[k](stage_maps[s], targets[t].shape[-2:])
            feats.append(feat)
            outs.append(out if torch.is_tensor(out) else out[0][0])
            losses.update(
                (f'branch{k}.{n}', [x * w for x in v] if isinstance(
                    v, (list, tuple)) else v * w)
                for n, v in self.branching.branch_loss(
                    unwrap(self.branches[k]), out, samples).items())
        ensemble = [torch.stack([scores[t]] + [
            o for o, u in zip(outs, self.targets) if u == t]).mean(0).detach()
            for t in range(len(scores))]
        real = [ensemble[t] for t in self.targets]
        if self.loss_kd is not None:
            losses['distill.loss_kd'] = sum(
                self.loss_kd(self._rows(o), self._rows(e))
                for o, e in zip(outs, real))
        if self.loss_hint is not None:
            losses['distill.loss_hint'] = sum(
                self.loss_hint(f, targets[t].detach())
                for f, t in zip(feats, self.targets))
        if self.discriminator is not None:
            fakes = [self.probabilities(o) for o in outs]
            state.update(reals=[self.probabilities(e) for e in real],
                         fakes=fakes)
            losses['distill.loss_adv'] = sum(
                self.loss_gan(x) for x in judged(self.discriminator, fakes))
        return losses

    def discriminator_losses(self, state) -> Dict:
        """The ensemble's probabilities real, each branch's fake."""
        return {'disc.loss_d': discriminator_loss(
            self.discriminator, self.loss_gan, state['reals'],
            state['fakes'])}

    def predictors(self) -> Dict[str, Callable]:
        """``val_step`` of each branch, for EnsembleEvalHook."""
        return {f'branch{k}': functools.partial(self._branch_step, k)
                for k in range(len(self.branches))}

    @torch.no_grad()
    def _branch_step(self, k: int, data) -> list:
        data = self.data_preprocessor(data, False)
        with self.task.recording() as rec:
            self.branching.run_head(data['inputs'])
            stage = self.branching.stage_maps(rec)[self.stages[k]]
        branch = unwrap(self.branches[k])
        return self.branching.branch_predict(branch, branch(stage)[1],
                                             data['data_samples'])

    def parts(self) -> Dict[str, List[str]]:
        return dict(student=['student', 'branches'], disc=['discriminator'])

    def updates(self) -> List[Update]:
        return [
            Update('student', 'student', self.forward_train),
            Update('discriminator', 'disc', self.discriminator_losses,
                   adversary=True,
                   active=lambda: self.discriminator is not None),
        ]
