"""The core of online distillation: K networks train together from
scratch, network 0 the student (validated and exported) and peers 1..K-1,
network k learning from network k-1 (network 0 from network K-1)."""
from typing import Callable, Dict, List, Sequence

from mmengine.model import ModuleList

from ..tasks import task_of
from ..terms import PeerStep
from .base_distiller import BaseDistiller
from .levels import feature_strides, pair_levels, probe_maps
from .updates import refuse_teacher, unwrap
from .utils import build_model, model_cfg


class OnlineDistiller(BaseDistiller):
    """The student and its ``peers`` (any architectures of its task and
    classes), each a child saved in checkpoints and trained in the
    student's part (or its own, ``optim_wrapper.peerk``). One task adapter
    per network k records it, with network k-1 as its source; the terms
    get every network's forward (:class:`~mmkd.models.terms.PeerStep`)."""
    role_children = ('student', 'peers')
    first_update = 'logit'

    def __init__(self, student, peers: Sequence, probe_size=None,
                 teacher=None, teacher_ckpt=None, **kwargs):
        name = type(self).__name__
        refuse_teacher(name, 'online: its networks train together from '
                       'scratch', teacher, teacher_ckpt)
        if not isinstance(peers, (list, tuple)) or not peers:
            raise ValueError(f'{name} trains K >= 2 networks: give at least '
                             'one peer besides the student, peers=[...]')
        terms = self.terms(self.method_config(
            {k: kwargs.pop(k) for k in list(kwargs) if k in self.defaults}))
        super().__init__(student, **kwargs)
        # mmengine's ModuleList: init_weights reaches each peer, which gets
        # its own config's initialisation as in the plain toolbox
        self.peers = ModuleList(
            build_model(model_cfg(p, f'peer {i + 1}'))
            for i, p in enumerate(peers))
        self.method_terms = terms
        self._pair_networks(probe_size)
        for term in terms:
            term.build(self)
        for task in self.tasks:
            task.watch_student(kd=any(t.needs_logits for t in terms))

    def _pair_networks(self, probe_size) -> None:
        """Per network k: its task adapter (``tasks``), its distilled level
        pairs with network k-1 (``levels``), their ``strides`` and
        ``channels`` (network k's, network k-1's)."""
        nets = self.nets()
        self.tasks = [task_of(nets[k], nets[k - 1]) for k in range(len(nets))]
        size = probe_size or self.tasks[0].probe_size
        self.levels, self.strides, self.channels = [], [], []
        for k, task in enumerate(self.tasks):
            maps = probe_maps(task, {f'network {k}': nets[k], f'network '
                                     f'{(k - 1) % len(nets)}': nets[k - 1]},
                              size)
            strides = [feature_strides(m, size) for m in maps]
            pairs = task.default_pairs(*strides) or pair_levels(
                *strides, 'stride', task)
            self.levels.append(pairs)
            self.strides.append(strides)
            self.channels.append(([maps[0][i].shape[1] for i, _ in pairs],
                                  [maps[1][j].shape[1] for _, j in pairs]))

    def nets(self) -> List:
        return [self.student, *self.peers]

    def networks(self) -> Dict[str, str]:
        """Peer k may have an optimizer of its own: ``optim_wrapper.peerk``."""
        return {f'peer{k}': f'peers.{k - 1}'
                for k in range(1, len(self.peers) + 1)}

    def predictors(self) -> Dict[str, Callable]:
        """``val_step`` of each peer, for EnsembleEvalHook."""
        return {f'peer{k}': unwrap(p).val_step
                for k, p in enumerate(self.peers, 1)}

    def forward_train(self, state) -> Dict:
        """Every network's task losses and, while distillation is on, the
        terms' ``distill.*`` losses over every network's forward."""
        inputs, samples = state['inputs'], state['data_samples']
        losses, outs = {}, []
        for k, (net, task) in enumerate(zip(self.nets(), self.tasks)):
            with task.recording() as records:
                prefix = 'student' if k == 0 else f'peer{k}'
                losses.update((f'{prefix}.{n}', v) for n, v in net(
                    inputs, samples, mode='loss').items())
                outs.append(task.features(records))
                outs[-1].strides = self.strides[k][0]
        if self.schedule.distill:
            step = PeerStep(inputs, samples, outs)
            for term in self.method_terms:
                losses.update(term.losses(self, step))
        return losses
