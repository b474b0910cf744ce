"""The core of self-distillation: branches on the student's backbone
stages that predict as the student does, cost nothing at inference and
train in the student's part; the terms teach them (and the student)."""
import functools
from typing import Callable, Dict, Optional, Sequence

import torch
from mmengine.model import ModuleList

from mmkd import registry
from ..tasks import evaluating, task_of
from ..terms import BranchStep
from .base_distiller import BaseDistiller
from .branches import branches_for
from .levels import feature_strides, probe_maps
from .updates import refuse_teacher, unwrap
from .utils import model_cfg


class SelfDistiller(BaseDistiller):
    """The student and a ``branch`` on each of its backbone ``stages``
    (default: all but the last). A branch predicts at its target: a
    classifier's last stage, or a detector's neck level of the next stride
    (a light copy of its dense head). Channels, strides, classes and the
    branch heads are inferred from the student; the terms get each
    branch's feature and output (:class:`~mmkd.models.terms.BranchStep`).

    Args:
        stages (list[int], optional): The stages branched on.
        branch (dict): ``BottleneckBranch``; channels, stride and head
            filled in.
    """
    role_children = ('student', 'branches')

    def __init__(self, student, stages: Optional[Sequence[int]] = None,
                 branch: dict = dict(type='BottleneckBranch'),
                 probe_size=None, teacher=None, teacher_ckpt=None, **kwargs):
        refuse_teacher(type(self).__name__, "self-distillation: the "
                       "student's branches teach each other", teacher,
                       teacher_ckpt)
        terms = self.terms(self.method_config(
            {k: kwargs.pop(k) for k in list(kwargs) if k in self.defaults}))
        branch = self.merged('branch', branch)
        cfg = model_cfg(student, 'student')
        super().__init__(cfg, **kwargs)
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
        self.score_channels = scores[0].shape[1]
        self.method_terms = terms
        for term in terms:
            term.build(self)

    def _probe(self, size):
        """Stage maps, target maps and class scores of a blank image; sets
        ``sigmoid``: whether the student scores classes by sigmoids."""
        task, student = self.task, self.student
        size = size or task.probe_size
        maps = probe_maps(task, dict(student=student), size)[0]
        self.branching.watch_stages()
        strides = feature_strides(maps, size)
        kd = registry.MODELS.build(dict(type='KDLoss'))
        task.setup_kd([(i, i) for i in range(len(maps))], strides, strides,
                      kd)  # sets use_sigmoid from the student's head
        self.sigmoid = kd.use_sigmoid
        task.watch_student(kd=True)
        with torch.no_grad(), evaluating(student), task.recording() as rec:
            self.branching.run_head(torch.zeros(1, 3, size, size))
            return (self.branching.stage_maps(rec),
                    *self.branching.outputs(rec), size)

    def rows(self, x):
        """Class scores ``(N, C)`` or ``(N, A*C, H, W)`` as ``(n, C)``."""
        return x.movedim(1, -1).reshape(-1, self.channels)

    def forward_train(self, state) -> Dict:
        """The student's task losses and, while distillation is on, every
        branch's forward and the terms' losses (the branches' task losses
        among them); puts the :class:`BranchStep` in ``state['step']``."""
        inputs, samples = state['inputs'], state['data_samples']
        with self.task.recording() as rec:
            losses = {f'student.{k}': v for k, v in self.student(
                inputs, samples, mode='loss').items()}
            if not self.schedule.distill:
                return losses
            stage_maps = self.branching.stage_maps(rec)
            targets, scores = self.branching.outputs(rec)
        feats, outs = zip(*(
            self.branches[k](stage_maps[s], targets[t].shape[-2:])
            for k, (s, t) in enumerate(zip(self.stages, self.targets))))
        logits = [o if torch.is_tensor(o) else o[0][0] for o in outs]
        # per target, the mean of the main output's and its branches'
        ensemble = [torch.stack([scores[t]] + [
            o for o, u in zip(logits, self.targets) if u == t]).mean(0)
            .detach() for t in range(len(scores))]
        step = state['step'] = BranchStep(
            inputs, samples, [targets[t] for t in self.targets], list(feats),
            list(outs), logits, [ensemble[t] for t in self.targets])
        for term in self.method_terms:
            losses.update(term.losses(self, step))
        return losses

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
